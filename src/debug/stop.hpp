// Breakpoints, watchpoints and single-step on every CPU, kept in DR0-DR3/DR7 (debug/dr.hpp).
// A hit on any CPU stops every other CPU by NMI (they spin in the NMI handler with their
// frames saved, as in a panic, but resumable) and runs the stop shell (`kstop> `, the
// monitor's) on the CPU that hit, with its frame; `continue` releases everyone, `step`
// runs one instruction of that CPU and stops again.
#pragma once
#include "arch/trap_frame.hpp"
#include "debug/dr.hpp"
#include "lib/fmt.hpp"
#include "smp/percpu.hpp"

namespace debug {

// Sets a breakpoint in a free slot (index in *slot); nullptr or the reason it cannot be.
const char* add_breakpoint(BpKind kind, u64 addr, u8 len, unsigned* slot);
// Removes slot k; false if it is not in use.
bool delete_breakpoint(unsigned k);
const BpSlot& breakpoint(unsigned k);
// Hit counts per slot since it was set.
u64 breakpoint_hits(unsigned k);
// Loads DR0-3 and DR7 on the calling CPU from the table (0 while this CPU is stopped).
void apply_breakpoints_here();
// Every online CPU loads the table (cross-CPU calls); returns how many did, this one included.
u64 apply_breakpoints_everywhere();

// The CPU that runs the monitor's prompt (set by the monitor when it starts): breakpoints
// it hits in the shells' own input/output code are counted (shell_path_skips), not stopped.
void set_monitor_cpu(u64 index);
bool on_shell_path(u64 addr);
u64 shell_path_skips();

enum class StopAction { Continue, Step };
// The shell run while stopped (monitor::stop_shell): returns what the user chose.
void set_stop_shell(StopAction (*shell)());
bool stopped();                       // the machine is stopped in the debugger right now
u64 stopped_cpu();                    // which CPU runs the stop shell
const arch::TrapFrame* stop_frame();  // that CPU's frame where it stopped
// Stops the machine at the caller (no exception): `debug.wait` before AP bring-up.
void stop_here(const char* why);

// Saves f, CR0/CR2/CR3/CR4, EFER and GS base of the calling CPU (which owns c) as its
// stopped state, for `regs` and `bt` while the machine is stopped. cr2 is passed in: an
// exception path reads it first thing, before anything else can fault.
void save_stopped_state(smp::PerCpu* c, const arch::TrapFrame& f, smp::StopSource how, u64 cr2);

// Called by debug/panic.cpp's NMI handler: true if this NMI was a stop request, which it
// served (the CPU spun until released).
bool serve_stop_nmi(arch::TrapFrame* f);
// Registered #DB handler (debug::init).
void on_debug_exception(arch::TrapFrame* f);

}  // namespace debug
