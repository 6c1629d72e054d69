#include "mm/kvm.hpp"

#include "kernel/panic.hpp"

#include "arch/cpu.hpp"
#include "arch/pte.hpp"
#include "kernel/console.hpp"
#include "lib/boot_code.hpp"
#include "lib/spinlock.hpp"
#include "lib/string.hpp"
#include "mm/layout.hpp"
#include "mm/pt_build.hpp"
#include "mm/pt_walk.hpp"

extern "C" char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern "C" char __data_start[], __data_end[], __ksyms_start[], __ksyms_end[];
extern "C" char __boot_text_start[], __boot_text_end[];

namespace mm::kvm {
namespace {

constexpr usize kMaxDirectRanges = config::kMaxDirectRanges;

// Before the switch the boot tables identity-map 0-4 GiB; after it, only the direct map
// reaches physical memory. One accessor serves both phases.
class KernelPhysMem final : public lib::PhysMem {
 public:
  u8* map(u64 pa, usize len) override {
    if (len == 0) len = 1;
    if (pa + len < pa) return nullptr;
    if (!switched) {
      if (pa + len > 4 * GiB) return nullptr;
      return reinterpret_cast<u8*>(pa);
    }
    for (usize i = 0; i < range_count; ++i) {
      if (pa >= ranges[i].start && pa + len <= ranges[i].end)
        return reinterpret_cast<u8*>(mm::layout::phys_to_virt(pa));
    }
    return nullptr;
  }
  bool switched = false;
  mm::MemRange ranges[kMaxDirectRanges];
  usize range_count = 0;
};

// Page-table frames: zeroed through the phase's accessor, below 4 GiB because the AP
// trampoline loads CR3 with a 32-bit move.
class FrameTables final : public mm::TableAllocator {
 public:
  explicit FrameTables(KernelPhysMem& mem) : mem_(mem) {}
  u64 alloc_table() override {
    u64 pa = frames_->alloc(mm::Purpose::PageTable, 4 * GiB);
    if (pa == 0) return 0;
    u8* p = mem_.map(pa, mm::layout::kPageSize);
    if (p == nullptr) return 0;
    memset(p, 0, mm::layout::kPageSize);
    return pa;
  }
  void set_frames(mm::FrameAllocator* f) { frames_ = f; }

 private:
  KernelPhysMem& mem_;
  mm::FrameAllocator* frames_ = nullptr;
};

KernelPhysMem g_mem;
FrameTables g_tables(g_mem);
mm::FrameAllocator* g_frames_ptr;
u64 g_pml4;
Stats g_stats;
DeviceMapping g_devices[16];
usize g_device_count;
u64 g_device_next = mm::layout::kDeviceBase;
u64 (*g_shootdown)(u64 timeout_us);  // smp's broadcast TLB flush, once it is registered
lib::Spinlock g_map_lock;

mm::PageTableBuilder builder() { return mm::PageTableBuilder(g_mem, g_tables, g_pml4); }

void map_or_die(u64 va, u64 pa, u64 size, mm::MapFlags f, mm::PageSize ps, const char* what) {
  auto b = builder();
  if (!b.map(va, pa, size, f, ps)) {
    kernel::panic("cannot map %s (va 0x%016lx pa 0x%016lx size 0x%lx)", what, va, pa, size);
  }
}

u64 image_pa(const char* sym) { return reinterpret_cast<u64>(sym) - mm::layout::kKernelBase; }

}  // namespace

BOOT_CODE void build_and_switch(const mm::MemoryMap& map, mm::FrameAllocator& frames, bool huge_pages) {
  g_frames_ptr = &frames;
  g_tables.set_frames(&frames);
  g_stats.huge_pages = huge_pages;
  g_pml4 = g_tables.alloc_table();
  if (g_pml4 == 0) {
    kernel::panic("out of memory for the kernel PML4");
  }

  // Direct map: RAM and what the kernel must reach (mm::direct_map_ranges), NX.
  usize n = mm::direct_map_ranges(map, g_mem.ranges, kMaxDirectRanges);
  if (n > kMaxDirectRanges)  // a cut direct map would hide RAM or ACPI tables: stop instead
    kernel::panic("the direct map needs %lu ranges, KCONFIG_MAX_DIRECT_RANGES is %lu: rebuild with a larger value",
                  static_cast<u64>(n), static_cast<u64>(kMaxDirectRanges));
  g_mem.range_count = n;
  mm::MapFlags data{.write = true, .exec = false, .user = false, .global = true, .uncached = false};
  for (usize i = 0; i < n; ++i) {
    const auto& r = g_mem.ranges[i];
    if (r.end > mm::layout::kDirectMapMaxPhys) continue;
    map_or_die(mm::layout::phys_to_virt(r.start), r.start, r.end - r.start, data,
               huge_pages ? mm::PageSize::Size1G : mm::PageSize::Size2M, "the direct map");
    g_stats.direct_map_bytes += r.end - r.start;
  }

  // The kernel image, 4 KiB pages, by section: text r-x, rodata r--, data+bss rw-.
  auto section = [&](char* start, char* end, bool write, bool exec, const char* what) -> u64 {
    u64 va = reinterpret_cast<u64>(start), size = reinterpret_cast<u64>(end) - va;
    if (size == 0) return 0;
    map_or_die(va, image_pa(start), size,
               mm::MapFlags{.write = write, .exec = exec, .user = false, .global = true, .uncached = false},
               mm::PageSize::Size4K, what);
    return size;
  };
  g_stats.image_text = section(__text_start, __text_end, false, true, "kernel text");
  g_stats.image_rodata = section(__rodata_start, __rodata_end, false, false, "kernel rodata");
  g_stats.image_rodata += section(__ksyms_start, __ksyms_end, false, false, "kernel symbols");
  g_stats.image_data = section(__data_start, __data_end, true, false, "kernel data");

  // CR4.PGE for the global kernel mappings, then the switch. The boot stack lives in
  // .bss, which is mapped at the same virtual address in both tables.
  arch::write_cr4(arch::cr4::kKernel);
  arch::write_cr3(g_pml4);
  g_mem.switched = true;
}

void set_tlb_shootdown(u64 (*flush_others)(u64 timeout_us)) { g_shootdown = flush_others; }

u64 pml4_phys() { return g_pml4; }
const Stats& stats() { return g_stats; }
mm::FrameAllocator& frames() { return *g_frames_ptr; }
lib::PhysMem& phys() { return g_mem; }

bool map_data_page(u64 va, u64 pa) {
  lib::LockGuard l(g_map_lock);
  auto b = builder();
  return b.map(va, pa, mm::layout::kPageSize,
               mm::MapFlags{.write = true, .exec = false, .user = false, .global = true, .uncached = false},
               mm::PageSize::Size4K);
}

u64 map_device(u64 pa, u64 size, const char* name) {
  lib::LockGuard l(g_map_lock);
  for (usize i = 0; i < g_device_count; ++i)
    if (g_devices[i].pa == pa && g_devices[i].size >= size) return g_devices[i].va;
  if (g_device_count == sizeof(g_devices) / sizeof(g_devices[0])) return 0;
  u64 off = pa & (mm::layout::kPageSize - 1);
  u64 base = pa - off;
  u64 len = align_up(size + off, mm::layout::kPageSize);
  if (g_device_next + len - 1 < g_device_next) return 0;  // past the top
  u64 va = g_device_next;
  auto b = builder();
  if (!b.map(va, base, len, mm::MapFlags{.write = true, .exec = false, .user = false, .global = true, .uncached = true},
             mm::PageSize::Size4K))
    return 0;
  g_device_next += len + mm::layout::kPageSize;  // a hole between devices catches overruns
  g_devices[g_device_count++] = DeviceMapping{va + off, pa, size, name};
  g_stats.device_bytes += len;
  return va + off;
}

usize device_count() { return g_device_count; }
const DeviceMapping& device(usize i) { return g_devices[i]; }

void map_identity(u64 pa) {
  lib::LockGuard l(g_map_lock);
  auto b = builder();
  // Not global: it must vanish from every TLB when PML4[0] is cleared.
  if (!b.map(pa, pa, mm::layout::kPageSize,
             mm::MapFlags{.write = false, .exec = true, .user = false, .global = false, .uncached = false},
             mm::PageSize::Size4K)) {
    kernel::console::puts("error: cannot map the AP trampoline\n");
  }
}

void unmap_identity() {
  lib::LockGuard l(g_map_lock);
  // The whole lower half goes: PML4 entries 0-255. The tables below stay allocated
  // (boot-time memory) but nothing points at them.
  u64* pml4 = reinterpret_cast<u64*>(mm::layout::phys_to_virt(g_pml4));
  for (int i = 0; i < 256; ++i) pml4[i] = 0;
  arch::write_cr3(arch::read_cr3());
}

void flush_tlb_all() {
  u64 cr4 = arch::read_cr4();
  arch::write_cr4(cr4 & ~arch::cr4::kPGE);
  arch::write_cr4(cr4);
}

namespace {
bool g_boot_retired;
}

u64 boot_code_bytes() { return reinterpret_cast<u64>(__boot_text_end) - reinterpret_cast<u64>(__boot_text_start); }
bool boot_code_retired() { return g_boot_retired; }

[[noreturn]] void retire_boot_code_and_run(void (*next)()) {
  u64 cr3 = arch::read_cr3();
  for (u64 va = reinterpret_cast<u64>(__boot_text_start); va < reinterpret_cast<u64>(__boot_text_end);
       va += mm::layout::kPageSize) {
    mm::WalkResult r = mm::walk(g_mem, cr3, va);
    if (!r.mapped || r.page_size != mm::layout::kPageSize) continue;
    const mm::WalkStep& leaf = r.steps[r.step_count - 1];
    u8* entry = g_mem.map(leaf.table_phys + leaf.index * 8, 8);
    if (entry != nullptr) *reinterpret_cast<volatile u64*>(entry) = leaf.entry | arch::pte::kNoExecute();  // NX
  }
  flush_tlb_all();
  if (g_shootdown != nullptr) (void)g_shootdown(100000);  // the boot report has the ack count
  g_boot_retired = true;
  next();
  arch::halt_forever();
}

bool is_mapped(u64 va, u64 len, bool write) {
  if (len == 0) len = 1;
  u64 last = va + (len - 1);
  if (last < va) return false;  // wraps past the top of the address space
  u64 cr3 = arch::read_cr3();
  for (u64 p = align_down(va, mm::layout::kPageSize);; p += mm::layout::kPageSize) {
    mm::WalkResult r = mm::walk(g_mem, cr3, p);
    if (!r.mapped || (write && !r.write)) return false;
    if (p == align_down(last, mm::layout::kPageSize)) break;
  }
  return true;
}

bool is_executable(u64 va) {
  mm::WalkResult r = mm::walk(g_mem, arch::read_cr3(), va);
  return r.mapped && r.exec;
}

}  // namespace mm::kvm
