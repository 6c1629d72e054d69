#include "smp/bringup.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/panic.hpp"
#include "kernel/spin.hpp"
#include "kernel/stop_clock.hpp"
#include "lib/boot_code.hpp"
#include "lib/string.hpp"
#include "mm/kvm.hpp"
#include "smp/percpu.hpp"
#include "smp/slot_plan.hpp"
#include "smp/trampoline_layout.h"
#include "smp/xcall.hpp"
#if KCONFIG_BENCH_FLOOR
#endif

extern "C" const u8 trampoline_blob_start[], trampoline_blob_end[];
extern "C" void ap_long_entry();

namespace smp {

Bringup g_bringup;
arch::cache::Snapshot g_bsp_cache;
// Set by the BSP once every AP has arrived or failed: then each online AP syncs its MTRRs
// and PAT with the BSP's (ap_main, woken by the TLB-flush broadcast) and counts itself here.
bool g_cache_sync_go;
u64 g_cache_synced;

namespace {
// Delays of the INIT-SIPI-SIPI sequence (SDM Vol. 3A 9.4.4.1 "Typical BSP Initialization
// Sequence", and the MultiProcessor Specification 1.4 Appendix B.4):
// - after INIT: the AP must finish its INIT reset before it accepts a start-up IPI. The
//   SDM's figure is 10 ms, written for processors with an external or early integrated
//   APIC. Processors with an integrated APIC since the P6 (Intel family 6, AMD family
//   0xf and later), and any virtual CPU, accept the SIPI right away; Linux drops the
//   delay for them too (arch/x86/kernel/smpboot.c, smp_quirk_init_udelay). We keep the
//   10 ms for anything older or unknown; `smp.init_delay_us=` overrides either way.
constexpr u64 kLegacyInitDelayUs = 10000;
constexpr u64 kSipiDelayUs = 200;

// An IPI the local APIC did not accept (xAPIC delivery status still pending after the
// bounded wait): said on the console; the AP then fails by timeout like a dead core.
BOOT_CODE void ipi_not_sent(u64 i, const char* what) {
  ++g_bringup.ipis_not_sent;
  kernel::console::printf("smp: warning: %s to cpu %lu (apic %u) not accepted by the local APIC\n", what, i,
                          g_cpus[i].apic_id);
}

BOOT_CODE u64 init_delay_us(const BringupOptions& opt) {
  if (opt.init_delay_set) return opt.init_delay_us;
  if ((arch::cpuid(1).ecx & arch::cpuid_bit::kLeaf1EcxHypervisor) != 0) return 0;
  auto v = arch::cpuid(0);
  bool intel = v.ebx == 0x756e6547 && v.edx == 0x49656e69 && v.ecx == 0x6c65746e;  // "GenuineIntel"
  bool amd = v.ebx == 0x68747541 && v.edx == 0x69746e65 && v.ecx == 0x444d4163;    // "AuthenticAMD"
  u32 sig = arch::cpuid(1).eax;
  u32 family = (sig >> 8) & 0xf;
  if (family == 0xf) family += (sig >> 20) & 0xff;  // extended family (SDM Vol. 2A, CPUID leaf 1)
  if ((intel && family >= 6) || (amd && family >= 0xf)) return 0;
  return kLegacyInitDelayUs;
}
}  // namespace

[[noreturn]] BOOT_CODE void bsp_enter_slot(u32 apic_id, void (*next)()) {
  g_cpu_count = 1;
  g_cpus[0].apic_id = apic_id;
  g_cpus[0].state = CpuState::Online;
  PerCpu* p = create_slot(0, apic_id);
  if (p == nullptr) kernel::panic("out of memory for the bootstrap CPU's per-CPU slot");
  activate(p);
  p->state = CpuState::Online;
  p->arrival_tsc = arch::rdtsc();
  g_cpus[0].arrival_tsc = p->arrival_tsc;
  g_online_count = 1;
  g_cpu_apic_ids[0] = apic_id;
  g_cpu_apic_count = 1;
  start_on_stack(p->stack_hi, next);
}

BOOT_CODE void register_cpus(const acpi::Cpu* cpus, usize count, usize dropped, u32 bsp_apic_id, const char* source) {
  g_cpu_list_source = source;
  g_cpus_listed = count + dropped;
  static u32 slot_of[acpi::kMaxCpus];
  SlotPlan plan = plan_slots(cpus, count, bsp_apic_id, config::kMaxCpus, slot_of);
  if (plan.bsp_entry == kNoSlot)
    kernel::console::printf("smp: warning: the bootstrap CPU (apic %u) is not in %s\n", bsp_apic_id, source);
  for (usize i = 0; i < count; ++i) {
    const acpi::Cpu& c = cpus[i];
    u32 n = slot_of[i];
    if (n == kNoSlot) {
      // Listed for `cpus`, never sent an IPI: without a slot it would have no stack.
      NoSlotCpu& ns = g_noslot[g_noslot_count++];
      ns.apic_id = c.apic_id;
      ns.acpi_uid = c.uid;
      ns.enabled = c.enabled;
      continue;
    }
    CpuEntry& e = g_cpus[n];
    e.acpi_uid = c.uid;
    if (n == 0) continue;  // the BSP's entry is filled in already
    e.apic_id = c.apic_id;
    // Enabled: start it. Neither enabled nor online-capable: absent, never start it
    // (ACPI 6.5 5.2.12.2, Table 5.40; MP spec 1.4 Table 4-4: EN clear). Online-capable
    // only: hot-pluggable, not started.
    e.state = c.enabled ? CpuState::Starting : CpuState::Offline;
    g_cpu_apic_ids[n] = c.apic_id;
  }
  g_cpu_count = plan.used;
  g_cpu_apic_count = plan.used;
  g_noslot_enabled = plan.enabled_noslot;
  if (plan.enabled_noslot != 0)
    kernel::console::printf("smp: %lu enabled CPUs in %s have no slot (KCONFIG_MAX_CPUS=%lu); not started\n",
                            static_cast<u64>(plan.enabled_noslot), source, config::kMaxCpus);
  if (dropped != 0)
    kernel::console::printf("smp: %lu more CPUs in %s than the parser keeps (KCONFIG_MAX_MADT_CPUS=%lu); not started\n",
                            static_cast<u64>(dropped), source, config::kMaxMadtCpus);
}

void (*g_ap_arrival_hook)();
void set_ap_arrival_hook(void (*hook)()) { g_ap_arrival_hook = hook; }

void set_trampoline_page(u64 phys) { g_bringup.trampoline_phys = phys; }

BOOT_CODE void send_init_sipi_sipi(u8 sipi_vector, const BringupOptions& opt, u64 expected, ArrivedFn arrived) {
  Bringup& b = g_bringup;
  auto skipped = [&](u64 i) { return opt.skip_apic_set && g_cpus[i].apic_id == opt.skip_apic; };
  // INIT to every AP without waiting on any one of them, then the start-up IPIs: the
  // fixed delays are paid once for all APs, so bring-up time grows little with count.
  b.first_init_tsc = arch::rdtsc();
  for (u64 i = 1; i < g_cpu_count; ++i)
    if (g_cpus[i].state == CpuState::Starting && !skipped(i))
      if (!arch::lapic::send(arch::lapic::Ipi{.delivery = arch::lapic::Delivery::Init, .dest = g_cpus[i].apic_id}))
        ipi_not_sent(i, "INIT");
  b.init_sent_tsc = arch::rdtsc();
  b.init_delay_us = init_delay_us(opt);
  if (expected > 0) arch::tsc::delay_us(b.init_delay_us);
  for (int round = 0; round < 2 && expected > 0; ++round) {
    for (u64 i = 1; i < g_cpu_count; ++i) {
      if (g_cpus[i].state != CpuState::Starting || arrived(i) || skipped(i)) continue;
      if (!arch::lapic::send(arch::lapic::Ipi{
              .delivery = arch::lapic::Delivery::Startup, .vector = sipi_vector, .dest = g_cpus[i].apic_id}))
        ipi_not_sent(i, "SIPI");
    }
    (round == 0 ? b.sipi1_tsc : b.sipi2_tsc) = arch::rdtsc();
    arch::tsc::delay_us(kSipiDelayUs);
  }
}

BOOT_CODE void start_aps(const BringupOptions& opt) {
  Bringup& b = g_bringup;
  u64 page = b.trampoline_phys;
  u8 sipi_vector = 0;
  if (!arch::lapic::sipi_vector_for(page, &sipi_vector)) {
    kernel::console::puts("error: no trampoline page below 1 MiB; APs not started\n");
    return;
  }
  arch::cache::snapshot_this_cpu(&g_bsp_cache);
  // Slots first, so an AP finds everything in place the moment it arrives.
  for (u64 i = 1; i < g_cpu_count; ++i) {
    if (g_cpus[i].state != CpuState::Starting) continue;
    if (create_slot(i, g_cpus[i].apic_id) == nullptr) {
      kernel::console::printf("error: out of memory for cpu %lu's slot; not started\n", i);
      g_cpus[i].state = CpuState::Failed;
    }
  }

  // The trampoline: copied through the direct map, data block patched for this page.
  u8* tramp = reinterpret_cast<u8*>(mm::kvm::phys_to_virt(page));
  memcpy(tramp, trampoline_blob_start, static_cast<usize>(trampoline_blob_end - trampoline_blob_start));
  auto* d = reinterpret_cast<TrampolineData*>(tramp + TRAMP_DATA);
  d->cr3 = static_cast<u32>(mm::kvm::pml4_phys());
  d->entry64 = reinterpret_cast<u64>(&ap_long_entry);
  d->gdtr_base = static_cast<u32>(page + TRAMP_GDT);
  d->pm32_offset = static_cast<u32>(page + d->pm32_off_in_page);
  d->lm64_offset = static_cast<u32>(page + d->lm64_off_in_page);
  mm::kvm::map_identity(page);

  u64 expected = 0;
  for (u64 i = 1; i < g_cpu_count; ++i)
    if (g_cpus[i].state == CpuState::Starting) ++expected;
  b.started = expected;

  send_init_sipi_sipi(sipi_vector, opt, expected, [](u64 i) {
    const PerCpu* p = g_cpus[i].percpu;
    return p != nullptr && p->state != CpuState::Starting;
  });

  // Wait for arrivals, bounded (config::kApArrivalTimeoutMs, reason in config.hpp).
  u64 timeout_ms = opt.timeout_ms != 0 ? opt.timeout_ms : config::kApArrivalTimeoutMs;
  (void)kernel::spin_until(
      [&] {
        u64 arrived = 0;
        for (u64 i = 1; i < g_cpu_count; ++i)
          if (g_cpus[i].percpu != nullptr && g_cpus[i].percpu->state == CpuState::Online) ++arrived;
        return arrived == expected;
      },
      timeout_ms * 1000);  // who has not arrived by then is failed, just below
  // Whoever has not arrived is failed. The AP does the opposite exchange, so exactly one
  // of the two wins; a failed AP is put back into wait-for-SIPI with INIT so it cannot
  // run the trampoline once its identity mapping is gone.
  for (u64 i = 1; i < g_cpu_count; ++i) {
    CpuEntry& e = g_cpus[i];
    if (e.state != CpuState::Starting || e.percpu == nullptr) continue;
    if (cas_state(&e.percpu->state, CpuState::Starting, CpuState::Failed)) {
      e.state = CpuState::Failed;
      ++b.failed;
      if (!arch::lapic::send(arch::lapic::Ipi{.delivery = arch::lapic::Delivery::Init, .dest = e.apic_id}))
        ipi_not_sent(i, "INIT");
    } else {
      e.state = CpuState::Online;
      e.arrival_tsc = e.percpu->arrival_tsc;
      ++b.arrived;
      if (e.arrival_tsc > b.last_arrival_tsc) b.last_arrival_tsc = e.arrival_tsc;
    }
  }
  b.done_tsc = arch::rdtsc();

  // Nothing in the lower half from here on; every CPU drops the identity mapping. The same
  // broadcast wakes the APs for their MTRR/PAT sync (ap_main), all at once now that all
  // are in rather than one by one while the others are still starting.
  __atomic_store_n(&g_cache_sync_go, true, __ATOMIC_RELEASE);
  mm::kvm::unmap_identity();
  u64 acks = tlb_flush_others(100000);
  if (acks + 1 < g_online_count)
    kernel::console::printf("smp: warning: only %lu of %lu CPUs acknowledged the TLB flush\n", acks,
                            g_online_count - 1);
  // The boot report reads what each AP found; bounded like the flush.
  if (!kernel::spin_until([&] { return __atomic_load_n(&g_cache_synced, __ATOMIC_ACQUIRE) >= b.arrived; }, 100000))
    kernel::console::printf(
        "smp: warning: only %lu of %lu APs synced their MTRRs/PAT; the cache line below "
        "counts the others as identical\n",
        __atomic_load_n(&g_cache_synced, __ATOMIC_ACQUIRE), b.arrived);
  b.flushed_tsc = arch::rdtsc();
}

}  // namespace smp

// Before ap_main, so that ap_main runs as an ordinary function on a CPU with its IDT, GS
// and debug registers loaded: a breakpoint on ap_main itself fires on every AP.
extern "C" void ap_prepare(u64 index) {
  using namespace smp;
  activate(g_cpus[index].percpu);
  if (g_ap_arrival_hook != nullptr) g_ap_arrival_hook();  // e.g. the debugger's breakpoints
}

extern "C" [[noreturn]] void ap_main(u64 index) {
  using namespace smp;
  PerCpu* p = g_cpus[index].percpu;
  p->ap_entries.fetch_add(1, __ATOMIC_RELAXED);
  p->apic_mode = arch::lapic::enable_this_cpu();
  p->arrival_tsc = arch::rdtsc();
  if (!cas_state(&p->state, CpuState::Starting, CpuState::Online))
    arch::halt_forever();  // too late: the BSP has given up on us
  __atomic_fetch_add(&g_online_count, 1, __ATOMIC_ACQ_REL);
  // Idle: wait for cross-CPU calls. The first wake-up after bring-up (the BSP's TLB-flush
  // broadcast) syncs the cache configuration, as Linux delays its APs' MTRR init until all
  // are up (mtrr_aps_delayed_init): an AP that does it on arrival slows the ones after it.
  bool synced = false;
  for (;;) {
    asm volatile("sti; hlt" ::: "memory");
    if (synced || !__atomic_load_n(&g_cache_sync_go, __ATOMIC_ACQUIRE)) continue;
    arch::cli();  // load_this_cpu runs with interrupts off
    // SDM Vol. 3A 11.11.8: every CPU must use the same MTRRs (and the same PAT). INIT
    // leaves them unchanged on hardware (Table 9-1), but not every machine keeps them
    // (QEMU's INIT resets them); like Linux's mtrr_ap_init, load the BSP's where they differ.
    arch::cache::Snapshot mine;
    arch::cache::snapshot_this_cpu(&mine);
    p->cache_found = arch::cache::compare(g_bsp_cache, mine);
    if (p->cache_found.count != 0) {
      arch::cache::load_this_cpu(g_bsp_cache, mine);
      arch::cache::snapshot_this_cpu(&mine);
    }
    p->cache_diff = arch::cache::compare(g_bsp_cache, mine);
    synced = true;
    __atomic_fetch_add(&g_cache_synced, 1, __ATOMIC_ACQ_REL);
  }
}
