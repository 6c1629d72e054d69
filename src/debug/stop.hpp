// Breakpoints, watchpoints and single-step on every CPU, kept in DR0-DR3/DR7 (debug/dr.hpp).
// A hit on any CPU stops every other CPU by NMI (they are held in the NMI handler with
// their frames saved, as in a panic, but resumable) and runs the stop shell (`kstop> `, the
// monitor's, which also serves gdb's stub) on the CPU that hit, with its frame. The shell
// says how the machine goes on (ResumePlan): everyone runs; one CPU executes one
// instruction while the others stay held, and the machine stops again; or one CPU steps
// while the others run. A single step runs with the stepping CPU's interrupts masked at
// its local APIC (TPR), so it ends on the next instruction, never in an interrupt handler.
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

constexpr u64 kNoCpu = ~u64{0};

// Why the machine stopped, for the shell (kstop> and gdb's stop reply).
struct StopInfo {
  enum class Why : u8 { Breakpoint, Watchpoint, Step, Here, Interrupt, DebugException, SoftwareBreakpoint };
  Why why;
  u64 cpu;           // the CPU that stopped the machine and runs the shell
  int slot;          // Breakpoint, Watchpoint: the debug-register slot
  u64 data_addr;     // Watchpoint: the watched address
  BpKind kind;       // Watchpoint: write or read/write
  const char* text;  // Here, Interrupt: who asked
};

// How the machine goes on when the shell returns.
struct ResumePlan {
  u64 step_cpu = kNoCpu;   // the CPU that executes one instruction (kNoCpu: none)
  bool others_run = true;  // false: the others stay held and the machine stops after the step
};
// The shell run while stopped (monitor::stop_shell).
using StopShell = ResumePlan (*)(const StopInfo& why);
void set_stop_shell(StopShell shell);
bool stopped();                       // the machine is stopped in the debugger right now
u64 stopped_cpu();                    // which CPU runs the stop shell
const arch::TrapFrame* stop_frame();  // that CPU's frame where it stopped
// Stops the machine at the caller (no exception): `debug.wait` before AP bring-up.
void stop_here(const char* why);
// Stops the machine where this CPU was interrupted (f, its interrupt frame, with interrupts
// off): gdb's ^C or a gdb attaching, seen by the stub's poll.
void stop_at_interrupt(arch::TrapFrame* f, const char* who);
// An int3 gdb planted (debug/gdb_stub) was hit: f->rip points at it again; the machine stops.
void stop_at_software_breakpoint(arch::TrapFrame* f);
// From the shell, while stopped: held CPU n executes one instruction (interrupts masked)
// and is held again, its new frame saved; false (with a reason) if it cannot or did not
// come back within a second. A `hlt` is stepped over, as if an interrupt had woken the CPU.
bool step_held_cpu(u64 n, const char** why);
// The frame a held CPU (or the shell's own) resumes from: gdb's register writes go here and
// take effect when it runs again.
arch::TrapFrame* resumable_frame(u64 n);

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
