// Interrupt and exception dispatch: isr.asm saves a TrapFrame and calls trap_dispatch,
// which calls the handler a higher layer registered for that vector (smp: cross-CPU
// calls, TLB flushes; debug: exceptions, NMI). arch/ itself knows no policy: it never
// prints, panics or looks at per-CPU data.
#pragma once
#include "arch/cpu.hpp"
#include "arch/trap_frame.hpp"

namespace arch {

using TrapHandler = void (*)(TrapFrame* f);

// The handler for one vector (interrupts, NMI, or a specific exception). Registered at
// boot, before interrupts are enabled; never changed concurrently with dispatch.
void set_trap_handler(u8 vector, TrapHandler h);
// Exceptions (vectors 0-31) with no handler of their own.
void set_exception_handler(TrapHandler h);
// Called first for every vector taken, for per-CPU accounting (may be null).
void set_trap_accounting(void (*count)(u64 vector));

// A frame for code that was not interrupted (a cross-CPU call a CPU makes to itself, a
// debugger stop at the caller): rip, rsp, rbp, cs, ss, rflags of the caller. Inlined,
// so rsp and rbp are the caller's own.
[[gnu::always_inline]] inline TrapFrame capture_frame() {
  TrapFrame f{};
  asm volatile("leaq (%%rip), %0" : "=r"(f.rip));
  asm volatile("movq %%rsp, %0" : "=r"(f.rsp));
  asm volatile("movq %%rbp, %0" : "=r"(f.rbp));
  asm volatile("mov %%cs, %q0" : "=r"(f.cs));  // zero-extended
  asm volatile("mov %%ss, %q0" : "=r"(f.ss));
  f.rflags = read_rflags();
  return f;
}

}  // namespace arch

extern "C" void trap_dispatch(arch::TrapFrame* f);
extern "C" int guarded_call(void (*fn)(void*), void* arg, u64* jmpbuf);
extern "C" [[noreturn]] void guard_resume(u64* jmpbuf);
// Runs fn() on a fresh stack (16-byte aligned top) as the CPU's outermost frame; fn never returns.
extern "C" [[noreturn]] void start_on_stack(u64 stack_top, void (*fn)());
// Runs fn(arg) on the stack below stack_top (16-byte aligned) under a copy of *frame, which
// unwinders take for a trap frame: backtraces from fn lead to where frame was taken.
extern "C" void call_with_frame(void (*fn)(void*), void* arg, u64 stack_top, const arch::TrapFrame* frame);
