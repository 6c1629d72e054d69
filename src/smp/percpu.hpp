// Per-CPU data: one structure at the base of each CPU's slot in the per-CPU region
// (layout.hpp), reached through GS: gs:0 holds a pointer to the structure itself, so
// this_cpu() is one load. Assembly reads kPerCpu* offsets, static_asserted below.
#pragma once
#include "arch/cache_config.hpp"
#include "arch/gdt.hpp"
#include "arch/lapic_regs.hpp"
#include "arch/trap_frame.hpp"
#include "config.hpp"
#include "lib/atomic.hpp"
#include "mm/layout.hpp"

namespace smp {

enum class CpuState : u32 {
  Offline,   // disabled by firmware (MADT flags): never started
  Starting,  // INIT-SIPI-SIPI sent, not arrived yet
  Online,    // running kernel code on its own slot
  Failed,    // did not arrive within the bring-up timeout
  Stopped,   // held (by NMI) while another CPU runs the panic or the debugger's shell
  Kstop,     // runs the debugger's stop shell (kstop>): it hit the breakpoint, watchpoint or step
  Kpanic,    // runs the panic shell (kpanic>): it took the fault or called panic
};
const char* cpu_state_name(CpuState s);
// Atomically moves *s from `from` to `to`; false if it held something else.
inline bool cas_state(lib::Atomic<CpuState>* s, CpuState from, CpuState to) { return s->compare_exchange(from, to); }

using XcallFn = void (*)(void* arg, const arch::TrapFrame* interrupted);

// How a stopped CPU's saved frame came to be (PerCpu::stopped_how).
enum class StopSource : u32 {
  None,
  Exception,    // this CPU took the exception that panicked the machine
  Panic,        // this CPU called kernel::panic (the frame is its own, at the call)
  PanicNmi,     // stopped by the panicking CPU's NMI
  Breakpoint,   // this CPU hit the breakpoint, watchpoint or step that stopped the machine
  DebuggerNmi,  // stopped by the debugger's NMI while another CPU hit a breakpoint
  HeldStep,     // held again after one instruction it ran while the others stayed held
};
const char* stop_source_text(StopSource s);

struct alignas(64) PerCpu {
  PerCpu* self;  // gs:0
  u64 index;     // gs:8
  u32 apic_id;   // gs:16
  lib::Atomic<CpuState> state;
  u64 slot_base;
  u64 stack_lo, stack_hi;
  u64 ist_lo[mm::layout::kIstCount], ist_hi[mm::layout::kIstCount];
  u64 arrival_tsc;              // when it reached ap_main (the BSP: when its slot went live)
  arch::lapic::Mode apic_mode;  // how its local APIC was found and left (set on arrival)
  // Its MTRRs and PAT against the BSP's, compared by this CPU once all APs are in
  // (bringup.cpp, ap_main): as found, and after it loaded the BSP's where they differed.
  arch::cache::Difference cache_found;
  arch::cache::Difference cache_diff;

  // Cross-CPU call mailbox (xcall.cpp): written by the caller under xcall_lock.
  lib::Atomic<XcallFn> xcall_fn;
  lib::Atomic<void*> xcall_arg;
  lib::Atomic<u64> xcall_seq;
  lib::Atomic<u64> xcall_done;
  lib::Atomic<u64> xcall_claimed;  // the seq a handler has taken (IPI or NMI, once)
  lib::Atomic<bool> xcall_via_nmi;

  // Counters.
  lib::Atomic<u64> ap_entries;  // times ap_main ran on this slot (1 for a healthy AP)
  lib::Atomic<u64> ipis;
  lib::Atomic<u64> nmis;
  lib::Atomic<u64> exceptions;
  u64 trap_counts[256];  // every vector this CPU took (arch/trap accounting), atomically bumped

  // While the machine is stopped (panic or debugger): the frame this CPU stopped at and
  // the system registers the frame does not hold, read by this CPU itself when it stopped,
  // and how it stopped (so `regs` and `bt` can say which).
  arch::TrapFrame* stopped_frame;
  arch::TrapFrame stopped_copy;
  struct {
    u64 cr0, cr2, cr3, cr4, efer, gs_base;
    u64 fs_base, kernel_gs_base, cr8;  // for gdb's target description (gdbstub/regs.hpp)
    u16 ds, es, fs, gs;
  } stopped_sys;
  StopSource stopped_how;
  // While held by the debugger (debug/stop.cpp): what the CPU is told to do next (HoldCmd),
  // how a single step it takes ends (StepMode), its TPR while stepping, the held steps
  // it completed, and the last stop that held it (debug's stop number).
  lib::Atomic<u32> hold_cmd;
  u32 step_mode;
  u32 saved_tpr;
  lib::Atomic<u64> held_steps;
  lib::Atomic<u64> held_in_stop;

  // Monitor command guard (guarded_call/guard_resume in isr.asm).
  u64 guard_buf[8];
  bool guard_armed;
  bool guard_quiet;  // the guarded code expects faults (rdmsr probes): no report, just the return

  arch::Gdt gdt;
  arch::Tss tss;
};
static_assert(sizeof(PerCpu) <= mm::layout::kPerCpuDataSize, "PerCpu must fit its page(s)");
constexpr usize kPerCpuSelfOffset = 0;
static_assert(__builtin_offsetof(PerCpu, self) == kPerCpuSelfOffset);

inline PerCpu* this_cpu() {
  PerCpu* p;
  asm volatile("movq %%gs:0, %0" : "=r"(p));
  return p;
}

// Every processor the MADT lists, in MADT order except that the bootstrap CPU is
// always index 0 (its slot is set up before ACPI is read).
struct CpuEntry {
  u32 apic_id;
  u32 acpi_uid;
  CpuState state;  // mirrors PerCpu::state once a slot exists
  PerCpu* percpu;  // nullptr when no slot is backed (offline)
  u64 arrival_tsc;
};

extern CpuEntry g_cpus[config::kMaxCpus];
extern u64 g_cpu_count;

// Processors the firmware's list (MADT or MP table) names beyond the slots (or disabled
// ones beyond them), in its order: shown by `cpus` after the slotted ones, never started.
struct NoSlotCpu {
  u32 apic_id;
  u32 acpi_uid;
  bool enabled;
};
extern NoSlotCpu g_noslot[config::kMaxMadtCpus];
extern u64 g_noslot_count;
extern u64 g_noslot_enabled;  // of which enabled
extern u64 g_cpus_listed;     // processors the firmware's list names (kept by the parser or not)
// Where the CPU list came from: "the MADT", "the MP table"; nullptr: no list, the
// bootstrap CPU alone.
extern const char* g_cpu_list_source;
extern u64 g_online_count;
// APIC ID per index, read by ap_entry.asm to find an AP's slot.
extern "C" u32 g_cpu_apic_ids[config::kMaxCpus];
extern "C" u64 g_cpu_apic_count;

// Allocates and maps CPU index's slot (data, stacks; guard pages stay unmapped).
PerCpu* create_slot(u64 index, u32 apic_id);
// Loads GDT/TSS/IDT and GS for the calling CPU (which must own p).
void activate(PerCpu* p);
PerCpu* cpu(u64 index);  // nullptr if out of range or no slot
// Bytes of the kernel stack ever used (the unpainted part).
u64 stack_high_water(const PerCpu* p);

}  // namespace smp
