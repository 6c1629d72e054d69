// Compile-time settings. Each can be overridden from CMake (-DKCONFIG_<NAME>=...),
// e.g. `cmake --preset release -DKCONFIG_MAX_CPUS=64`. layout.hpp checks with
// static_asserts that whatever is chosen still fits the seed's regions.
#pragma once
#include "lib/types.hpp"

#ifndef KCONFIG_MAX_CPUS
#define KCONFIG_MAX_CPUS 256
#endif
// Processors the MADT parser keeps (with their APIC IDs, for `cpus`); more than there are
// slots, so a machine with more CPUs than kMaxCpus still shows each one as `noslot`.
#ifndef KCONFIG_MAX_MADT_CPUS
#define KCONFIG_MAX_MADT_CPUS (4 * KCONFIG_MAX_CPUS)
#endif
// Firmware memory-map entries kept (real UEFI machines pass 100-300). A longer map stops
// the boot with a message naming this setting: nothing is dropped silently.
#ifndef KCONFIG_MAX_MEMMAP_RANGES
#define KCONFIG_MAX_MEMMAP_RANGES 320
#endif
// Ranges of the direct map after merging (RAM and firmware tables, rounded to 2 MiB);
// a machine needing more stops the boot naming this setting.
#ifndef KCONFIG_MAX_DIRECT_RANGES
#define KCONFIG_MAX_DIRECT_RANGES 64
#endif
#ifndef KCONFIG_PERCPU_SLOT_MIB
#define KCONFIG_PERCPU_SLOT_MIB 16
#endif
#ifndef KCONFIG_PERCPU_REGION_GIB
#define KCONFIG_PERCPU_REGION_GIB 4
#endif
#ifndef KCONFIG_KERNEL_STACK_KIB
#define KCONFIG_KERNEL_STACK_KIB 16
#endif
#ifndef KCONFIG_IST_STACK_KIB
#define KCONFIG_IST_STACK_KIB 4
#endif
// The kernel log (`dmesg`): the newest this many bytes of console output; a power of two.
#ifndef KCONFIG_LOG_BYTES
#define KCONFIG_LOG_BYTES (64 * 1024)
#endif
// 1 only in scripts/bench's floor build (preset `floor`, build/floor/): AP bring-up with a
// trampoline that does nothing but mark arrival (src/bench/), printed as one line; then halt.
#ifndef KCONFIG_BENCH_FLOOR
#define KCONFIG_BENCH_FLOOR 0
#endif
#ifndef KCONFIG_AP_TIMEOUT_MS
#define KCONFIG_AP_TIMEOUT_MS 2000
#endif

namespace config {
constexpr u64 kMaxCpus = KCONFIG_MAX_CPUS;
constexpr u64 kMaxMadtCpus = KCONFIG_MAX_MADT_CPUS;
constexpr u64 kMaxMemmapRanges = KCONFIG_MAX_MEMMAP_RANGES;
constexpr u64 kMaxDirectRanges = KCONFIG_MAX_DIRECT_RANGES;
static_assert(kMaxMadtCpus >= kMaxCpus, "the MADT parser must keep at least as many CPUs as there are slots");
constexpr u64 kPerCpuSlotSize = u64{KCONFIG_PERCPU_SLOT_MIB} * MiB;
constexpr u64 kPerCpuRegionSize = u64{KCONFIG_PERCPU_REGION_GIB} * GiB;
constexpr u64 kKernelStackSize = u64{KCONFIG_KERNEL_STACK_KIB} * KiB;
constexpr u64 kIstStackSize = u64{KCONFIG_IST_STACK_KIB} * KiB;
// How long the bootstrap CPU waits, after the last SIPI, for every AP to arrive before
// it marks the missing ones `failed` and goes on. Under TCG with 255 vCPUs on two host
// cores the slowest AP has been seen after a few hundred ms; 2 s leaves margin.
constexpr u64 kApArrivalTimeoutMs = KCONFIG_AP_TIMEOUT_MS;
constexpr u64 kLogBytes = KCONFIG_LOG_BYTES;
static_assert(kLogBytes >= 4 * KiB && (kLogBytes & (kLogBytes - 1)) == 0,
              "KCONFIG_LOG_BYTES: a power of two of at least 4 KiB");
}  // namespace config
