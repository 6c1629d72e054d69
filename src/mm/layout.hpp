// The kernel's virtual address space, exactly as the design seed draws it
// (shared seed 000_348a706b8bddb646, summed up in CONTRACT.md). Every region is one
// line here; everything else derives from these constants.
//
//   PML4   PDPT      virtual range                              region
//   0-255            0000000000000000-00007fffffffffff  128 TiB   user (empty in this kernel)
//   256-383          ffff800000000000-ffffbfffffffffff   64 TiB   direct map of physical memory
//   384-510          ffffc00000000000-ffffff7fffffffff            unused
//   511    0-3       ffffff8000000000-ffffff80ffffffff    4 GiB   per-CPU slots, 16 MiB each
//                    (KCONFIG_PERCPU_REGION_GIB=8: PDPT 0-7, up to ffffff81ffffffff, 512 slots)
//   511    4-509     ffffff8100000000-ffffffff7fffffff            unused
//   511    510       ffffffff80000000-ffffffff9fffffff  512 MiB   kernel image (text, data)
//   511    510       ffffffffa0000000-ffffffffbfffffff  512 MiB   unused (rest of PDPT 510)
//   511    511       ffffffffc0000000-ffffffffffffffff    1 GiB   kernel devices (MMIO)
//
// One per-CPU slot (CPU n at kPerCpuBase + n * kPerCpuSlotSize), low to high:
//   +0        per-CPU structure (GDT, TSS, mailbox), kPerCpuDataSize
//   guard     unmapped
//   stack     the CPU's single kernel stack, kKernelStackSize
//   guard     unmapped
//   IST1      #DF stack, guard, IST2 NMI stack, guard, IST3 #MC stack
//   rest      unmapped, never backed
#pragma once
#include "config.hpp"
#include "lib/types.hpp"

namespace mm::layout {

constexpr u64 kPageSize = 4 * KiB;
constexpr u64 kLargePageSize = 2 * MiB;
constexpr u64 kHugePageSize = 1 * GiB;
constexpr u64 kPml4Span = 512 * GiB;  // one PML4 entry
constexpr u64 kPdptSpan = 1 * GiB;    // one PDPT entry

constexpr u64 kUserBase = 0x0000000000000000;
constexpr u64 kUserEnd = 0x0000800000000000;
constexpr u64 kDirectMapBase = 0xffff800000000000;
constexpr u64 kDirectMapEnd = 0xffffc00000000000;
constexpr u64 kPerCpuBase = 0xffffff8000000000;
constexpr u64 kPerCpuEnd = kPerCpuBase + config::kPerCpuRegionSize;
constexpr u64 kKernelBase = 0xffffffff80000000;
constexpr u64 kKernelEnd = 0xffffffffa0000000;
constexpr u64 kDeviceBase = 0xffffffffc0000000;
constexpr u64 kDeviceEnd = 0;  // wraps: the window runs to the top of the address space
constexpr u64 kDeviceSize = 1 * GiB;

// The kernel image is linked at kKernelBase + its physical load address (linker.ld).
constexpr u64 kKernelLoadPhys = 0x200000;

constexpr unsigned pml4_index(u64 va) { return static_cast<unsigned>((va >> 39) & 511); }
constexpr unsigned pdpt_index(u64 va) { return static_cast<unsigned>((va >> 30) & 511); }
constexpr unsigned pd_index(u64 va) { return static_cast<unsigned>((va >> 21) & 511); }
constexpr unsigned pt_index(u64 va) { return static_cast<unsigned>((va >> 12) & 511); }

// Per-CPU slot, offsets from the slot base.
constexpr u64 kPerCpuDataSize = 1 * kPageSize;
constexpr u64 kGuardSize = kPageSize;
constexpr u64 kStackBottomOff = kPerCpuDataSize + kGuardSize;
constexpr u64 kStackTopOff = kStackBottomOff + config::kKernelStackSize;
constexpr unsigned kIstCount = 3;             // 1: #DF, 2: NMI, 3: #MC
constexpr u64 ist_bottom_off(unsigned ist) {  // ist is 1-based, as in the TSS
  return kStackTopOff + kGuardSize + (ist - 1) * (config::kIstStackSize + kGuardSize);
}
constexpr u64 ist_top_off(unsigned ist) { return ist_bottom_off(ist) + config::kIstStackSize; }
constexpr u64 kSlotUsedEnd = ist_top_off(kIstCount);
constexpr u64 kSlotBackedBytes = kPerCpuDataSize + config::kKernelStackSize + kIstCount * config::kIstStackSize;

constexpr u64 percpu_slot(u64 cpu_index) { return kPerCpuBase + cpu_index * config::kPerCpuSlotSize; }

// Physical address -> direct-map virtual address.
constexpr u64 phys_to_virt(u64 pa) { return kDirectMapBase + pa; }
constexpr u64 kDirectMapMaxPhys = kDirectMapEnd - kDirectMapBase;  // 64 TiB

enum class Region { User, DirectMap, PerCpu, Kernel, Device, Unused, NonCanonical };

constexpr bool is_canonical(u64 va) {
  u64 top = va >> 47;
  return top == 0 || top == 0x1ffff;
}

constexpr Region region_of(u64 va) {
  if (!is_canonical(va)) return Region::NonCanonical;
  if (va < kUserEnd) return Region::User;
  if (va >= kDirectMapBase && va < kDirectMapEnd) return Region::DirectMap;
  if (va >= kPerCpuBase && va < kPerCpuEnd) return Region::PerCpu;
  if (va >= kKernelBase && va < kKernelEnd) return Region::Kernel;
  if (va >= kDeviceBase) return Region::Device;
  return Region::Unused;
}

constexpr const char* region_label(Region r) {
  switch (r) {
    case Region::User: return "user";
    case Region::DirectMap: return "directmap";
    case Region::PerCpu: return "percpu";
    case Region::Kernel: return "kernel";
    case Region::Device: return "devices";
    case Region::Unused: return "unused";
    case Region::NonCanonical: return "noncanonical";
  }
  return "?";
}

// The seed's regions, for `layout` and for labelling PML4 entries.
struct RegionDesc {
  Region region;
  u64 start;
  u64 end;  // exclusive; 0 means the top of the address space
  const char* description;
};
inline constexpr RegionDesc kRegions[] = {
    {Region::User, kUserBase, kUserEnd, "user (empty in this kernel)"},
    {Region::DirectMap, kDirectMapBase, kDirectMapEnd, "direct map of physical memory"},
    {Region::PerCpu, kPerCpuBase, kPerCpuEnd, "per-CPU data"},
    {Region::Kernel, kKernelBase, kKernelEnd, "kernel text and data"},
    {Region::Device, kDeviceBase, kDeviceEnd, "kernel devices (MMIO)"},
};

// The settings must fit the seed.
// The seed's table gives 4 GiB (PDPT 0-3 of PML4 511); its note "8G supports up to 512
// cores" is the other size (PDPT 0-7). Nothing else fits the seed.
static_assert(config::kPerCpuRegionSize == 4 * GiB || config::kPerCpuRegionSize == 8 * GiB,
              "per-CPU region is 4 GiB or 8 GiB in the seed (KCONFIG_PERCPU_REGION_GIB)");
static_assert(config::kMaxCpus * config::kPerCpuSlotSize <= config::kPerCpuRegionSize,
              "kMaxCpus slots do not fit the per-CPU region");
static_assert(kSlotUsedEnd <= config::kPerCpuSlotSize, "stacks and per-CPU data overflow a slot");
static_assert(kSlotUsedEnd <= kLargePageSize, "a slot's used part must fit one page table (2 MiB)");
static_assert(is_aligned(config::kPerCpuSlotSize, kLargePageSize), "slots must start on a page-table boundary");
static_assert(is_aligned(config::kKernelStackSize, kPageSize) && is_aligned(config::kIstStackSize, kPageSize));
static_assert(pml4_index(kDirectMapBase) == 256 && pml4_index(kDirectMapEnd - 1) == 383);
static_assert(pml4_index(kPerCpuBase) == 511 && pdpt_index(kPerCpuBase) == 0 &&
              pdpt_index(kPerCpuEnd - 1) == config::kPerCpuRegionSize / kPdptSpan - 1);
static_assert(pml4_index(kKernelBase) == 511 && pdpt_index(kKernelBase) == 510 && pdpt_index(kKernelEnd - 1) == 510);
static_assert(pml4_index(kDeviceBase) == 511 && pdpt_index(kDeviceBase) == 511);
static_assert(kPerCpuEnd <= kKernelBase && kKernelEnd <= kDeviceBase, "regions overlap");

}  // namespace mm::layout
