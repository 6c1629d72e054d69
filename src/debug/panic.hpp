// The panic policy and fault reports (above smp/, below the monitor): exceptions and the
// NMI are registered with arch/trap by init(); a fault inside a guarded monitor command
// returns to the prompt; anything else stops every other CPU by NMI, prints the report
// and enters the panic shell the monitor registered (kernel::panic lands here too).
#pragma once
#include "arch/trap_frame.hpp"
#include "debug/backtrace.hpp"
#include "debug/stop.hpp"
#include "lib/fmt.hpp"
#include "smp/percpu.hpp"

namespace debug {

// Registers the exception and NMI handlers and the target of kernel::panic.
void init();
// The panic shell (monitor::panic_shell), entered on the panic stack; without one, a halt.
void set_panic_shell(void (*shell)());
// The stack the panic and stop shells run on (top 16-byte aligned), and the CPU running a
// shell on it now (kNoCpu when none).
u64 shell_stack_top();
StackRange shell_stack();
u64 shell_cpu();

// Prints the full report for an exception: CPU, vector and name, error code, CR2,
// every general register, and the backtrace (debug/frames.hpp) with symbol names.
void print_report(lib::Sink& out, const arch::TrapFrame& f, u64 cr2);
void print_backtrace(lib::Sink& out, const arch::TrapFrame& f);

// Saves this CPU's state (f, cr2, how), stops every other CPU by NMI, prints the report
// (an exception's full report, else the backtrace from f) and enters the panic shell on
// this CPU. Never returns.
[[noreturn]] void panic_at(const arch::TrapFrame* f, const char* reason, u64 cr2, smp::StopSource how);
bool panicking();
u64 panic_cpu();

// The monitor's `crash` command sets this so its deliberate fault panics instead of
// being caught by the command guard.
void expect_crash();

}  // namespace debug
