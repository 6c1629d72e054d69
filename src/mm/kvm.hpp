// The kernel's one address space (all CPUs share it): built from scratch on the
// bootstrap CPU from the firmware memory map, then switched to. See layout.hpp.
#pragma once
#include "lib/physmem.hpp"
#include "mm/frame_alloc.hpp"
#include "mm/memmap.hpp"

namespace mm::kvm {

struct Stats {
  u64 direct_map_bytes;
  bool huge_pages;                           // direct map may use 1 GiB pages
  u64 image_text, image_rodata, image_data;  // bytes
  u64 device_bytes;
};

// Builds the final tables (direct map, kernel image by section, device window) and
// loads CR3. Runs on the boot stack, with the boot identity map still in place.
void build_and_switch(const mm::MemoryMap& map, mm::FrameAllocator& frames, bool huge_pages);

u64 pml4_phys();
const Stats& stats();
mm::FrameAllocator& frames();

// Physical memory through the direct map; refuses what is not direct-mapped.
lib::PhysMem& phys();
inline u64 phys_to_virt(u64 pa) { return 0xffff800000000000ULL + pa; }

// Maps one 4 KiB page rw-, NX, global (per-CPU data and stacks).
[[nodiscard]] bool map_data_page(u64 va, u64 pa);
// How mm asks the other CPUs to flush their TLBs (smp registers its broadcast IPI; mm
// does not call smp): returns how many acknowledged within timeout_us.
void set_tlb_shootdown(u64 (*flush_others)(u64 timeout_us));
// Maps [pa, pa + size) into the device window, uncached, NX; returns the VA or 0.
[[nodiscard]] u64 map_device(u64 pa, u64 size, const char* name);
struct DeviceMapping {
  u64 va, pa, size;
  const char* name;
};
usize device_count();
const DeviceMapping& device(usize i);

// The AP trampoline's identity mapping (page at pa, r-x), present only during bring-up.
void map_identity(u64 pa);
void unmap_identity();

// Makes the boot-only text (.text.boot) non-executable on every CPU, then runs `next`
// (which must not return). Called at the end of boot, from boot code, which is why it
// never returns into its caller.
[[noreturn]] void retire_boot_code_and_run(void (*next)());
u64 boot_code_bytes();
bool boot_code_retired();
// Flushes this CPU's TLB including global entries (CR4.PGE toggle, SDM Vol. 3A 4.10.4.1).
void flush_tlb_all();

// Is every byte of [va, va + len) mapped (and, if write, writable)? Used by `x`.
bool is_mapped(u64 va, u64 len, bool write);
// va is mapped and executable (no XD at any level) in the kernel's tables.
bool is_executable(u64 va);

}  // namespace mm::kvm
