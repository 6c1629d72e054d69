// The kernel's own gdb stub (like Linux's kgdb, FreeBSD's gdb(4)): the GDB Remote Serial
// Protocol on a serial port, every CPU a thread (thread id = CPU index + 1). The protocol
// is gdbstub::Session (portable, host-tested, src/gdbstub/); this is the kernel's side of
// it: the UART it talks through, the machine it stops and resumes (debug/stop.hpp), the
// saved frames it reads registers from, memory through each CPU's page tables,
// breakpoints (int3 written through the direct map, and the debug registers shared with
// the monitor's `break`/`watch`), and the monitor's read-only commands for `monitor`.
//
// How gdb gets in:
//  - the stub's port (debug.gdb=com2 by default): gdb's first packet (qSupported) while the
//    machine runs is seen by a poll timer on two CPUs (the BSP and the last online CPU, so
//    one of them answers even when the other spins with interrupts off): the machine stops
//    and the session starts; ^C (0x03) while gdb waits stops it again;
//  - the monitor's `gdb` command: the stub takes the console's own port until gdb detaches;
//  - debug.gdb.wait: the boot stops before AP bring-up until gdb attaches and continues.
// While the machine is stopped, the stop shell (kstop>) and gdb are served together: either
// may resume it, and each says what the other did. A panic reports to gdb too (SIGSEGV for
// a page fault, SIGILL for #UD, ...), and the panic shell keeps answering it.
#pragma once
#include "arch/trap_frame.hpp"
#include "debug/stop.hpp"
#include "lib/fmt.hpp"

namespace debug::gdb {

// The stub's port (0: none), chosen at boot (boot/ports.cpp); the boot report's line.
void init(u16 port, const char* note);
bool enabled();
u16 port();
void describe(lib::Sink& out);  // "gdb: ..." for the boot report and the `gdb` command
// After AP bring-up: the poll timers on the BSP and on the last online CPU.
void start_polling();
// debug.gdb.wait, at boot: stops the machine here until gdb has attached and resumed it.
void wait_for_gdb();
// The monitor's `gdb`: the stub moves to the console's port (the console then prints only
// into the kernel log) and the machine waits for gdb there; the console comes back when
// gdb detaches. nullptr, or why it cannot.
const char* take_console();
bool owns_console();  // the console's port carries gdb's protocol right now
bool attached();      // a gdb session is open (it attached and did not detach)

// The stop shell's loop calls this each turn while the machine is stopped: it sends gdb the
// stop reply if gdb waits for one, then serves gdb's packets. True when gdb resumed the
// machine (or detached): *plan says how, *what says what gdb did (for kstop>).
// `first`: the first call of this stop.
bool serve_stop(const StopInfo& why, bool first, ResumePlan* plan, const char** what);
// The monitor resumed the machine itself (kstop>'s continue or step): if gdb thinks it is
// stopped, the next packet from gdb stops it again, and gdb is told at its next resume.
void monitor_resumed();
// The panic shell's loop: the machine cannot resume; gdb is told so when it tries. f: the
// frame the panicking CPU stopped at (its vector gives the signal gdb sees).
void serve_panic(const arch::TrapFrame* f, bool first);

// How `monitor <cmd>` runs a command (the monitor registers its runner at boot).
void set_command_runner(bool (*run)(const char* line, lib::Sink& out));

// An int3 the stub planted (a gdb software breakpoint) at addr.
bool is_software_breakpoint(u64 addr);

// Puts the code back into a copy of memory the monitor read (x, x/i, dis, a stop's
// instruction line): the bytes gdb's int3s replaced, found by the address gdb planted at,
// by its direct-map alias, or (physical) by the frame they are in.
void unshadow_virtual(u64 va, u8* buf, usize n);
void unshadow_physical(u64 pa, u8* buf, usize n);

}  // namespace debug::gdb
