// Backtraces of kernel CPUs: the unwind table the build links into .ksyms
// (scripts/gen_unwind.py), the stacks a CPU owns, and the one way frames are printed
// (monitor `bt`, panic reports, debugger stops).
#pragma once
#include "arch/trap_frame.hpp"
#include "debug/backtrace.hpp"
#include "lib/fmt.hpp"

namespace smp {
struct PerCpu;
}

namespace debug {

const UnwindTable& unwind_table();
// The stacks CPU p owns: its kernel stack, its IST stacks, the shells' stack while it runs
// a shell (panic or kstop>), and the boot stack for the bootstrap CPU. p may be null
// (early boot): the boot stack alone.
usize cpu_stacks(const smp::PerCpu* p, StackRange* out);
// Unwinds from f (the CPU's interrupted or stopped state) through p's stacks, reading
// memory directly: call it on that CPU, or while that CPU is stopped.
void backtrace(const smp::PerCpu* p, const arch::TrapFrame& f, Frames* out);
// Frame k's symbol and the offset from it to pc itself, as print_frames shows them;
// nullptr if no symbol (printed as "?").
const char* frame_symbol(const Frames& f, usize k, u64* offset);
// One line per frame: "<prefix>#<k> 0x<pc> <symbol>+0x<off>" (the contract's bt lines
// with an empty prefix), symbols looked up at the call for return addresses; then the
// reason the walk ended, in parentheses, unless `quiet_end`.
void print_frames(lib::Sink& out, const Frames& f, const char* prefix, bool quiet_end);

}  // namespace debug
