#include "smp/xcall.hpp"

#include "lib/assert.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "kernel/spin.hpp"
#include "kernel/stop_clock.hpp"
#include "lib/spinlock.hpp"
#include "mm/kvm.hpp"

namespace smp {
namespace {
// One call in flight: the mailbox is per target, callers are few. Taken with a bound (a
// caller never waits forever for another) and owner-aware (a monitor command that faulted
// inside xcall left it held by this CPU: the next call takes it over).
lib::OwnerLock g_lock;
constexpr u64 kLockSpins = 10000000;

class XcallLock {
 public:
  XcallLock() : held_(g_lock.lock(this_cpu()->index + 1, kLockSpins)) {}
  ~XcallLock() {
    if (held_) g_lock.unlock();
  }
  XcallLock(const XcallLock&) = delete;
  XcallLock& operator=(const XcallLock&) = delete;
  bool held() const { return held_; }

 private:
  bool held_;
};

bool wait_done(PerCpu* t, u64 seq, u64 timeout_us) {
  return kernel::spin_until([&] { return t->xcall_done.load() == seq; }, timeout_us);
}

// Writes the request into t's mailbox and sends the IPI; returns its sequence number.
// *sent says whether the local APIC accepted the IPI. The caller holds g_lock.
u64 post(PerCpu* t, XcallFn fn, void* arg, bool* sent) {
  KASSERT(t != this_cpu());  // a CPU never posts to its own mailbox: it would wait on itself
  t->xcall_fn = fn;
  t->xcall_arg = arg;
  t->xcall_via_nmi = false;
  u64 seq = t->xcall_seq + 1;
  t->xcall_seq = seq;  // release: the mailbox above is visible before the new number
  *sent = arch::lapic::send_fixed(t->apic_id, arch::vec::kCrossCall);
  return seq;
}
}  // namespace

const char* xcall_result_name(XcallResult r) {
  switch (r) {
    case XcallResult::Done: return "ipi";
    case XcallResult::DoneViaNmi: return "nmi";
    case XcallResult::Timeout: return "timeout";
    case XcallResult::NoSuchCpu: return "no such cpu";
    case XcallResult::NotDelivered: return "ipi not delivered";
    case XcallResult::Busy: return "another cross-CPU call held the mailbox lock too long";
    case XcallResult::ApicDisabled: return "this cpu's local APIC is disabled (IA32_APIC_BASE); it can send no IPI";
  }
  return "?";
}

// Not inlined into the IPI and NMI handlers: one place to put a breakpoint on.
[[gnu::noinline]] void xcall_handle(PerCpu* self, const arch::TrapFrame* f, bool from_nmi) {
  u64 seq = self->xcall_seq;
  u64 claimed = self->xcall_claimed;
  if (seq == claimed) return;  // nothing pending (or a late duplicate)
  if (from_nmi && !self->xcall_via_nmi) return;
  // Exactly once, whether the IPI or the NMI gets there first.
  if (!self->xcall_claimed.compare_exchange(claimed, seq)) return;
  XcallFn fn = self->xcall_fn;
  if (fn != nullptr) fn(self->xcall_arg, f);
  self->xcall_done = seq;
}

XcallResult xcall(u64 index, XcallFn fn, void* arg, u64 timeout_us) {
  PerCpu* t = cpu(index);
  if (t == nullptr) return XcallResult::NoSuchCpu;
  if (t == this_cpu()) {  // whatever its state says (a shell's CPU is kstop or kpanic)
    arch::TrapFrame f = arch::capture_frame();
    fn(arg, &f);
    return XcallResult::Done;
  }
  if (t->state != CpuState::Online) return XcallResult::NoSuchCpu;
  XcallLock guard;
  if (!guard.held()) return XcallResult::Busy;
  if (!arch::lapic::usable()) return XcallResult::ApicDisabled;
  bool sent = false;
  u64 seq = post(t, fn, arg, &sent);
  if (sent && wait_done(t, seq, timeout_us)) return XcallResult::Done;
  // No answer to a maskable interrupt: NMI it (xcall_handle runs the same request).
  t->xcall_via_nmi = true;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  bool nmi_sent = arch::lapic::send_nmi(t->apic_id);
  if (nmi_sent && wait_done(t, seq, timeout_us)) return XcallResult::DoneViaNmi;
  // fn and arg may point into our stack: a CPU that wakes up much later runs nothing.
  t->xcall_fn = nullptr;
  return sent || nmi_sent ? XcallResult::Timeout : XcallResult::NotDelivered;
}

bool xcall_post(u64 index, XcallFn fn, void* arg) {
  PerCpu* t = cpu(index);
  if (t == nullptr || t->state != CpuState::Online || t == this_cpu()) return false;
  XcallLock guard;
  if (!guard.held() || !arch::lapic::usable()) return false;
  bool sent = false;
  post(t, fn, arg, &sent);
  return sent;
}

lib::Atomic<u64> g_tlb_flush_acks;

u64 tlb_flush_others(u64 timeout_us) {
  u64 others = __atomic_load_n(&g_online_count, __ATOMIC_ACQUIRE) - 1;
  if (others == 0) return 0;
  u64 start = g_tlb_flush_acks;
  bool sent = arch::lapic::send(arch::lapic::Ipi{.delivery = arch::lapic::Delivery::Fixed,
                                                 .vector = arch::vec::kTlbFlush,
                                                 .shorthand = arch::lapic::Shorthand::AllExcludingSelf});
  if (!sent) return 0;  // the local APIC did not take it: nobody will acknowledge
  (void)kernel::spin_until([&] { return g_tlb_flush_acks - start >= others; }, timeout_us);
  return g_tlb_flush_acks - start;
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

namespace {
// GS points at a PerCpu once the CPU is on its slot; before that (early boot) there is
// nothing to count into.
PerCpu* this_cpu_or_null() {
  u64 gs = arch::rdmsr(arch::msr::kGsBase);
  if (gs < mm::layout::kPerCpuBase || gs >= mm::layout::kPerCpuEnd) return nullptr;
  return reinterpret_cast<PerCpu*>(gs);
}

void on_cross_call(arch::TrapFrame* f) {
  PerCpu* c = this_cpu_or_null();
  if (c != nullptr) {
    c->ipis = c->ipis + 1;
    xcall_handle(c, f, false);
  }
  arch::lapic::eoi();
}

void on_tlb_flush(arch::TrapFrame*) {
  mm::kvm::flush_tlb_all();  // global entries too: kernel mappings are global
  g_tlb_flush_acks.fetch_add(1);
  arch::lapic::eoi();
}

void account(u64 vector) {
  PerCpu* c = this_cpu_or_null();
  if (c != nullptr) __atomic_fetch_add(&c->trap_counts[vector & 0xff], 1, __ATOMIC_RELAXED);
}
}  // namespace

void xcall_init() {
  arch::set_trap_handler(arch::vec::kCrossCall, on_cross_call);
  arch::set_trap_handler(arch::vec::kTlbFlush, on_tlb_flush);
  arch::set_trap_accounting(account);
  mm::kvm::set_tlb_shootdown(tlb_flush_others);
}

}  // namespace smp
