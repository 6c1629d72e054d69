#include "debug/stop.hpp"

#include "lib/assert.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "debug/insn.hpp"
#include "debug/panic.hpp"
#include "kernel/console.hpp"
#include "kernel/ksyms.hpp"
#include "kernel/spin.hpp"
#include "kernel/stop_clock.hpp"
#include "lib/string.hpp"
#include "mm/kvm.hpp"
#include "mm/layout.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace debug {
namespace {

BpSlot g_slots[kDebugRegs];
u64 g_hits[kDebugRegs];

constexpr u64 kNobody = ~u64{0};
u64 g_owner = kNobody;  // index of the CPU running the stop shell
u64 g_release_epoch;    // bumped to let the NMI-stopped CPUs go
u64 g_held;             // CPUs spinning in serve_stop_nmi right now
bool g_stop_request;    // an NMI now means "stop": set by the owner before it sends them
u64 g_stop_start_tsc;
u64 g_monitor_cpu = kNobody;  // the CPU running the monitor's prompt (set_monitor_cpu)
u64 g_shell_skips;            // hits on the shell path on that CPU, not stopped
arch::TrapFrame* g_frame;
StopAction (*g_shell)();

u64 read_dr6() {
  u64 v;
  asm volatile("mov %%db6, %0" : "=r"(v));
  return v;
}
void write_dr6(u64 v) { asm volatile("mov %0, %%db6" : : "r"(v)); }
u64 dr_address(unsigned n) {
  u64 v = 0;
  switch (n) {
    case 0: asm volatile("mov %%db0, %0" : "=r"(v)); break;
    case 1: asm volatile("mov %%db1, %0" : "=r"(v)); break;
    case 2: asm volatile("mov %%db2, %0" : "=r"(v)); break;
    case 3: asm volatile("mov %%db3, %0" : "=r"(v)); break;
    default: break;
  }
  return v;
}
void write_dr7(u64 v) { asm volatile("mov %0, %%db7" : : "r"(v)); }
void write_dr(unsigned n, u64 v) {
  switch (n) {
    case 0: asm volatile("mov %0, %%db0" : : "r"(v)); break;
    case 1: asm volatile("mov %0, %%db1" : : "r"(v)); break;
    case 2: asm volatile("mov %0, %%db2" : : "r"(v)); break;
    case 3: asm volatile("mov %0, %%db3" : : "r"(v)); break;
    default: break;
  }
}

smp::PerCpu* self_or_null() {
  u64 gs = arch::rdmsr(arch::msr::kGsBase);
  if (gs < mm::layout::kPerCpuBase || gs >= mm::layout::kPerCpuEnd) return nullptr;
  return reinterpret_cast<smp::PerCpu*>(gs);
}

struct ShellRun {
  StopAction action;
};
void enter_stop_shell(void* arg) { static_cast<ShellRun*>(arg)->action = g_shell(); }

// The shell on the shells' stack (debug/panic.cpp): the CPU may have stopped deep in a
// monitor command on its 16 KiB kernel stack, and the shell runs monitor commands again.
// It runs under a copy of the stop frame (call_with_frame), so a backtrace of this CPU, by
// gdb or by the kernel, goes from the shell straight to where the CPU stopped.
StopAction run_shell_on_stop_stack(const arch::TrapFrame* f) {
  if (g_shell == nullptr) return StopAction::Continue;
  ShellRun run{StopAction::Continue};
  call_with_frame(enter_stop_shell, &run, shell_stack_top(), f);
  return run.action;
}

// Every other online CPU stopped by NMI, bounded: a CPU that never answers is left
// running (and said so), the stop goes on without it.
void stop_others(u64 me) {
  __atomic_store_n(&g_stop_request, true, __ATOMIC_SEQ_CST);
  if (smp::g_online_count <= 1) return;
  // One NMI per online CPU, not a broadcast: during bring-up an AP may still be in the
  // trampoline without an IDT, where an NMI would kill it.
  for (u64 i = 0; i < smp::g_cpu_count; ++i) {
    smp::PerCpu* p = smp::g_cpus[i].percpu;
    if (i == me || p == nullptr || p->state.load() != smp::CpuState::Online) continue;
    if (!arch::lapic::send_nmi(p->apic_id)) kernel::console::printf("stop: the NMI to cpu %lu was not accepted\n", i);
  }
  bool all = kernel::spin_until(
      [&] {
        for (u64 i = 0; i < smp::g_cpu_count; ++i) {
          smp::PerCpu* p = smp::g_cpus[i].percpu;
          if (i != me && p != nullptr && p->state.load() == smp::CpuState::Online) return false;
        }
        return true;
      },
      200000);
  if (!all) kernel::console::puts("stop: some CPUs did not stop within 200 ms; they keep running\n");
}

// Lets the stopped CPUs go and waits (bounded) until each is back to its old state, so
// that the first command after `continue` finds every CPU online again (a vCPU thread
// may take a while to be scheduled under TCG).
void release_others() {
  __atomic_store_n(&g_stop_request, false, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&g_release_epoch, 1, __ATOMIC_SEQ_CST);
  (void)kernel::spin_until([] { return __atomic_load_n(&g_held, __ATOMIC_ACQUIRE) == 0; }, 200000);
  __atomic_store_n(&g_owner, kNobody, __ATOMIC_SEQ_CST);
}

using Describe = void (*)(lib::Sink& out, const arch::TrapFrame& f, u64 cpu, const void* ctx);

// The machine stops at f on this CPU: others by NMI, then the stop shell; on return f
// is set up to continue or to single-step.
void stop_machine(arch::TrapFrame* f, Describe describe, const void* ctx) {
  KASSERT((arch::read_rflags() & arch::kRflagsIf) == 0);  // the handler runs with interrupts off
  smp::PerCpu* c = self_or_null();
  if (c == nullptr) return;  // before this CPU has a slot: nothing to stop with
  write_dr7(0);              // no breakpoint fires on the CPU that runs the shell
  u64 me = c->index;
  bool stepping = __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE) == me;
  if (!stepping) {
    u64 expected = kNobody;
    if (!__atomic_compare_exchange_n(&g_owner, &expected, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      // Another CPU is stopping the machine: its NMI stops this one too. Once released,
      // go on; an execution breakpoint fires again (RF is not set), a watchpoint hit is lost.
      while (__atomic_load_n(&g_owner, __ATOMIC_ACQUIRE) != kNobody) arch::pause();
      apply_breakpoints_here();
      return;
    }
    g_stop_start_tsc = arch::rdtsc();
    stop_others(me);
  }
  save_stopped_state(c, *f, smp::StopSource::Breakpoint, arch::read_cr2());
  g_frame = f;
  bool held = kernel::console::steal_lock();
  {
    kernel::console::Locked lock;
    describe(kernel::console::sink(), *f, me, ctx);
  }
  // The shell's commands run under the monitor's fault guard on this CPU; an outer guard
  // (the CPU stopped inside a guarded command) is kept aside meanwhile.
  u64 guard_buf[sizeof c->guard_buf / sizeof(u64)];
  for (usize i = 0; i < sizeof guard_buf / sizeof(u64); ++i) guard_buf[i] = c->guard_buf[i];
  bool guard_armed = c->guard_armed;
  c->guard_armed = false;
  smp::CpuState before = c->state;
  c->state = smp::CpuState::Kstop;
  StopAction a = run_shell_on_stop_stack(f);
  c->state = before;
  for (usize i = 0; i < sizeof guard_buf / sizeof(u64); ++i) c->guard_buf[i] = guard_buf[i];
  c->guard_armed = guard_armed;
  kernel::console::return_lock(held);
  c->stopped_frame = nullptr;
  g_frame = nullptr;
  if (a == StopAction::Step) {
    f->rflags |= kRflagsTf | kRflagsRf;  // one instruction, then #DB with DR6.BS
    return;
  }
  // RF: the instruction at an execution breakpoint runs instead of faulting again.
  f->rflags = (f->rflags & ~kRflagsTf) | kRflagsRf;
  // Waits that spanned the stop leave all of it out: counted before the others are let go
  // (a released CPU checks its deadline at once), and the release itself after.
  u64 released = arch::rdtsc();
  kernel::add_stopped_ticks(released - g_stop_start_tsc);
  release_others();
  kernel::add_stopped_ticks(arch::rdtsc() - released);
  apply_breakpoints_here();
}

void print_where(lib::Sink& out, u64 rip) {
  lib::format(out, "0x%016lx ", rip);
  kernel::ksyms::print(out, rip);
}

struct Hit {
  u64 dr6;
  int slot;  // -1: single step or unknown
};

void describe_debug(lib::Sink& out, const arch::TrapFrame& f, u64 cpu, const void* ctx) {
  const Hit& h = *static_cast<const Hit*>(ctx);
  if (h.slot >= 0) {
    const BpSlot& s = g_slots[h.slot];
    if (s.kind == BpKind::Exec) {
      lib::format(out, "\nbreak: cpu %lu hit breakpoint %d at ", cpu, h.slot);
    } else {
      lib::format(out, "\nwatch: cpu %lu hit watchpoint %d (%s 0x%016lx, %u bytes) at ", cpu, h.slot,
                  s.kind == BpKind::Write ? "write" : "read/write", s.addr, s.len);
    }
  } else if (h.dr6 & kDr6Bs) {
    lib::format(out, "step: cpu %lu at ", cpu);
  } else {
    lib::format(out, "\ndebug: cpu %lu debug exception (dr6=0x%lx) at ", cpu, h.dr6);
  }
  print_where(out, f.rip);
  lib::format(out, "\n");
  print_insn(out, f.rip);  // the next instruction to run
}

void describe_here(lib::Sink& out, const arch::TrapFrame& f, u64 cpu, const void* ctx) {
  lib::format(out, "\nstop: cpu %lu, %s, at ", cpu, static_cast<const char*>(ctx));
  print_where(out, f.rip);
  lib::format(out, "\n");
}

void apply_xcall(void*, const arch::TrapFrame*) { apply_breakpoints_here(); }

}  // namespace

// Code on the way from an exception to the stop shell: an execution breakpoint there would
// fire again inside its own #DB handler, over and over (DDB keeps the same list).
void save_stopped_state(smp::PerCpu* c, const arch::TrapFrame& f, smp::StopSource how, u64 cr2) {
  c->stopped_copy = f;
  c->stopped_sys = {arch::read_cr0(),
                    cr2,
                    arch::read_cr3(),
                    arch::read_cr4(),
                    arch::rdmsr(arch::msr::kEfer),
                    arch::rdmsr(arch::msr::kGsBase)};
  c->stopped_how = how;
  c->stopped_frame = &c->stopped_copy;
}

bool on_debugger_entry_path(u64 addr) {
  kernel::ksyms::Symbol s;
  if (!kernel::ksyms::containing(addr, &s)) return false;
  const char* const kPath[] = {"trap_dispatch", "isr_", "debug::", "smp::(anonymous namespace)::account"};
  for (const char* p : kPath)
    if (lib::starts_with(s.name, p)) return true;
  return false;
}

// Code the shells themselves run to read a line and print (formatting, the console, the
// UART, the line editor and the monitor): a breakpoint there, hit by the CPU running the
// monitor, would stop it in the middle of its own output, and every line the stop shell
// prints would hit it again.
bool on_shell_path(u64 addr) {
  kernel::ksyms::Symbol s;
  if (!kernel::ksyms::containing(addr, &s)) return false;
  const char* const kPath[] = {
      "lib::",  "kernel::console::", "arch::serial::", "monitor::", "memcpy", "memmove", "memset",
      "memcmp", "guarded_call"};
  for (const char* p : kPath)
    if (lib::starts_with(s.name, p)) return true;
  return false;
}

void set_monitor_cpu(u64 index) { __atomic_store_n(&g_monitor_cpu, index, __ATOMIC_RELEASE); }
u64 shell_path_skips() { return __atomic_load_n(&g_shell_skips, __ATOMIC_RELAXED); }

const char* add_breakpoint(BpKind kind, u64 addr, u8 len, unsigned* slot) {
  if (const char* why = check_request(kind, addr, len)) return why;
  if (kind == BpKind::Exec && on_debugger_entry_path(addr))
    return "that code runs on the way into the debugger (trap dispatch, interrupt stubs, debug::)";
  // An execution breakpoint fires only where the CPU fetches instructions.
  if (kind == BpKind::Exec && !mm::kvm::is_executable(addr)) {
    switch (mm::layout::region_of(addr)) {
      case mm::layout::Region::User: return "the lower half holds no code (nothing is mapped there)";
      case mm::layout::Region::DirectMap: return "the direct map is not executable (NX): no code runs there";
      case mm::layout::Region::PerCpu: return "per-CPU data and stacks are not executable (NX)";
      case mm::layout::Region::Device: return "the device window is MMIO, not executable (NX)";
      default: return "that address is not mapped executable (not kernel text): it could never be hit";
    }
  }
  for (unsigned n = 0; n < kDebugRegs; ++n) {
    if (g_slots[n].used) continue;
    g_slots[n] = BpSlot{true, kind, len, addr};
    g_hits[n] = 0;
    *slot = n;
    return nullptr;
  }
  return "all four debug registers are in use (delete one first)";
}

bool delete_breakpoint(unsigned k) {
  if (k >= kDebugRegs || !g_slots[k].used) return false;
  g_slots[k] = BpSlot{};
  return true;
}

const BpSlot& breakpoint(unsigned k) { return g_slots[k]; }
u64 breakpoint_hits(unsigned k) { return k < kDebugRegs ? g_hits[k] : 0; }

void apply_breakpoints_here() {
  smp::PerCpu* c = self_or_null();
  if (c != nullptr && __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE) == c->index) return;  // stopped here
  write_dr7(0);  // never a half-updated set of addresses armed
  for (unsigned n = 0; n < kDebugRegs; ++n) write_dr(n, g_slots[n].used ? g_slots[n].addr : 0);
  write_dr6(kDr6Clear);
  write_dr7(dr7_for(g_slots));
}

u64 apply_breakpoints_everywhere() {
  if (stopped()) return 1;  // the stopped CPUs load the table when released
  apply_breakpoints_here();
  return 1 + smp::xcall_others(apply_xcall, nullptr, 100000);
}

void set_stop_shell(StopAction (*shell)()) { g_shell = shell; }
bool stopped() { return __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE) != kNobody; }
u64 stopped_cpu() { return __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE); }
const arch::TrapFrame* stop_frame() { return g_frame; }

void stop_here(const char* why) {
  arch::TrapFrame f = arch::capture_frame();
  arch::cli();  // as in an exception handler: nothing interrupts the stop
  stop_machine(&f, describe_here, why);
  if (f.rflags & arch::kRflagsIf) arch::sti();
}

bool serve_stop_nmi(arch::TrapFrame* f) {
  smp::PerCpu* c = self_or_null();
  if (c == nullptr || !__atomic_load_n(&g_stop_request, __ATOMIC_ACQUIRE)) return false;
  u64 owner = __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE);
  if (owner == kNobody || owner == c->index) return false;
  // The epoch is read before this CPU says it is stopped: the owner releases only
  // after seeing it stopped, so the release cannot be missed.
  u64 epoch = __atomic_load_n(&g_release_epoch, __ATOMIC_ACQUIRE);
  save_stopped_state(c, *f, smp::StopSource::DebuggerNmi, arch::read_cr2());
  smp::CpuState before = c->state;
  __atomic_fetch_add(&g_held, 1, __ATOMIC_ACQ_REL);
  c->state = smp::CpuState::Stopped;
  while (__atomic_load_n(&g_release_epoch, __ATOMIC_ACQUIRE) == epoch) {
    if (panicking()) arch::halt_forever();  // stopped for good now, frame already saved
    arch::pause();
  }
  c->stopped_frame = nullptr;
  c->state = before;
  __atomic_fetch_sub(&g_held, 1, __ATOMIC_ACQ_REL);
  apply_breakpoints_here();
  return true;
}

void on_debug_exception(arch::TrapFrame* f) {
  Hit h{read_dr6(), -1};
  write_dr6(kDr6Clear);  // the CPU never clears DR6 itself (SDM Vol. 3A 18.2.3)
  bool stale = false;
  for (unsigned n = 0; n < kDebugRegs; ++n) {
    if ((h.dr6 & dr6_hit(n)) == 0) continue;
    if (!g_slots[n].used || g_slots[n].addr != dr_address(n)) {
      stale = true;  // deleted or moved since this CPU loaded it (the update is on its way)
      continue;
    }
    h.slot = static_cast<int>(n);
    ++g_hits[n];
    break;
  }
  smp::PerCpu* c = self_or_null();
  if (h.slot >= 0 && c != nullptr && c->index == __atomic_load_n(&g_monitor_cpu, __ATOMIC_ACQUIRE) &&
      on_shell_path(f->rip) && !stopped()) {
    // The monitor's own CPU in its own input/output code: counted, not stopped (see
    // on_shell_path); RF lets the instruction run.
    __atomic_fetch_add(&g_shell_skips, 1, __ATOMIC_RELAXED);
    f->rflags |= kRflagsRf;
    return;
  }
  if (h.slot < 0 && stale && (h.dr6 & kDr6Bs) == 0) {
    // A breakpoint this CPU still had armed while `delete` was reaching it (typically on
    // the very code the update runs through, e.g. smp::xcall_handle): load the table now and
    // go on; RF lets the instruction run once without faulting again.
    apply_breakpoints_here();
    f->rflags |= kRflagsRf;
    return;
  }
  stop_machine(f, describe_debug, &h);
}

}  // namespace debug
