#include "smp/xcall.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/tsc.hpp"
#include "lib/spinlock.hpp"

namespace smp {
namespace {
lib::Spinlock g_lock;  // one call in flight: the mailbox is per target, callers are few

bool wait_done(PerCpu* t, u64 seq, u64 timeout_us) {
  u64 deadline = arch::rdtsc() + tsc::us_to_ticks(timeout_us);
  while (__atomic_load_n(&t->xcall_done, __ATOMIC_ACQUIRE) != seq) {
    if (arch::rdtsc() > deadline) return false;
    arch::pause();
  }
  return true;
}

arch::TrapFrame capture_here() {
  arch::TrapFrame f{};
  asm volatile("leaq (%%rip), %0" : "=r"(f.rip));
  asm volatile("movq %%rsp, %0" : "=r"(f.rsp));
  asm volatile("movq %%rbp, %0" : "=r"(f.rbp));
  asm volatile("movw %%cs, %w0" : "=r"(f.cs));
  asm volatile("movw %%ss, %w0" : "=r"(f.ss));
  f.rflags = arch::read_rflags();
  return f;
}

// Writes the request into t's mailbox and sends the IPI; returns its sequence number.
// The caller holds g_lock.
u64 post(PerCpu* t, XcallFn fn, void* arg) {
  t->xcall_fn = fn;
  t->xcall_arg = arg;
  t->xcall_via_nmi = false;
  u64 seq = t->xcall_seq + 1;
  __atomic_store_n(&t->xcall_seq, seq, __ATOMIC_RELEASE);
  lapic::send_fixed(t->apic_id, arch::vec::kCrossCall);
  return seq;
}
}  // namespace

const char* xcall_result_name(XcallResult r) {
  switch (r) {
    case XcallResult::Done: return "ipi";
    case XcallResult::DoneViaNmi: return "nmi";
    case XcallResult::Timeout: return "timeout";
    case XcallResult::NoSuchCpu: return "no such cpu";
  }
  return "?";
}

void xcall_handle(PerCpu* self, const arch::TrapFrame* f, bool from_nmi) {
  u64 seq = __atomic_load_n(&self->xcall_seq, __ATOMIC_ACQUIRE);
  u64 claimed = self->xcall_claimed;
  if (seq == claimed) return;  // nothing pending (or a late duplicate)
  if (from_nmi && !self->xcall_via_nmi) return;
  // Exactly once, whether the IPI or the NMI gets there first.
  if (!__atomic_compare_exchange_n(&self->xcall_claimed, &claimed, seq, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return;
  XcallFn fn = self->xcall_fn;
  if (fn != nullptr) fn(self->xcall_arg, f);
  __atomic_store_n(&self->xcall_done, seq, __ATOMIC_RELEASE);
}

XcallResult xcall(u64 index, XcallFn fn, void* arg, u64 timeout_us) {
  PerCpu* t = cpu(index);
  if (t == nullptr || t->state != CpuState::Online) return XcallResult::NoSuchCpu;
  if (t == this_cpu()) {
    arch::TrapFrame f = capture_here();
    fn(arg, &f);
    return XcallResult::Done;
  }
  lib::LockGuard guard(g_lock);
  u64 seq = post(t, fn, arg);
  if (wait_done(t, seq, timeout_us)) return XcallResult::Done;
  // No answer to a maskable interrupt: NMI it (xcall_handle runs the same request).
  t->xcall_via_nmi = true;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  lapic::send_nmi(t->apic_id);
  if (wait_done(t, seq, timeout_us)) return XcallResult::DoneViaNmi;
  // fn and arg may point into our stack: a CPU that wakes up much later runs nothing.
  t->xcall_fn = nullptr;
  return XcallResult::Timeout;
}

bool xcall_post(u64 index, XcallFn fn, void* arg) {
  PerCpu* t = cpu(index);
  if (t == nullptr || t->state != CpuState::Online || t == this_cpu()) return false;
  lib::LockGuard guard(g_lock);
  post(t, fn, arg);
  return true;
}

volatile u64 g_tlb_flush_acks;

u64 tlb_flush_others(u64 timeout_us) {
  u64 others = __atomic_load_n(&g_online_count, __ATOMIC_ACQUIRE) - 1;
  if (others == 0) return 0;
  u64 start = __atomic_load_n(&g_tlb_flush_acks, __ATOMIC_ACQUIRE);
  lapic::send(lapic::Ipi{.delivery = lapic::Delivery::Fixed,
                         .vector = arch::vec::kTlbFlush,
                         .shorthand = lapic::Shorthand::AllExcludingSelf});
  u64 deadline = arch::rdtsc() + tsc::us_to_ticks(timeout_us);
  while (__atomic_load_n(&g_tlb_flush_acks, __ATOMIC_ACQUIRE) - start < others && arch::rdtsc() < deadline)
    arch::pause();
  return __atomic_load_n(&g_tlb_flush_acks, __ATOMIC_ACQUIRE) - start;
}

u64 xcall_others(XcallFn fn, void* arg, u64 timeout_us) {
  u64 n = 0;
  for (u64 i = 0; i < g_cpu_count; ++i) {
    PerCpu* p = g_cpus[i].percpu;
    if (p == nullptr || p == this_cpu() || p->state != CpuState::Online) continue;
    XcallResult r = xcall(i, fn, arg, timeout_us);
    if (r == XcallResult::Done || r == XcallResult::DoneViaNmi) ++n;
  }
  return n;
}

}  // namespace smp
