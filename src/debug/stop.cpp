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

constexpr u64 kNobody = kNoCpu;
u64 g_owner = kNobody;  // index of the CPU running the stop shell
u64 g_held;             // CPUs held in hold() right now
bool g_stop_request;    // an NMI now means "stop": set by the owner before it sends them

// What a held CPU is told (PerCpu::hold_cmd), and how its single step ends (step_mode).
enum HoldCmd : u32 { kWait, kRun, kStep };
enum StepMode : u32 { kNoStep, kStepHeld, kStepStops };
// TPR 0xf0: priority class 15, every maskable interrupt blocked (SDM Vol. 3A 11.8.3.1).
constexpr u32 kTprBlockAll = 0xf0;
// TPR 0xe0 while held: only class-15 vectors (the kernel's own, 0xf0-0xff) get in, of which
// arch::vec::kWake is the one sent to held CPUs; the others return at once while stopped.
constexpr u32 kTprHeld = 0xe0;
constexpr u8 kOpcodeHlt = 0xf4;
constexpr u64 kHeldStepTimeoutUs = 1000000;
u64 g_stop_start_tsc;
u64 g_monitor_cpu = kNobody;  // the CPU running the monitor's prompt (set_monitor_cpu)
u64 g_shell_skips;            // hits on the shell path on that CPU, not stopped
// The table changed while the machine was stopped: every CPU loads it again once the
// machine runs. The held ones do as they leave hold(); a CPU this stop did not hold (it
// missed the stop NMI's deadline, or was still on its way out of the previous hold when
// this one began) would keep the old table, so the owner sends it the table by a
// cross-CPU call (only to those: the call runs smp::xcall_handle, where gdb users like to
// put breakpoints).
bool g_table_dirty;
u64 g_stop_number;  // counts stops; a held CPU records the one that held it
// How long `continue` waits for the held CPUs to leave hold(): a TCG vCPU on a loaded
// host may not run for hundreds of ms, and a CPU still held when the next command runs
// looks offline to it (`ipi 2`: "cpu 2 is not online").
constexpr u64 kReleaseWaitUs = 2000000;
arch::TrapFrame* g_frame;
StopShell g_shell;

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
  const StopInfo* why;
  ResumePlan plan;
};
void enter_stop_shell(void* arg) {
  auto* r = static_cast<ShellRun*>(arg);
  r->plan = g_shell(*r->why);
}

// The shell on the shells' stack (debug/panic.cpp): the CPU may have stopped deep in a
// monitor command on its 16 KiB kernel stack, and the shell runs monitor commands again.
// It runs under a copy of the stop frame (call_with_frame), so a backtrace of this CPU, by
// gdb or by the kernel, goes from the shell straight to where the CPU stopped.
ResumePlan run_shell_on_stop_stack(const arch::TrapFrame* f, const StopInfo& why) {
  if (g_shell == nullptr) return ResumePlan{};
  ShellRun run{&why, ResumePlan{}};
  call_with_frame(enter_stop_shell, &run, shell_stack_top(), f);
  return run.plan;
}

// The registers gdb may change in a stopped CPU's saved frame go back into the frame it
// resumes from (the vector, error code and segments stay the CPU's own).
void restore_frame(arch::TrapFrame* f, const arch::TrapFrame& saved) {
  arch::TrapFrame keep = *f;
  *f = saved;
  f->vector = keep.vector;
  f->error_code = keep.error_code;
  f->cs = keep.cs;
  f->ss = keep.ss;
}

// One instruction on this CPU when it leaves the handler: TF, and interrupts blocked at the
// local APIC so the step ends on the next instruction, not in an interrupt handler (the
// #DB handler puts the TPR back).
void arm_step(smp::PerCpu* c, arch::TrapFrame* f, u32 mode) {
  c->saved_tpr = arch::lapic::read(arch::lapic::Reg::Tpr);
  arch::lapic::write(arch::lapic::Reg::Tpr, kTprBlockAll);
  c->step_mode = mode;
  f->rflags |= kRflagsTf | kRflagsRf;  // RF: an execution breakpoint here does not fire first
}

void disarm_step(smp::PerCpu* c, arch::TrapFrame* f) {
  arch::lapic::write(arch::lapic::Reg::Tpr, c->saved_tpr);
  c->step_mode = kNoStep;
  f->rflags &= ~kRflagsTf;
}

// Holds this CPU (an NMI from the stopping CPU, or the end of a held step) until the CPU
// running the shell says what it does next; its frame is saved for `regs`, `bt` and gdb.
void hold(smp::PerCpu* c, arch::TrapFrame* f, smp::StopSource how) {
  save_stopped_state(c, *f, how, arch::read_cr2());
  smp::CpuState before = c->state;
  c->state = smp::CpuState::Stopped;
  __atomic_fetch_add(&g_held, 1, __ATOMIC_ACQ_REL);
  c->held_in_stop = __atomic_load_n(&g_stop_number, __ATOMIC_ACQUIRE);
  if (how == smp::StopSource::HeldStep) c->held_steps.fetch_add(1);
  // Held in hlt, not a spin: under emulation (TCG) hundreds of spinning vCPUs would starve
  // the CPU running the shell and the emulator's own I/O. The shell wakes it with
  // arch::vec::kWake after it changed hold_cmd; `sti; hlt` lets an interrupt that is already
  // pending in only after hlt starts (the sti shadow), so no wake-up is lost. Interrupts
  // taken here run on this (NMI) stack and their iret unblocks NMIs: the one NMI that can
  // still come, a panic's, halts this CPU for good and never returns into this frame.
  // A CPU stopped inside one of the kernel's own interrupt handlers (a cross-call, the poll
  // tick: class 15 in service) would not take the class-15 wake-up (SDM Vol. 3A 11.8.3.1:
  // only a class above the processor priority is delivered): it spins instead.
  u32 tpr = arch::lapic::read(arch::lapic::Reg::Tpr);
  arch::lapic::write(arch::lapic::Reg::Tpr, kTprHeld);
  bool can_sleep = arch::lapic::read(arch::lapic::Reg::Ppr) < kTprBlockAll;
  u32 cmd;
  while ((cmd = c->hold_cmd.load()) == kWait) {
    if (panicking()) arch::halt_forever();  // stopped for good now, frame already saved
    if (can_sleep)
      asm volatile("sti; hlt; cli" ::: "memory");
    else
      arch::pause();
  }
  arch::lapic::write(arch::lapic::Reg::Tpr, tpr);
  restore_frame(f, c->stopped_copy);
  if (cmd == kStep) {
    c->hold_cmd = kWait;  // the shell waits for this step before it says anything else
    arm_step(c, f, c->step_mode);
  }
  c->stopped_frame = nullptr;
  c->state = before;
  __atomic_fetch_sub(&g_held, 1, __ATOMIC_ACQ_REL);
  apply_breakpoints_here();
}

// Every other online CPU stopped by NMI, bounded: a CPU that never answers is left
// running (and said so), the stop goes on without it.
void stop_others(u64 me) {
  // Every CPU that may be held is told to wait before it is asked to stop: one that takes
  // the NMI only after the release finds kRun and goes on at once.
  for (u64 i = 0; i < smp::g_cpu_count; ++i)
    if (smp::g_cpus[i].percpu != nullptr && i != me) smp::g_cpus[i].percpu->hold_cmd = kWait;
  __atomic_fetch_add(&g_stop_number, 1, __ATOMIC_ACQ_REL);
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

// Every held CPU out of its hlt, to read its hold_cmd: one broadcast IPI.
void wake_held() {
  if (smp::g_online_count > 1)
    (void)arch::lapic::send(arch::lapic::Ipi{.delivery = arch::lapic::Delivery::Fixed,
                                             .vector = arch::vec::kWake,
                                             .shorthand = arch::lapic::Shorthand::AllExcludingSelf});
}

// Lets the stopped CPUs go (step_cpu, if one of them, to run one instruction and stop the
// machine again) and waits (bounded) until each is back to its old state, so that the
// first command after `continue` finds every CPU online again (a vCPU thread may take a
// while to be scheduled under TCG).
void release_others(u64 me, u64 step_cpu) {
  __atomic_store_n(&g_stop_request, false, __ATOMIC_SEQ_CST);
  for (u64 i = 0; i < smp::g_cpu_count; ++i) {
    smp::PerCpu* p = smp::g_cpus[i].percpu;
    if (p == nullptr || i == me) continue;
    if (i == step_cpu) {
      p->step_mode = kStepStops;
      p->hold_cmd = kStep;
    } else {
      p->hold_cmd = kRun;
    }
  }
  wake_held();
  if (!kernel::spin_until([] { return __atomic_load_n(&g_held, __ATOMIC_ACQUIRE) == 0; }, kReleaseWaitUs))
    kernel::console::printf("stop: %lu CPUs still held %lu ms after the release; they follow when they run\n",
                            __atomic_load_n(&g_held, __ATOMIC_ACQUIRE), kReleaseWaitUs / 1000);
  __atomic_store_n(&g_owner, kNobody, __ATOMIC_SEQ_CST);
}

void print_where(lib::Sink& out, u64 rip) {
  lib::format(out, "0x%016lx ", rip);
  kernel::ksyms::print(out, rip);
}

void describe(lib::Sink& out, const arch::TrapFrame& f, const StopInfo& w) {
  switch (w.why) {
    case StopInfo::Why::Breakpoint: lib::format(out, "\nbreak: cpu %lu hit breakpoint %d at ", w.cpu, w.slot); break;
    case StopInfo::Why::Watchpoint:
      lib::format(out, "\nwatch: cpu %lu hit watchpoint %d (%s 0x%016lx, %u bytes) at ", w.cpu, w.slot,
                  w.kind == BpKind::Write ? "write" : "read/write", w.data_addr, g_slots[w.slot].len);
      break;
    case StopInfo::Why::Step: lib::format(out, "step: cpu %lu at ", w.cpu); break;
    case StopInfo::Why::Here:
    case StopInfo::Why::Interrupt: lib::format(out, "\nstop: cpu %lu, %s, at ", w.cpu, w.text); break;
    case StopInfo::Why::DebugException: lib::format(out, "\ndebug: cpu %lu debug exception at ", w.cpu); break;
    case StopInfo::Why::SoftwareBreakpoint: lib::format(out, "\nbreak: cpu %lu hit a gdb breakpoint at ", w.cpu); break;
  }
  print_where(out, f.rip);
  lib::format(out, "\n");
  if (w.why != StopInfo::Why::Here && w.why != StopInfo::Why::Interrupt)
    print_insn(out, f.rip);  // the next instruction to run
}

void apply_xcall(void*, const arch::TrapFrame*) { apply_breakpoints_here(); }

// The machine stops at f on this CPU: others by NMI, then the stop shell; on return f is
// set up to continue or to single-step, and the others run, stay held or step as the
// shell's plan says.
void stop_machine(arch::TrapFrame* f, StopInfo why) {
  KASSERT((arch::read_rflags() & arch::kRflagsIf) == 0);  // the handler runs with interrupts off
  smp::PerCpu* c = self_or_null();
  if (c == nullptr) return;  // before this CPU has a slot: nothing to stop with
  write_dr7(0);              // no breakpoint fires on the CPU that runs the shell
  u64 me = c->index;
  why.cpu = me;
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
  // The shell's commands run under the monitor's fault guard on this CPU; an outer guard
  // (the CPU stopped inside a guarded command) is kept aside meanwhile.
  u64 guard_buf[sizeof c->guard_buf / sizeof(u64)];
  for (usize i = 0; i < sizeof guard_buf / sizeof(u64); ++i) guard_buf[i] = c->guard_buf[i];
  bool guard_armed = c->guard_armed;
  c->guard_armed = false;
  smp::CpuState before = c->state;
  c->state = smp::CpuState::Kstop;
  ResumePlan plan;
  const arch::TrapFrame* shown = f;  // the frame the stop is described at
  for (;;) {
    {
      kernel::console::Locked lock;
      describe(kernel::console::sink(), *shown, why);
    }
    plan = run_shell_on_stop_stack(f, why);
    // Another CPU steps while the rest stay held: this CPU keeps the shell.
    if (plan.step_cpu == kNoCpu || plan.step_cpu == me || plan.others_run) break;
    const char* failed = nullptr;
    if (!step_held_cpu(plan.step_cpu, &failed)) {
      kernel::console::printf("step: cpu %lu: %s\n", plan.step_cpu, failed);
      continue;
    }
    why = StopInfo{StopInfo::Why::Step, plan.step_cpu, -1, 0, BpKind::Exec, nullptr};
    shown = resumable_frame(plan.step_cpu);
  }
  c->state = before;
  for (usize i = 0; i < sizeof guard_buf / sizeof(u64); ++i) c->guard_buf[i] = guard_buf[i];
  c->guard_armed = guard_armed;
  kernel::console::return_lock(held);
  restore_frame(f, c->stopped_copy);  // gdb may have changed this CPU's registers
  c->stopped_frame = nullptr;
  g_frame = nullptr;
  if (plan.step_cpu == me && !plan.others_run) {
    arm_step(c, f, kStepStops);  // the #DB after it finds this CPU still the owner
    return;
  }
  if (plan.step_cpu == me)
    arm_step(c, f, kStepStops);  // the others run; the #DB stops the machine anew
  else                           // RF: the instruction at an execution breakpoint runs instead of faulting again.
    f->rflags = (f->rflags & ~kRflagsTf) | kRflagsRf;
  // Waits that spanned the stop leave it out: counted before the others are let go (a
  // released CPU checks its deadline at once, and may start a new measurement at once).
  kernel::add_stopped_ticks(arch::rdtsc() - g_stop_start_tsc);
  u64 number = g_stop_number;
  release_others(me, plan.step_cpu);
  apply_breakpoints_here();
  if (g_table_dirty) {
    g_table_dirty = false;
    for (u64 i = 0; i < smp::g_cpu_count; ++i) {
      smp::PerCpu* p = smp::g_cpus[i].percpu;
      if (i == me || p == nullptr || p->state.load() != smp::CpuState::Online || p->held_in_stop.load() == number)
        continue;
      (void)smp::xcall(i, apply_xcall, nullptr, 100000);
    }
  }
}

}  // namespace

// Code on the way from an exception to the stop shell: an execution breakpoint there would
// fire again inside its own #DB handler, over and over (DDB keeps the same list).
void save_stopped_state(smp::PerCpu* c, const arch::TrapFrame& f, smp::StopSource how, u64 cr2) {
  c->stopped_copy = f;
  auto& s = c->stopped_sys;
  s.cr0 = arch::read_cr0();
  s.cr2 = cr2;
  s.cr3 = arch::read_cr3();
  s.cr4 = arch::read_cr4();
  s.efer = arch::rdmsr(arch::msr::kEfer);
  s.gs_base = arch::rdmsr(arch::msr::kGsBase);
  s.fs_base = arch::rdmsr(arch::msr::kFsBase);
  s.kernel_gs_base = arch::rdmsr(arch::msr::kKernelGsBase);
  s.cr8 = arch::read_cr8();
  asm volatile("mov %%ds, %0" : "=r"(s.ds));
  asm volatile("mov %%es, %0" : "=r"(s.es));
  asm volatile("mov %%fs, %0" : "=r"(s.fs));
  asm volatile("mov %%gs, %0" : "=r"(s.gs));
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
  // An AP on its way up (still Starting) holds what INIT left, DR0-DR3 0, DR6 0xffff0ff0,
  // DR7 0x400 (SDM Vol. 3A Table 9-1): all a machine without breakpoints needs, so it
  // touches none. Under QEMU's TCG, debug-register accesses on every arriving AP held
  // bring-up at -smp 256 back by up to hundreds of ms (scripts/bench's floor comparison).
  bool any = false;
  for (unsigned n = 0; n < kDebugRegs; ++n) any = any || g_slots[n].used;
  if (!any && c != nullptr && c->state == smp::CpuState::Starting) return;
  write_dr7(0);  // never a half-updated set of addresses armed
  for (unsigned n = 0; n < kDebugRegs; ++n) write_dr(n, g_slots[n].used ? g_slots[n].addr : 0);
  write_dr6(kDr6Clear);
  write_dr7(dr7_for(g_slots));
}

u64 apply_breakpoints_everywhere() {
  if (stopped()) {  // every CPU loads the table when the machine runs again
    g_table_dirty = true;
    return 1;
  }
  apply_breakpoints_here();
  return 1 + smp::xcall_others(apply_xcall, nullptr, 100000);
}

void set_stop_shell(StopShell shell) { g_shell = shell; }
bool stopped() { return __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE) != kNobody; }
u64 stopped_cpu() { return __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE); }
const arch::TrapFrame* stop_frame() { return g_frame; }

void stop_here(const char* why) {
  arch::TrapFrame f = arch::capture_frame();
  arch::cli();  // as in an exception handler: nothing interrupts the stop
  stop_machine(&f, StopInfo{StopInfo::Why::Here, 0, -1, 0, BpKind::Exec, why});
  if (f.rflags & arch::kRflagsIf) arch::sti();
}

void stop_at_interrupt(arch::TrapFrame* f, const char* who) {
  stop_machine(f, StopInfo{StopInfo::Why::Interrupt, 0, -1, 0, BpKind::Exec, who});
}

void stop_at_software_breakpoint(arch::TrapFrame* f) {
  stop_machine(f, StopInfo{StopInfo::Why::SoftwareBreakpoint, 0, -1, 0, BpKind::Exec, nullptr});
}

arch::TrapFrame* resumable_frame(u64 n) {
  smp::PerCpu* p = smp::cpu(n);
  return p != nullptr && p->stopped_frame != nullptr ? &p->stopped_copy : nullptr;
}

bool step_held_cpu(u64 n, const char** why) {
  smp::PerCpu* p = smp::cpu(n);
  if (p == nullptr || n == stopped_cpu() || p->state.load() != smp::CpuState::Stopped || p->stopped_frame == nullptr) {
    *why = "not a CPU the debugger holds";
    return false;
  }
  // hlt would wait for an interrupt the step masks: step over it, as a wake-up would.
  u8 op = 0;
  VirtReader mem;
  if (mem.read(p->stopped_copy.rip, &op, 1) == 1 && op == kOpcodeHlt) {
    p->stopped_copy.rip += 1;
    return true;
  }
  u64 done = p->held_steps.load();
  p->step_mode = kStepHeld;
  p->hold_cmd = kStep;
  (void)arch::lapic::send_fixed(p->apic_id, arch::vec::kWake);
  if (!kernel::spin_until([&] { return p->held_steps.load() != done; }, kHeldStepTimeoutUs)) {
    *why = "did not come back from its step within a second";
    return false;
  }
  return true;
}

bool serve_stop_nmi(arch::TrapFrame* f) {
  smp::PerCpu* c = self_or_null();
  if (c == nullptr || !__atomic_load_n(&g_stop_request, __ATOMIC_ACQUIRE)) return false;
  u64 owner = __atomic_load_n(&g_owner, __ATOMIC_ACQUIRE);
  if (owner == kNobody || owner == c->index) return false;
  hold(c, f, smp::StopSource::DebuggerNmi);
  return true;
}

void on_debug_exception(arch::TrapFrame* f) {
  u64 dr6 = read_dr6();
  write_dr6(kDr6Clear);  // the CPU never clears DR6 itself (SDM Vol. 3A 18.2.3)
  smp::PerCpu* c = self_or_null();
  if ((dr6 & kDr6Bs) != 0 && c != nullptr && c->step_mode != kNoStep) {
    u32 mode = c->step_mode;
    disarm_step(c, f);
    if (mode == kStepHeld) {
      hold(c, f, smp::StopSource::HeldStep);  // back to the shell's CPU, which waits for it
      return;
    }
    stop_machine(f, StopInfo{StopInfo::Why::Step, 0, -1, 0, BpKind::Exec, nullptr});
    return;
  }
  StopInfo why{StopInfo::Why::DebugException, 0, -1, 0, BpKind::Exec, nullptr};
  bool stale = false;
  for (unsigned n = 0; n < kDebugRegs; ++n) {
    if ((dr6 & dr6_hit(n)) == 0) continue;
    if (!g_slots[n].used || g_slots[n].addr != dr_address(n)) {
      stale = true;  // deleted or moved since this CPU loaded it (the update is on its way)
      continue;
    }
    why.slot = static_cast<int>(n);
    why.kind = g_slots[n].kind;
    why.why = g_slots[n].kind == BpKind::Exec ? StopInfo::Why::Breakpoint : StopInfo::Why::Watchpoint;
    why.data_addr = g_slots[n].addr;
    ++g_hits[n];
    break;
  }
  if (why.slot >= 0 && c != nullptr && c->index == __atomic_load_n(&g_monitor_cpu, __ATOMIC_ACQUIRE) &&
      on_shell_path(f->rip) && !stopped()) {
    // The monitor's own CPU in its own input/output code: counted, not stopped (see
    // on_shell_path); RF lets the instruction run.
    __atomic_fetch_add(&g_shell_skips, 1, __ATOMIC_RELAXED);
    f->rflags |= kRflagsRf;
    return;
  }
  if (why.slot < 0 && stale) {
    // A breakpoint this CPU still had armed while `delete` was reaching it (typically on
    // the very code the update runs through, e.g. smp::xcall_handle): load the table now and
    // go on; RF lets the instruction run once without faulting again.
    apply_breakpoints_here();
    f->rflags |= kRflagsRf;
    return;
  }
  if ((dr6 & kDr6Bs) != 0 && why.slot < 0) why.why = StopInfo::Why::Step;  // TF set by someone else
  stop_machine(f, why);
}

}  // namespace debug
