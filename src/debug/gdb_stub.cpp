#include "debug/gdb_stub.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/serial.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "debug/panic.hpp"
#include "gdbstub/session.hpp"
#include "kernel/console.hpp"
#include "lib/spinlock.hpp"
#include "lib/string.hpp"
#include "mm/kvm.hpp"
#include "mm/layout.hpp"
#include "mm/pt_walk.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace debug::gdb {
namespace {
using gdbstub::BreakpointKind;
using gdbstub::Event;
using gdbstub::Reg;
using gdbstub::RegFile;
using gdbstub::State;
using gdbstub::Status;
using gdbstub::ThreadId;

// How often the poll timers look at the stub's port while the machine runs: gdb's ^C and
// its first packet are seen within this (the issue asks for a stop within 100 ms).
constexpr u64 kPollPeriodUs = 20000;
// While the machine runs, a poll that finds a byte reads on until the line has been quiet
// this long (a byte takes 87 us at 115200 baud) or for this long at most.
constexpr u64 kQuietUs = 2000, kMaxReadUs = 50000;
// A packet the line stopped sending in the middle of is dropped after this long.
constexpr u64 kQuietLineUs = 1000000;
constexpr u8 kInt3 = 0xcc;
constexpr usize kMaxSoftwareBreakpoints = 64;
// gdb's own signal numbers (include/gdb/signals.def) for the exceptions a panic reports.
constexpr u8 kSigIll = 4, kSigFpe = 8, kSigBus = 10, kSigSegv = 11;

u16 g_port;       // the port the stub talks on now
u16 g_boot_port;  // the one boot gave it (0: none)
char g_note[160];
bool g_console_taken;    // g_port is the console's (the monitor's `gdb`)
bool g_gdb_present;      // a gdb opened a session (qSupported) and did not detach
bool g_interrupted;      // the stop being reported is gdb's own ^C
bool g_monitor_resumed;  // the monitor let the machine run while gdb thought it stopped
bool (*g_runner)(const char* line, lib::Sink& out);
lib::OwnerLock g_rx;  // one CPU feeds the session at a time
u64 g_last_byte_tsc;

struct SoftwareBreakpoint {
  bool used;
  u64 addr;
  u8* alias;  // the byte through the direct map (text is read-only where it runs)
  u8 original;
};
SoftwareBreakpoint g_sw[kMaxSoftwareBreakpoints];

// The debug-register slots gdb set (Z1-Z4), to remove on z, detach or a new gdb.
struct HardwareBreakpoint {
  bool used;
  BreakpointKind kind;
  u64 addr, length;
  unsigned slot;
};
HardwareBreakpoint g_hw[kDebugRegs];

smp::PerCpu* cpu_of(ThreadId tid) { return tid == 0 ? nullptr : smp::cpu(tid - 1); }

bool is_thread(const smp::PerCpu* p) {
  if (p == nullptr) return false;
  smp::CpuState s = p->state.load();
  return s != smp::CpuState::Offline && s != smp::CpuState::Starting && s != smp::CpuState::Failed;
}

// The byte at va through the page tables at cr3: its direct-map alias, or nullptr if va is
// not mapped (or is MMIO, never touched), or (write) not writable.
u8* alias_of(u64 cr3, u64 va, bool write) {
  if (!mm::layout::is_canonical(va) || mm::layout::region_of(va) == mm::layout::Region::Device) return nullptr;
  mm::WalkResult r = mm::walk(mm::kvm::phys(), cr3, va);
  if (!r.mapped || (write && !r.write)) return nullptr;
  return const_cast<u8*>(mm::kvm::phys().map(r.pa, 1));
}

class Uart final : public gdbstub::Transport {
 public:
  void write(const u8* data, usize n) override {
    for (usize i = 0; i < n; ++i) arch::serial::put(g_port, static_cast<char>(data[i]));
  }
};

class KernelTarget final : public gdbstub::Target {
 public:
  ThreadId next_thread(ThreadId after) override {
    for (u64 i = after; i < smp::g_cpu_count; ++i)  // thread after + 1 is CPU after
      if (is_thread(smp::g_cpus[i].percpu)) return static_cast<ThreadId>(i + 1);
    return 0;
  }
  bool has_thread(ThreadId tid) override { return is_thread(cpu_of(tid)); }
  void thread_extra_info(ThreadId tid, lib::Sink& out) override {
    smp::PerCpu* p = cpu_of(tid);
    if (p == nullptr) return;
    lib::format(out, "cpu %lu apic %u %s", p->index, p->apic_id, smp::cpu_state_name(p->state.load()));
  }

  void read_registers(ThreadId tid, RegFile& regs) override {
    smp::PerCpu* p = cpu_of(tid);
    if (p == nullptr || p->stopped_frame == nullptr) return;  // nothing saved: all unavailable
    const arch::TrapFrame& f = p->stopped_copy;
    const auto& s = p->stopped_sys;
    const u64 gprs[] = {f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp, f.rsp,
                        f.r8,  f.r9,  f.r10, f.r11, f.r12, f.r13, f.r14, f.r15};
    for (usize i = 0; i < 16; ++i) regs.set_u64(static_cast<Reg>(static_cast<usize>(Reg::Rax) + i), gprs[i]);
    regs.set_u64(Reg::Rip, f.rip);
    regs.set_u64(Reg::Eflags, f.rflags);
    regs.set_u64(Reg::Cs, f.cs);
    regs.set_u64(Reg::Ss, f.ss);
    regs.set_u64(Reg::Ds, s.ds);
    regs.set_u64(Reg::Es, s.es);
    regs.set_u64(Reg::Fs, s.fs);
    regs.set_u64(Reg::Gs, s.gs);
    regs.set_u64(Reg::FsBase, s.fs_base);
    regs.set_u64(Reg::GsBase, s.gs_base);
    regs.set_u64(Reg::KernelGsBase, s.kernel_gs_base);
    regs.set_u64(Reg::Cr0, s.cr0);
    regs.set_u64(Reg::Cr2, s.cr2);
    regs.set_u64(Reg::Cr3, s.cr3);
    regs.set_u64(Reg::Cr4, s.cr4);
    regs.set_u64(Reg::Cr8, s.cr8);
    regs.set_u64(Reg::Efer, s.efer);
    // The x87 and SSE registers are not saved (the kernel never uses them:
    // -mgeneral-regs-only): unavailable, never a made-up 0.
  }

  Status write_registers(ThreadId tid, const RegFile& regs) override {
    smp::PerCpu* p = cpu_of(tid);
    if (p == nullptr || p->stopped_frame == nullptr) return Status::Invalid;
    // Only what the saved frame gives back when the CPU resumes: the general registers,
    // rip and rflags. Segments, bases, control registers and EFER are refused.
    for (usize i = 0; i < gdbstub::kNumRegs; ++i) {
      Reg r = static_cast<Reg>(i);
      if (!regs.available(r)) continue;
      if (i > static_cast<usize>(Reg::Eflags)) return Status::Invalid;
    }
    arch::TrapFrame& f = p->stopped_copy;
    u64* gprs[] = {&f.rax, &f.rbx, &f.rcx, &f.rdx, &f.rsi, &f.rdi, &f.rbp, &f.rsp,
                   &f.r8,  &f.r9,  &f.r10, &f.r11, &f.r12, &f.r13, &f.r14, &f.r15};
    for (usize i = 0; i < 16; ++i) {
      Reg r = static_cast<Reg>(static_cast<usize>(Reg::Rax) + i);
      if (regs.available(r)) *gprs[i] = regs.get_u64(r);
    }
    if (regs.available(Reg::Rip)) f.rip = regs.get_u64(Reg::Rip);
    if (regs.available(Reg::Eflags)) f.rflags = regs.get_u64(Reg::Eflags);
    return Status::Ok;
  }

  usize read_memory(ThreadId tid, u64 addr, u8* out, usize len) override {
    u64 cr3 = cr3_of(tid);
    usize got = 0;
    for (; got < len; ++got) {
      const u8* a = alias_of(cr3, addr + got, false);
      if (a == nullptr || addr + got < addr) break;
      out[got] = *a;
    }
    // gdb sees the code, not the int3s it planted.
    for (const SoftwareBreakpoint& b : g_sw)
      if (b.used && b.addr >= addr && b.addr - addr < got) out[b.addr - addr] = b.original;
    return got;
  }

  usize write_memory(ThreadId tid, u64 addr, const u8* data, usize len) override {
    u64 cr3 = cr3_of(tid);
    for (usize i = 0; i < len; ++i)  // all or nothing: check every byte first
      if (alias_of(cr3, addr + i, true) == nullptr) return 0;
    for (usize i = 0; i < len; ++i) *alias_of(cr3, addr + i, true) = data[i];
    return len;
  }

  Status insert_breakpoint(BreakpointKind kind, u64 addr, u64 length) override {
    switch (kind) {
      case BreakpointKind::Software: return insert_int3(addr);
      case BreakpointKind::ReadWatch: return Status::Unsupported;  // see gdbstub/target.hpp
      default: break;
    }
    for (const HardwareBreakpoint& h : g_hw)
      if (h.used && h.kind == kind && h.addr == addr && h.length == length) return Status::Ok;
    BpKind bk = kind == BreakpointKind::Hardware     ? BpKind::Exec
                : kind == BreakpointKind::WriteWatch ? BpKind::Write
                                                     : BpKind::ReadWrite;
    if (length > 8) return Status::Invalid;
    unsigned slot = 0;
    if (const char* why = add_breakpoint(bk, addr, static_cast<u8>(bk == BpKind::Exec ? 1 : length), &slot))
      return lib::starts_with(why, "all four") ? Status::NoSpace : Status::Invalid;
    g_hw[slot] = HardwareBreakpoint{true, kind, addr, length, slot};
    (void)apply_breakpoints_everywhere();  // stopped: every CPU loads them when it runs again
    return Status::Ok;
  }

  Status remove_breakpoint(BreakpointKind kind, u64 addr, u64 length) override {
    if (kind == BreakpointKind::Software) {
      remove_int3(addr);
      return Status::Ok;
    }
    for (HardwareBreakpoint& h : g_hw) {
      if (!h.used || h.kind != kind || h.addr != addr || h.length != length) continue;
      (void)delete_breakpoint(h.slot);
      h = HardwareBreakpoint{};
      (void)apply_breakpoints_everywhere();
    }
    return Status::Ok;
  }

  Status monitor_command(const char* line, lib::Sink& out) override {
    if (g_runner == nullptr) {
      lib::format(out, "error: no monitor\n");
      return Status::Invalid;
    }
    return g_runner(line, out) ? Status::Ok : Status::Invalid;
  }

 private:
  static u64 cr3_of(ThreadId tid) {
    smp::PerCpu* p = cpu_of(tid);
    return p != nullptr && p->stopped_frame != nullptr ? p->stopped_sys.cr3 : arch::read_cr3();
  }

  static Status insert_int3(u64 addr) {
    if (is_software_breakpoint(addr)) return Status::Ok;
    if (!mm::kvm::is_executable(addr)) return Status::Fault;  // no code there: it could never be hit
    u8* a = alias_of(arch::read_cr3(), addr, false);
    if (a == nullptr) return Status::Fault;
    for (SoftwareBreakpoint& b : g_sw) {
      if (b.used) continue;
      b = SoftwareBreakpoint{true, addr, a, *a};
      // Every CPU is stopped (held in its NMI handler, whose iret serializes), so no CPU
      // runs this code while it changes (SDM Vol. 3A 9.1.3, cross-modifying code).
      *a = kInt3;
      return Status::Ok;
    }
    return Status::NoSpace;
  }

  static void remove_int3(u64 addr) {
    for (SoftwareBreakpoint& b : g_sw) {
      if (!b.used || b.addr != addr) continue;
      *b.alias = b.original;
      b = SoftwareBreakpoint{};
    }
  }
};

KernelTarget g_target;
Uart g_uart;
gdbstub::Session g_session(g_target, g_uart);

// Every breakpoint gdb left in the machine: on detach, and when a new gdb arrives
// without the old one having detached (it vanished).
void remove_gdbs_breakpoints() {
  for (SoftwareBreakpoint& b : g_sw)
    if (b.used) {
      *b.alias = b.original;
      b = SoftwareBreakpoint{};
    }
  bool any = false;
  for (HardwareBreakpoint& h : g_hw)
    if (h.used) {
      (void)delete_breakpoint(h.slot);
      h = HardwareBreakpoint{};
      any = true;
    }
  if (any) (void)apply_breakpoints_everywhere();
}

// While no gdb has a session open, bytes are dropped until the start of a qSupported
// packet, the first thing every gdb sends: line noise on the port (or a 0x03 in it) cannot
// stop the machine, only a gdb can.
constexpr char kHello[] = "$qSupported";
usize g_hello;

Event feed_byte(u8 b) {
  g_last_byte_tsc = arch::rdtsc();
  // Watched on every byte: a qSupported is a new gdb (an old one may have vanished without
  // a detach), and what the old one left in memory goes before the new one is answered.
  bool hello = false;
  if (static_cast<char>(b) == kHello[g_hello]) {
    hello = ++g_hello == sizeof kHello - 1;
    if (hello) g_hello = 0;
  } else {
    g_hello = static_cast<char>(b) == '$' ? 1 : 0;
  }
  if (g_gdb_present) {
    if (hello) remove_gdbs_breakpoints();
    return g_session.feed(b);
  }
  if (!hello) return Event::None;
  g_gdb_present = true;
  remove_gdbs_breakpoints();
  Event ev = Event::None;
  for (usize i = 0; i + 1 < sizeof kHello; ++i) ev = g_session.feed(static_cast<u8>(kHello[i]));
  return ev;
}

// A packet begun and not finished for a second: the line went quiet (gdb killed mid-send,
// noise that looked like a '$'); gdb resends what it still wants.
void drop_stale_packet() {
  if (g_session.in_packet() && arch::rdtsc() - g_last_byte_tsc > arch::tsc::us_to_ticks(kQuietLineUs))
    g_session.drop_partial_packet();
}

gdbstub::StopEvent stop_event(const StopInfo& why) {
  gdbstub::StopEvent ev;
  ev.tid = static_cast<ThreadId>(why.cpu + 1);
  ev.signal = gdbstub::kSigTrap;
  auto gdbs = [](int slot) { return slot >= 0 && g_hw[slot].used; };
  switch (why.why) {
    case StopInfo::Why::Breakpoint:
      if (gdbs(why.slot)) ev.reason = gdbstub::StopReason::HwBreak;
      break;
    case StopInfo::Why::Watchpoint:
      if (gdbs(why.slot)) {
        ev.reason = why.kind == BpKind::Write ? gdbstub::StopReason::Watch : gdbstub::StopReason::AccessWatch;
        ev.watch_addr = why.data_addr;
      }
      break;
    case StopInfo::Why::SoftwareBreakpoint: ev.reason = gdbstub::StopReason::SwBreak; break;
    case StopInfo::Why::Interrupt:
      if (g_interrupted) ev.signal = gdbstub::kSigInt;
      break;
    default: break;
  }
  return ev;
}

// How gdb's resume request (vCont, c, s) lets the machine go on.
ResumePlan plan_of(const gdbstub::Resume& r, u64 here) {
  ResumePlan plan;
  u64 step = kNoCpu;
  bool any_run = false;
  for (u64 i = 0; i < smp::g_cpu_count; ++i) {
    if (!is_thread(smp::g_cpus[i].percpu)) continue;
    gdbstub::ThreadAction a = r.action_for(static_cast<ThreadId>(i + 1));
    if (a.mode == gdbstub::RunMode::Step && step == kNoCpu)
      step = i;
    else if (a.mode != gdbstub::RunMode::Stay)
      any_run = true;  // a second step runs free: gdb steps one thread at a time anyway
  }
  if (r.has_addr) {  // c addr / s addr: that thread resumes there
    arch::TrapFrame* f = resumable_frame(r.addr_tid != 0 ? r.addr_tid - 1 : (step != kNoCpu ? step : here));
    if (f != nullptr) f->rip = r.addr;
  }
  plan.step_cpu = step;
  // A continue of some threads while others stay (scheduler-locking) is a continue of all:
  // the kernel resumes the machine as a whole or holds it whole.
  plan.others_run = step == kNoCpu || any_run;
  return plan;
}

// Handles an event from the session while the machine is stopped; true if it ends the
// stop (*plan, *what filled in).
bool stopped_event(Event ev, const StopInfo& why, ResumePlan* plan, const char** what) {
  switch (ev) {
    case Event::None: return false;
    case Event::Attach:
    case Event::Interrupt: {  // a gdb arrived while stopped: answer it at this stop
      g_interrupted = false;
      Event next = g_session.report_stop(stop_event(why));
      return stopped_event(next, why, plan, what);
    }
    case Event::Resume:
      *plan = plan_of(g_session.resume(), why.cpu);
      *what = plan->step_cpu != kNoCpu ? "gdb single-steps the machine" : "gdb continues the machine";
      if (g_monitor_resumed) {
        (void)g_session.notify(
            "kmon: meanwhile the monitor's `continue` had let the machine run; it stopped again when gdb spoke\n");
        g_monitor_resumed = false;
      }
      return true;
    case Event::Detach:
    case Event::Kill:
      remove_gdbs_breakpoints();
      g_gdb_present = false;
      g_monitor_resumed = false;
      *plan = ResumePlan{};
      *what = ev == Event::Kill ? "gdb killed the session (the kernel runs on)" : "gdb detached";
      if (g_console_taken) {
        g_console_taken = false;
        g_port = g_boot_port;
        kernel::console::set_uart_output(true);
      }
      return true;
  }
  return false;
}

void tick(arch::TrapFrame* f);
void start_tick(void*, const arch::TrapFrame*) { (void)arch::lapic::timer_start_periodic(kPollPeriodUs); }

}  // namespace

void init(u16 port, const char* note) {
  g_port = g_boot_port = port;
  lib::snformat(g_note, sizeof g_note, "%s", note);
  arch::set_trap_handler(arch::vec::kApicTimer, tick);
}

bool enabled() { return g_port != 0; }
u16 port() { return g_port; }
bool owns_console() { return g_console_taken; }
bool attached() { return g_gdb_present; }
void set_command_runner(bool (*run)(const char* line, lib::Sink& out)) { g_runner = run; }

bool is_software_breakpoint(u64 addr) {
  for (const SoftwareBreakpoint& b : g_sw)
    if (b.used && b.addr == addr) return true;
  return false;
}

namespace {
void unshadow(u64 at, u64 start, u8* buf, usize n, u8 original) {
  if (at >= start && at - start < n) buf[at - start] = original;
}
}  // namespace

void unshadow_virtual(u64 va, u8* buf, usize n) {
  for (const SoftwareBreakpoint& b : g_sw) {
    if (!b.used) continue;
    unshadow(b.addr, va, buf, n, b.original);
    unshadow(reinterpret_cast<u64>(b.alias), va, buf, n, b.original);
  }
}

void unshadow_physical(u64 pa, u8* buf, usize n) {
  for (const SoftwareBreakpoint& b : g_sw)
    if (b.used) unshadow(reinterpret_cast<u64>(b.alias) - mm::layout::kDirectMapBase, pa, buf, n, b.original);
}

void describe(lib::Sink& out) {
  if (g_console_taken)
    lib::format(out, "gdb: the stub has the console's port, %s\n", arch::serial::name(g_port));
  else
    lib::format(out, "gdb: %s%s\n", g_note, g_gdb_present ? "; gdb attached" : "");
}

void start_polling() {
  if (g_port == 0) return;
  // The BSP and the last online CPU: if one of them spins with interrupts off (a wedged
  // monitor command, `wedge`), the other still sees gdb's ^C.
  (void)arch::lapic::timer_start_periodic(kPollPeriodUs);
  for (u64 i = smp::g_cpu_count; i-- > 1;) {
    smp::PerCpu* p = smp::g_cpus[i].percpu;
    if (p == nullptr || p->state.load() != smp::CpuState::Online) continue;
    if (smp::xcall(i, start_tick, nullptr, 100000) == smp::XcallResult::Done) break;
  }
}

namespace {
void tick(arch::TrapFrame* f) {
  arch::lapic::eoi();
  if (g_port == 0 || stopped() || panicking() || !arch::serial::data_ready(g_port)) return;
  smp::PerCpu* c = smp::this_cpu();
  if (!g_rx.lock(c->index + 1, 0)) return;  // the other poller has it
  Event ev = Event::None;
  // gdb believes the machine stopped (the monitor resumed it meanwhile): stop it again
  // before gdb's packet is read, so the answer describes a stopped machine.
  bool restop = g_gdb_present && g_session.state() == State::Stopped;
  // A UART holds 16 bytes (16550 FIFO) and a packet is longer: once a byte is there, read
  // on until the line has been quiet for a while (the rest of gdb's packet), within bounds.
  u64 start = arch::rdtsc(), quiet = start;
  u64 quiet_ticks = arch::tsc::us_to_ticks(kQuietUs), max_ticks = arch::tsc::us_to_ticks(kMaxReadUs);
  while (ev == Event::None && !restop) {
    u8 b;
    u64 now = arch::rdtsc();
    if (arch::serial::try_get(g_port, &b)) {
      quiet = now;
      ev = feed_byte(b);
    } else if (now - quiet > quiet_ticks || now - start > max_ticks) {
      break;
    }
  }
  g_rx.unlock();
  if (restop) {
    stop_at_interrupt(f, "gdb spoke (the machine had been resumed by the monitor)");
  } else if (ev == Event::Attach) {
    stop_at_interrupt(f, "gdb attached");
  } else if (ev == Event::Interrupt) {
    g_interrupted = true;
    stop_at_interrupt(f, "gdb interrupt (^C)");
  }
}
}  // namespace

bool serve_stop(const StopInfo& why, bool first, ResumePlan* plan, const char** what) {
  if (g_port == 0) return false;
  if (first) {
    State st = g_session.state();
    if (g_gdb_present && (st == State::Resumed || st == State::AttachPending)) {
      Event ev = g_session.report_stop(stop_event(why));
      g_interrupted = false;
      if (stopped_event(ev, why, plan, what)) return true;
    }
  }
  drop_stale_packet();
  u8 b;
  for (int n = 0; n < 512 && arch::serial::try_get(g_port, &b); ++n)
    if (stopped_event(feed_byte(b), why, plan, what)) return true;
  return false;
}

void monitor_resumed() {
  if (g_gdb_present && g_session.state() == State::Stopped) g_monitor_resumed = true;
}

void serve_panic(const arch::TrapFrame* f, bool first) {
  if (g_port == 0 || !g_gdb_present) return;
  u8 sig = kSigBus;
  switch (f != nullptr ? f->vector : ~u64{0}) {
    case arch::vec::kDivide: sig = kSigFpe; break;
    case arch::vec::kInvalidOpcode: sig = kSigIll; break;
    case arch::vec::kBreakpoint:
    case arch::vec::kDebug: sig = gdbstub::kSigTrap; break;
    case arch::vec::kPageFault:
    case arch::vec::kGeneralProtection:
    case arch::vec::kDoubleFault: sig = kSigSegv; break;
    default: break;
  }
  gdbstub::StopEvent ev;
  ev.tid = static_cast<ThreadId>(panic_cpu() + 1);
  ev.signal = sig;
  if (first && (g_session.state() == State::Resumed || g_session.state() == State::AttachPending))
    (void)g_session.report_stop(ev);
  drop_stale_packet();
  u8 b;
  for (int n = 0; n < 512 && arch::serial::try_get(g_port, &b); ++n) {
    Event e = feed_byte(b);
    if (e == Event::Attach) (void)g_session.report_stop(ev);
    if (e == Event::Resume) {
      // Nothing runs after a panic: gdb is told, and gets the same stop again.
      (void)g_session.notify("kmon: the machine panicked and cannot run again; it stays stopped\n");
      (void)g_session.report_stop(ev);
    }
    if (e == Event::Detach || e == Event::Kill) {
      remove_gdbs_breakpoints();
      g_gdb_present = false;
    }
  }
}

const char* take_console() {
  if (g_console_taken) return "the stub has the console's port already";
  if (g_gdb_present) return "a gdb is attached on the stub's own port; detach it first";
  g_port = arch::serial::console();
  g_console_taken = true;
  g_hello = 0;
  kernel::console::set_uart_output(false);  // the console's port carries gdb's packets now
  return nullptr;
}

void wait_for_gdb() {
  if (g_port == 0) {
    kernel::console::printf("debug.gdb.wait: no stub (%s); not waiting\n", g_note);
    return;
  }
  kernel::console::printf("debug.gdb.wait: waiting for gdb on %s before AP bring-up\n", arch::serial::name(g_port));
  stop_here("debug.gdb.wait: waiting for gdb");
}

}  // namespace debug::gdb
