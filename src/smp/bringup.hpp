// Starting the application processors: INIT-SIPI-SIPI to every enabled processor the
// firmware lists (ACPI MADT or MP table) but the bootstrap one, all at once, then a bounded
// wait for each to arrive.
#pragma once
#include "acpi/tables.hpp"
#include "arch/cache_config.hpp"

namespace smp {

struct Bringup {
  u64 trampoline_phys;
  u64 first_init_tsc;  // timeline origin for AP arrivals
  u64 init_sent_tsc;
  u64 sipi1_tsc, sipi2_tsc;
  u64 last_arrival_tsc;
  u64 done_tsc;     // every AP arrived or was marked failed
  u64 flushed_tsc;  // identity mapping gone from the tables and every TLB; APs' MTRRs/PAT synced
  u64 started, arrived, failed;
  u64 init_delay_us;  // the INIT-to-SIPI wait used (see bringup.cpp)
  u64 ipis_not_sent;  // INIT/SIPI the local APIC did not accept
};
extern Bringup g_bringup;

// The BSP's MTRRs and PAT, taken before the APs start; each AP compares its own with it
// (PerCpu::cache_found, cache_diff) once all are in, woken by the TLB-flush broadcast that
// ends bring-up (ap_main), since SDM Vol. 3A 11.11.8 requires them identical.
extern arch::cache::Snapshot g_bsp_cache;

// Slot 0 for the bootstrap CPU, before ACPI is read. Switches to its kernel stack and
// continues in `next`.
[[noreturn]] void bsp_enter_slot(u32 apic_id, void (*next)());
// Fills the CPU table from the firmware's processor list (bootstrap CPU at index 0):
// `count` kept entries, `dropped` more the parser counted but did not keep, `source` what
// listed them ("the MADT", "the MP table"), for messages and the boot report.
void register_cpus(const acpi::Cpu* cpus, usize count, usize dropped, u32 bsp_apic_id, const char* source);
// Picks the trampoline page: a usable page below 1 MiB that holds nothing else.
void set_trampoline_page(u64 phys);
struct BringupOptions {
  // Test hooks from the kernel command line, to exercise the failure path on a machine
  // where every core answers: smp.skip_apic=<id> sends that AP nothing (a dead core),
  // smp.timeout_ms=<ms> shortens the arrival wait.
  bool skip_apic_set;
  u32 skip_apic;
  u64 timeout_ms;
  bool init_delay_set;  // smp.init_delay_us=<us>: force the INIT-to-SIPI wait
  u64 init_delay_us;
};
void start_aps(const BringupOptions& opt);
// The start-up sequence of start_aps alone: INIT to every AP in state Starting (but
// smp.skip_apic's), the INIT-to-SIPI wait, then two SIPI rounds 200 us apart to those
// `arrived` does not report yet; stamps g_bringup's INIT and SIPI times. Shared with
// scripts/bench's floor (src/bench/floor.cpp), so both pay the same IPIs and delays.
using ArrivedFn = bool (*)(u64 index);
void send_init_sipi_sipi(u8 sipi_vector, const BringupOptions& opt, u64 expected, ArrivedFn arrived);
// Run by every AP on its slot (GS, IDT loaded) before anything else: how higher layers
// reach CPUs that come up after they set something up (the debugger's breakpoints).
void set_ap_arrival_hook(void (*hook)());
extern void (*g_ap_arrival_hook)();

}  // namespace smp
