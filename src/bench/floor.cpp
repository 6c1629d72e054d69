// scripts/bench's floor of AP bring-up: how fast this QEMU lets APs arrive at all. Built
// only with KCONFIG_BENCH_FLOOR=1 (preset `floor`, build/floor/), never into the normal
// image. The BSP sends exactly what start_aps sends, through the same code
// (smp::send_init_sipi_sipi, arch::lapic::send), but to floor_trampoline.asm, whose APs
// read their TSC, store it by APIC ID, count themselves and halt, all in real mode. What
// the kernel's own bring-up takes beyond this is its own AP path.
#include "bench/floor.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/tsc.hpp"
#include "bench/floor_layout.h"
#include "kernel/console.hpp"
#include "lib/atomic.hpp"
#include "lib/string.hpp"
#include "mm/kvm.hpp"
#include "smp/percpu.hpp"

extern "C" const u8 floor_blob_start[], floor_blob_end[];

namespace bench {
namespace {
FloorPage* g_page;

u64 stamp_of(u32 apic_id) {
  if (apic_id >= kFloorMaxApicIds) return 0;
  return __atomic_load_n(&g_page->stamp[apic_id], __ATOMIC_ACQUIRE);
}
// The floor's "has it arrived" for the second SIPI round: its stamp is there.
bool arrived(u64 i) { return stamp_of(smp::g_cpus[i].apic_id) != 0; }

u64 us_since(u64 from, u64 to) { return to > from ? arch::tsc::ticks_to_us(to - from) : 0; }
}  // namespace

[[noreturn]] void floor_run(const smp::BringupOptions& opt) {
  smp::Bringup& b = smp::g_bringup;
  u8 sipi_vector = 0;
  if (!arch::lapic::sipi_vector_for(b.trampoline_phys, &sipi_vector)) {
    kernel::console::puts("bench-floor: {\"error\": \"no trampoline page below 1 MiB\"}\n");
    arch::halt_forever();
  }
  static_assert(sizeof(FloorPage) == kFloorPageSize);
  if (static_cast<usize>(floor_blob_end - floor_blob_start) != kFloorPageSize) {
    kernel::console::puts("bench-floor: {\"error\": \"the floor blob is not one page\"}\n");
    arch::halt_forever();
  }
  // Through the direct map, as start_aps copies its own; the APs never enable paging, so
  // no identity mapping is needed.
  g_page = reinterpret_cast<FloorPage*>(mm::kvm::phys_to_virt(b.trampoline_phys));
  memcpy(g_page, floor_blob_start, kFloorPageSize);

  u64 expected = 0;
  for (u64 i = 1; i < smp::g_cpu_count; ++i)
    if (smp::g_cpus[i].state == smp::CpuState::Starting &&
        !(opt.skip_apic_set && smp::g_cpus[i].apic_id == opt.skip_apic))
      ++expected;
  smp::send_init_sipi_sipi(sipi_vector, opt, expected, arrived);

  // The BSP's own view: when it sees the last count. Polled tightly (no per-CPU scan), so
  // this is the floor's count as soon as the BSP can see it; bounded as start_aps is.
  u64 timeout_ms = opt.timeout_ms != 0 ? opt.timeout_ms : config::kApArrivalTimeoutMs;
  u64 deadline = arch::rdtsc() + arch::tsc::us_to_ticks(timeout_ms * 1000);
  while (__atomic_load_n(&g_page->marked, __ATOMIC_ACQUIRE) < expected && arch::rdtsc() < deadline) arch::pause();
  u64 seen_tsc = arch::rdtsc();
  u64 marked = __atomic_load_n(&g_page->marked, __ATOMIC_ACQUIRE);

  // The APs' own stamps (the same clock the kernel's `bring-up ... last AP online` uses:
  // each AP's TSC, as ap_main's arrival_tsc).
  u64 first = 0, last = 0, stamped = 0;
  for (u64 i = 1; i < smp::g_cpu_count; ++i) {
    u64 t = stamp_of(smp::g_cpus[i].apic_id);
    if (t == 0) continue;
    ++stamped;
    if (first == 0 || t < first) first = t;
    if (t > last) last = t;
  }
  kernel::console::printf(
      "bench-floor: {\"cpus\": %lu, \"expected\": %lu, \"marked\": %lu, \"stamped\": %lu, \"unstamped\": %u, "
      "\"init_delay_us\": %lu, \"init_sent_us\": %lu, \"sipi1_us\": %lu, \"sipi2_us\": %lu, "
      "\"first_mark_us\": %lu, \"last_mark_us\": %lu, \"bsp_seen_us\": %lu, \"tsc_hz\": %lu}\n",
      smp::g_cpu_count, expected, marked, stamped, __atomic_load_n(&g_page->unstamped, __ATOMIC_ACQUIRE),
      b.init_delay_us, us_since(b.first_init_tsc, b.init_sent_tsc), us_since(b.first_init_tsc, b.sipi1_tsc),
      us_since(b.first_init_tsc, b.sipi2_tsc), us_since(b.first_init_tsc, first), us_since(b.first_init_tsc, last),
      us_since(b.first_init_tsc, seen_tsc), arch::tsc::hz());
  arch::halt_forever();
}

}  // namespace bench
