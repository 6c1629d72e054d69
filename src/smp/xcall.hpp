// Cross-CPU calls: run a function on another CPU through an IPI on a fixed vector
// (arch::vec::kCrossCall) and wait for it, bounded; if the CPU does not answer (it
// runs with interrupts off, or is wedged), try again by NMI, which it cannot mask.
#pragma once
#include "smp/percpu.hpp"

namespace smp {

enum class XcallResult { Done, DoneViaNmi, Timeout, NoSuchCpu, NotDelivered, Busy, ApicDisabled };
const char* xcall_result_name(XcallResult r);

// fn(arg, frame) runs on CPU `index` in interrupt context; frame is what that CPU was
// doing when interrupted. On the calling CPU itself fn runs directly with a frame of
// the caller.
XcallResult xcall(u64 index, XcallFn fn, void* arg, u64 timeout_us);
// Posts fn to another online CPU and returns without waiting (for a call that never
// completes, like the monitor's `wedge`); false if there is no such CPU.
[[nodiscard]] bool xcall_post(u64 index, XcallFn fn, void* arg);
// On every online CPU but the caller, one after another; returns how many answered.
u64 xcall_others(XcallFn fn, void* arg, u64 timeout_us);

// Every other online CPU reloads CR3, all at once (one broadcast IPI); waits, bounded,
// for their acknowledgements and returns how many answered.
u64 tlb_flush_others(u64 timeout_us);
extern lib::Atomic<u64> g_tlb_flush_acks;

// Called from the IPI and NMI handlers.
void xcall_handle(PerCpu* self, const arch::TrapFrame* f, bool from_nmi);

// Registers the cross-CPU call and TLB-flush vectors and per-CPU trap accounting with
// arch/trap, and the TLB shootdown with mm/kvm. Once, on the BSP, before any AP starts.
void xcall_init();

}  // namespace smp
