// What the protocol core needs from the machine it debugs, and how it talks to gdb.
// The kernel implements Target (CPUs stopped, their saved frames, page-table checked
// memory access, debug registers, the monitor) and Transport (the gdb UART); the host
// tests implement both with fakes. The Session calls a Target only while the machine is
// stopped (between the caller's report_stop() and the Resume, Detach or Kill action it
// hands back), always from the one CPU that feeds it, never re-entrantly.
#pragma once
#include "gdbstub/protocol.hpp"
#include "gdbstub/regs.hpp"
#include "lib/fmt.hpp"
#include "lib/types.hpp"

namespace gdbstub {

// The byte stream to gdb. write() sends every byte before it returns (a UART polls its
// transmitter; the host server writes to its socket). The Session never reads: the
// caller feeds it the bytes it received (Session::feed).
class Transport {
 public:
  virtual void write(const u8* data, usize n) = 0;

 protected:
  ~Transport() = default;
};

// How a Target operation went; the Session turns it into the reply.
enum class Status : u8 {
  Ok,           // "OK" (or the data asked for)
  Unsupported,  // there is no such thing here: the empty reply (RSP: "not supported")
  Fault,        // an address that cannot be accessed: E14 (EFAULT, as QEMU's stub)
  Invalid,      // an argument refused (a register that cannot be written, a bad length): E22 (EINVAL)
  NoSpace,      // out of resources, e.g. all four debug registers in use: E28 (ENOSPC)
};

// Z/z packet types (RSP "Packets", Z type,addr,kind).
enum class BreakpointKind : u8 {
  Software = 0,     // Z0: kind = instruction length to patch (1 on x86: int3)
  Hardware = 1,     // Z1: execution breakpoint in a debug register
  WriteWatch = 2,   // Z2: kind = length watched
  ReadWatch = 3,    // Z3: x86 has none (SDM Vol. 3B, 18.2.4: R/W = 11b is read *or* write)
  AccessWatch = 4,  // Z4: read or write
};

class Target {
 public:
  // --- threads: one per CPU, tid = CPU index + 1 -------------------------------------
  // The threads gdb may see, usually every online CPU; the list must not change while the
  // machine is stopped. next_thread(0) is the first, next_thread(t) the one after t (the
  // smallest tid above t), 0 when there is none: a walk costs O(CPUs), not O(CPUs^2).
  virtual ThreadId next_thread(ThreadId after) = 0;
  // Whether tid is one of those threads. Asked on every Hg, which gdb sends once per thread
  // in `info threads`: it must not walk the list (255 x 255 steps cost 5 ms per packet).
  virtual bool has_thread(ThreadId tid) = 0;
  // A short text gdb shows in `info threads`, e.g. "cpu 3 apic 6 online" (qThreadExtraInfo);
  // longer than kMaxExtraInfo characters is cut.
  virtual void thread_extra_info(ThreadId tid, lib::Sink& out) = 0;

  // --- registers -----------------------------------------------------------------------
  // Fills in tid's registers as saved when the machine stopped. regs arrives cleared
  // (every register unavailable); leave unavailable what you do not have, gdb shows it
  // as <unavailable>.
  virtual void read_registers(ThreadId tid, RegFile& regs) = 0;
  // Writes the registers available in regs (only those gdb changed: the Session compares
  // with read_registers first), to take effect when tid resumes. Ok, or Invalid for a
  // register that cannot be changed (then nothing of this call should be applied).
  [[nodiscard]] virtual Status write_registers(ThreadId tid, const RegFile& regs) = 0;

  // --- memory, as seen by tid (its address space) ---------------------------------------
  // Copies up to len bytes at addr; returns how many were readable from addr on (0 if
  // addr itself is not): a partial read is answered with the readable prefix.
  [[nodiscard]] virtual usize read_memory(ThreadId tid, u64 addr, u8* out, usize len) = 0;
  // Writes len bytes at addr; returns how many were written. Anything short of len is an
  // error reply. (If insert_breakpoint refuses Z0, gdb plants int3 itself through here,
  // so kernel text would have to be writable to it despite W^X.)
  [[nodiscard]] virtual usize write_memory(ThreadId tid, u64 addr, const u8* data, usize len) = 0;

  // --- breakpoints and watchpoints, on every CPU ------------------------------------------
  // length: for Software/Hardware the instruction length gdb gives (1 on x86), for the
  // watches the bytes watched (1, 2, 4 or 8; the kernel may refuse others or unaligned
  // ones with Invalid). Inserting what is already there, or removing what is not, answers
  // Ok. Unsupported is the empty reply, after which gdb never sends that Z type again:
  //  - Z0: gdb writes int3 into memory itself (see write_memory);
  //  - Z3 (ReadWatch): answer Unsupported. gdb 13 then sets an access watchpoint (Z4)
  //    instead and reports only the hits that left the value unchanged, as it does on
  //    x86 natively. An error reply instead makes gdb print "Could not insert hardware
  //    watchpoint ... You may have requested too many hardware breakpoints/watchpoints"
  //    and refuse every resume until the user deletes the watchpoint (measured, see
  //    test_gdbstub_fake.py).
  // NoSpace when DR0-DR3 are all taken (gdb prints the same "too many" message).
  [[nodiscard]] virtual Status insert_breakpoint(BreakpointKind kind, u64 addr, u64 length) = 0;
  [[nodiscard]] virtual Status remove_breakpoint(BreakpointKind kind, u64 addr, u64 length) = 0;

  // --- `monitor <line>` (qRcmd) ---------------------------------------------------------
  // Runs a command, writing its output to out as it goes (each complete line reaches gdb
  // right away, as an 'O' packet). line is NUL-terminated, without the newline. Ok gives
  // gdb "OK"; anything else an error reply (write an explanation to out first).
  [[nodiscard]] virtual Status monitor_command(const char* line, lib::Sink& out) = 0;

 protected:
  ~Target() = default;
};

// Why a thread stopped, as the stop reply tells gdb (RSP "Stop Reply Packets").
enum class StopReason : u8 {
  None,         // a single step finished, an interrupt, the attach
  SwBreak,      // "swbreak:": an int3 of a Z0 breakpoint (rip is after the int3 until
                // the Target rewinds it; gdb expects rip AT the breakpoint)
  HwBreak,      // "hwbreak:": a debug-register execution breakpoint (Z1)
  Watch,        // "watch:<addr>": a write watchpoint (Z2) fired
  ReadWatch,    // "rwatch:<addr>"
  AccessWatch,  // "awatch:<addr>"
};

struct StopEvent {
  u64 watch_addr = 0;  // the data address for the three watch reasons
  ThreadId tid = 1;    // the thread that stopped (CPU index + 1)
  u8 signal = kSigTrap;
  StopReason reason = StopReason::None;
};

}  // namespace gdbstub
