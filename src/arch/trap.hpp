// Interrupt and exception dispatch, the fault report, and the panic path.
#pragma once
#include "arch/trap_frame.hpp"
#include "lib/fmt.hpp"

namespace arch {

// Prints the full report for an exception: CPU, vector and name, error code, CR2,
// every general register, and a frame-pointer backtrace with symbol names.
void print_report(lib::Sink& out, const TrapFrame& f, u64 cr2);
void print_backtrace(lib::Sink& out, u64 rbp, u64 rip);

// Stops every other CPU by NMI, prints the report, and enters the panic shell on this
// CPU. Never returns. `f` may be null for a panic not caused by an exception.
[[noreturn]] void panic(const TrapFrame* f, const char* reason);
bool panicking();
u64 panic_cpu();

// The monitor's `crash` command sets this so its deliberate fault panics instead of
// being caught by the command guard.
void expect_crash();

}  // namespace arch

extern "C" void trap_dispatch(arch::TrapFrame* f);
extern "C" int guarded_call(void (*fn)(void*), void* arg, u64* jmpbuf);
extern "C" [[noreturn]] void guard_resume(u64* jmpbuf);
