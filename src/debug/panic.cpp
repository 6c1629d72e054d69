#include "debug/panic.hpp"

#include "debug/frames.hpp"
#include "debug/gdb_stub.hpp"
#include "debug/insn.hpp"
#include "debug/stop.hpp"
#include "kernel/spin.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/ksyms.hpp"
#include "kernel/panic.hpp"
#include "mm/kvm.hpp"
#include "mm/layout.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace debug {
using namespace arch;
namespace {

void (*g_panic_shell)();

constexpr u64 kNoPanic = ~0ULL;
volatile u64 g_panic_cpu = kNoPanic;
const TrapFrame* g_first_panic_frame;  // the frame the panic began with, for a second fault
volatile bool g_expect_crash = false;

// The per-CPU structure if GS already points at one (early boot faults have none).
smp::PerCpu* cpu_or_null() {
  u64 gs = rdmsr(msr::kGsBase);
  if (gs < mm::layout::kPerCpuBase || gs >= mm::layout::kPerCpuEnd) return nullptr;
  return reinterpret_cast<smp::PerCpu*>(gs);
}

// Which CPU's stack guard page holds addr, if any: a kernel stack overflow.
bool in_stack_guard(u64 addr, u64* cpu_index) {
  if (addr < mm::layout::kPerCpuBase || addr >= mm::layout::kPerCpuEnd) return false;
  u64 off = (addr - mm::layout::kPerCpuBase) % config::kPerCpuSlotSize;
  *cpu_index = (addr - mm::layout::kPerCpuBase) / config::kPerCpuSlotSize;
  return off >= mm::layout::kStackBottomOff - mm::layout::kGuardSize && off < mm::layout::kStackBottomOff;
}

// The shells' own stack (panic and kstop>): the faulting CPU may be on a 4 KiB IST stack
// or on an overflowed kernel stack, a stopped one deep in a monitor command. One CPU at a
// time runs a shell; a panic inside the stop shell abandons the stop for good, so the
// two can share it.
alignas(16) u8 g_panic_stack[24 * KiB];

void enter_panic_shell(void*) {
  if (g_panic_shell != nullptr) g_panic_shell();
}

// The panic shell on its own stack, under a copy of the frame the CPU panicked at
// (call_with_frame): a backtrace of this CPU, by gdb or by the kernel, leads from the shell
// to the fault.
[[noreturn]] void run_on_panic_stack(const TrapFrame* f) {
  call_with_frame(enter_panic_shell, nullptr, shell_stack_top(), f);
  halt_forever();
}

void nmi(TrapFrame* f) {
  smp::PerCpu* c = cpu_or_null();
  if (c != nullptr) c->nmis = c->nmis + 1;
  if (g_panic_cpu != kNoPanic && (c == nullptr || c->index != g_panic_cpu)) {
    // Stopped by a panic elsewhere: keep the interrupted frame for `regs`, then halt
    // for good. NMIs stay blocked since we never iret.
    if (c != nullptr) {
      save_stopped_state(c, *f, smp::StopSource::PanicNmi, read_cr2());
      c->state = smp::CpuState::Stopped;
    }
    halt_forever();
  }
  // A debugger stop (debug/stop.cpp) holds this CPU here until `continue`.
  if (serve_stop_nmi(f)) return;
  if (c != nullptr) smp::xcall_handle(c, f, true);
}

void exception(TrapFrame* f) {
  u64 cr2 = read_cr2();
  smp::PerCpu* c = cpu_or_null();
  if (c != nullptr) c->exceptions = c->exceptions + 1;
  // A fault inside a guarded monitor command: report it and return to the prompt.
  if (c != nullptr && c->guard_armed && !g_expect_crash && f->vector != vec::kDoubleFault &&
      f->vector != vec::kMachineCheck) {
    c->guard_armed = false;
    if (!c->guard_quiet) {
      kernel::console::Locked lock;
      lib::Sink& out = kernel::console::sink();
      lib::format(out, "\nexception in a monitor command; report follows:\n");
      print_report(out, *f, cr2);
    }
    guard_resume(c->guard_buf);
  }
  panic_at(f, nullptr, cr2, smp::StopSource::Exception);
}

}  // namespace

bool panicking() { return g_panic_cpu != kNoPanic; }
u64 panic_cpu() { return g_panic_cpu; }
void expect_crash() { g_expect_crash = true; }

void print_backtrace(lib::Sink& out, const TrapFrame& f) {
  Frames frames;
  backtrace(cpu_or_null(), f, &frames);
  lib::format(out, "backtrace:\n");
  print_frames(out, frames, "  ", false);
}

void print_report(lib::Sink& out, const TrapFrame& f, u64 cr2) {
  smp::PerCpu* c = cpu_or_null();
  if (c != nullptr)
    lib::format(out, "exception on cpu %lu (apic %u): vector %lu %s\n", c->index, c->apic_id, f.vector,
                exception_name(f.vector));
  else
    lib::format(out, "exception on cpu ? (apic %u): vector %lu %s\n", arch::lapic::id(), f.vector,
                exception_name(f.vector));
  lib::format(out, "error code 0x%016lx", f.error_code);
  if (f.vector == vec::kPageFault) {
    // SDM Vol. 3A 4.7, Figure 4-12: P, W/R, U/S, RSVD, I/D.
    u64 e = f.error_code;
    lib::format(out, " (%s, %s, %s%s%s)", pf::kPresent.in(e) ? "protection" : "not-present",
                pf::kWrite.in(e) ? "write" : "read", pf::kUser.in(e) ? "user" : "kernel",
                pf::kReservedBit.in(e) ? ", reserved bit" : "", pf::kFetch.in(e) ? ", fetch" : "");
  }
  lib::format(out, "\ncr2=0x%016lx cr3=0x%016lx\n", cr2, read_cr3());
  u64 cpu_index = 0;
  if ((f.vector == vec::kDoubleFault || f.vector == vec::kPageFault) && in_stack_guard(cr2, &cpu_index))
    lib::format(out, "kernel stack overflow: cr2 is in cpu %lu's stack guard page\n", cpu_index);
  lib::format(out, "rip=0x%016lx ", f.rip);
  kernel::ksyms::print(out, f.rip);
  lib::format(out, "\n");
  print_insn(out, f.rip);  // the faulting instruction, if mapped (debug/insn)
  lib::format(out, "rsp=0x%016lx rflags=0x%016lx cs=0x%lx ss=0x%lx\n", f.rsp, f.rflags, f.cs, f.ss);
  lib::format(out, "rax=0x%016lx rbx=0x%016lx rcx=0x%016lx\n", f.rax, f.rbx, f.rcx);
  lib::format(out, "rdx=0x%016lx rsi=0x%016lx rdi=0x%016lx\n", f.rdx, f.rsi, f.rdi);
  lib::format(out, "rbp=0x%016lx r8=0x%016lx  r9=0x%016lx\n", f.rbp, f.r8, f.r9);
  lib::format(out, "r10=0x%016lx r11=0x%016lx r12=0x%016lx\n", f.r10, f.r11, f.r12);
  lib::format(out, "r13=0x%016lx r14=0x%016lx r15=0x%016lx\n", f.r13, f.r14, f.r15);
  print_backtrace(out, f);
}

[[noreturn]] void panic_at(const TrapFrame* f, const char* reason, u64 cr2, smp::StopSource how) {
  cli();
  smp::PerCpu* c = cpu_or_null();
  u64 me = c != nullptr ? c->index : 0;
  u64 expected = kNoPanic;
  if (!__atomic_compare_exchange_n(&g_panic_cpu, &expected, me, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    // Another CPU is already panicking (or this one faulted inside its own panic).
    if (expected != me) halt_forever();
    kernel::console::break_lock();
    // Both faults, raw (no symbol lookup, no disassembly: the report is what failed).
    const TrapFrame* first = g_first_panic_frame;
    kernel::console::printf(
        "\nerror: fault inside the panic path; halting this CPU\n"
        "error: the fault in the panic path: vector %lu rip=0x%016lx cr2=0x%016lx rsp=0x%016lx\n",
        f != nullptr ? f->vector : ~u64{0}, f != nullptr ? f->rip : 0, cr2, f != nullptr ? f->rsp : 0);
    if (first != nullptr)
      kernel::console::printf("error: the panic it interrupted: vector %lu rip=0x%016lx rsp=0x%016lx\n", first->vector,
                              first->rip, first->rsp);
    halt_forever();
  }
  g_first_panic_frame = f;
  // This CPU's own state first, before anything else runs on it: `regs` in the panic
  // shell shows it (the frame it faulted at and the system registers as they were).
  if (c != nullptr) {
    save_stopped_state(c, *f, how, cr2);
    c->state = smp::CpuState::Kpanic;
  }
  // Stop the others first so nothing else prints or changes state under the report.
  if (smp::g_online_count > 1) {
    if (!arch::lapic::send_nmi_all_but_self())
      kernel::console::puts("\npanic: the stop NMI was not accepted by the local APIC\n");
    (void)kernel::spin_until(
        [&] {
          for (u64 i = 0; i < smp::g_cpu_count; ++i)
            if (i != me && smp::g_cpus[i].percpu != nullptr && smp::g_cpus[i].percpu->state == smp::CpuState::Online)
              return false;
          return true;
        },
        200000);  // a CPU that does not stop in 200 ms is left running; the report goes on
  }
  if (c != nullptr) c->guard_armed = false;
  // The deliberate fault (if it was one) has happened: from here on a fault inside a
  // panic-shell command is caught by the command guard again, not a second panic.
  g_expect_crash = false;
  kernel::console::break_lock();
  {
    kernel::console::Locked lock;
    lib::Sink& out = kernel::console::sink();
    lib::format(out, "\nPANIC: %s\n", reason != nullptr ? reason : exception_name(f->vector));
    if (how == smp::StopSource::Exception)
      print_report(out, *f, cr2);
    else
      print_backtrace(out, *f);
  }
  run_on_panic_stack(c != nullptr ? c->stopped_frame : f);
}

// The cross-CPU call and TLB vectors are smp's (registered by smp::xcall_init); the
// NMI is shared: a panic's stop request first, else smp's cross-CPU call by NMI.
void on_nmi(TrapFrame* f) { nmi(f); }
// #BP: an int3 gdb planted stops the machine at it (rip back on the int3); any other int3
// (`crash bp`) is an exception like the rest.
void on_breakpoint(TrapFrame* f) {
  if (gdb::is_software_breakpoint(f->rip - 1)) {
    f->rip -= 1;
    stop_at_software_breakpoint(f);
    return;
  }
  exception(f);
}
void on_exception(TrapFrame* f) { exception(f); }
// kernel::panic: the frame is the caller's, taken here (the report's backtrace and the
// shell's unwinding start at the panic call).
[[gnu::noinline]] void on_kernel_panic(const char* reason) {
  TrapFrame f = capture_frame();
  panic_at(&f, reason, read_cr2(), smp::StopSource::Panic);
}

void init() {
  set_trap_handler(vec::kNmi, on_nmi);
  set_trap_handler(vec::kDebug, on_debug_exception);
  set_trap_handler(vec::kBreakpoint, on_breakpoint);
  smp::set_ap_arrival_hook(apply_breakpoints_here);  // APs that come up later get the table
  set_exception_handler(on_exception);
  kernel::set_panic_handler(on_kernel_panic);
}

void set_panic_shell(void (*shell)()) { g_panic_shell = shell; }
u64 shell_stack_top() { return reinterpret_cast<u64>(g_panic_stack) + sizeof(g_panic_stack); }
StackRange shell_stack() { return {reinterpret_cast<u64>(g_panic_stack), shell_stack_top()}; }
u64 shell_cpu() {
  if (g_panic_cpu != kNoPanic) return g_panic_cpu;
  return stopped() ? stopped_cpu() : kNoCpu;
}

}  // namespace debug
