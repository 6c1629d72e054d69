// Page-table commands: pml4, walk, maps, layout, x. They read the live tables through
// the direct map with the same walker the host tests check (mm/pt_walk).
#include "arch/cpu.hpp"
#include "lib/string.hpp"
#include "mm/frame_alloc.hpp"
#include "mm/kvm.hpp"
#include "mm/layout.hpp"
#include "mm/pt_walk.hpp"
#include "monitor/monitor.hpp"

extern "C" char __kernel_phys_start[], __kernel_phys_end[];

namespace {

const char* const kNoKeywords[] = {nullptr};

int cmd_pml4(const monitor::Args& a) {
  if (a.argc > 2) return monitor::error("usage: pml4 [cr3]");
  u64 cr3 = arch::read_cr3();
  if (a.argc == 2 && !monitor::parse_address(a.argv[1], &cr3, &monitor::out())) return 1;
  if ((cr3 & 0xfff) != 0 && a.argc == 2) return monitor::error("cr3 0x%lx is not page-aligned", cr3);
  mm::format_pml4(monitor::out(), kvm::phys(), cr3);
  return 0;
}

int cmd_walk(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: walk <va>");
  u64 va;
  if (!monitor::parse_address(a.argv[1], &va, &monitor::out())) return 1;
  mm::WalkResult r = mm::walk(kvm::phys(), arch::read_cr3(), va);
  mm::format_walk(monitor::out(), va, r);
  return 0;
}

const char* const kMapsKeywords[] = {"-v", nullptr};
int cmd_maps(const monitor::Args& a) {
  bool verbose = false;
  if (a.argc == 2 && lib::streq(a.argv[1], "-v"))
    verbose = true;
  else if (a.argc != 1)
    return monitor::error("usage: maps [-v]");
  mm::format_maps(monitor::out(), kvm::phys(), arch::read_cr3(), verbose);
  return 0;
}

int cmd_layout(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: layout");
  auto& out = monitor::out();
  u64 mapped[5] = {};
  mm::mapped_bytes_by_region(kvm::phys(), arch::read_cr3(), mapped);
  const auto& fr = kvm::frames();
  u64 image = reinterpret_cast<u64>(__kernel_phys_end) - reinterpret_cast<u64>(__kernel_phys_start);
  lib::format(out, "%-18s %-18s %-10s %-9s %-13s %-13s %s\n", "start", "end", "size", "pml4", "mapped", "backed",
              "region");
  for (int i = 0; i < 5; ++i) {
    const auto& r = layout::kRegions[i];
    u64 size = r.end - r.start;
    u64 backed = 0;
    switch (r.region) {
      case layout::Region::DirectMap: backed = mapped[i]; break;
      case layout::Region::PerCpu:
        backed = fr.allocated_bytes(mm::Purpose::PerCpu) + fr.allocated_bytes(mm::Purpose::Stack);
        break;
      case layout::Region::Kernel: backed = image; break;
      default: break;  // user: nothing; devices: MMIO, no RAM behind them
    }
    char sz[16], idx[16];
    if (size >= TiB)
      lib::snformat(sz, sizeof sz, "%lu TiB", size / TiB);
    else if (size >= GiB)
      lib::snformat(sz, sizeof sz, "%lu GiB", size / GiB);
    else
      lib::snformat(sz, sizeof sz, "%lu MiB", size / MiB);
    unsigned first = layout::pml4_index(r.start), last = layout::pml4_index(r.end - 1);
    if (first == last)
      lib::snformat(idx, sizeof idx, "%u", first);
    else
      lib::snformat(idx, sizeof idx, "%u-%u", first, last);
    lib::format(out, "0x%016lx 0x%016lx %-10s %-9s %-13lu %-13lu %s\n", r.start, r.end - 1 + 1, sz, idx, mapped[i],
                backed, r.description);
  }
  lib::format(out, "(mapped: bytes of virtual space mapped; backed: bytes of RAM behind them)\n");
  return 0;
}

int cmd_x(const monitor::Args& a) {
  if (a.argc < 2 || a.argc > 3) return monitor::error("usage: x <va> [len]");
  u64 va, len = 64;
  if (!monitor::parse_address(a.argv[1], &va, &monitor::out())) return 1;
  if (a.argc == 3 && !monitor::parse_count(a.argv[2], &len, &monitor::out())) return 1;
  if (len == 0 || len > 4096) return monitor::error("length %lu out of range (1-4096)", len);
  if (!layout::is_canonical(va)) return monitor::error("0x%016lx is not canonical", va);
  u64 last = va + len - 1;
  if (last < va) return monitor::error("0x%016lx + %lu runs past the top of the address space", va, len);
  if (!layout::is_canonical(last)) return monitor::error("range runs into non-canonical addresses");
  // Reading device registers can have side effects (e.g. clearing status bits).
  if (layout::region_of(va) == layout::Region::Device || layout::region_of(last) == layout::Region::Device)
    return monitor::error("0x%016lx is in the device window; refusing to read MMIO", va);
  if (!kvm::is_mapped(va, len, false)) return monitor::error("0x%016lx (+%lu) is not mapped", va, len);
  auto& out = monitor::out();
  const u8* p = reinterpret_cast<const u8*>(va);
  for (u64 off = 0; off < len; off += 16) {
    u64 n = len - off < 16 ? len - off : 16;
    lib::format(out, "0x%016lx:", va + off);
    for (u64 i = 0; i < 16; ++i) {
      if (i < n)
        lib::format(out, " %02x", p[off + i]);
      else
        lib::format(out, "   ");
    }
    lib::format(out, "  |");
    for (u64 i = 0; i < n; ++i) {
      u8 c = p[off + i];
      out.put(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
    }
    lib::format(out, "|\n");
  }
  return 0;
}

}  // namespace

MONITOR_COMMAND(pml4, "[cr3]", "present PML4 entries with flags and layout labels", cmd_pml4, kNoKeywords, true);
MONITOR_COMMAND(walk, "<va>", "walk the page tables for an address, level by level", cmd_walk, kNoKeywords, true);
MONITOR_COMMAND(maps, "[-v]", "effective mappings merged as QEMU's info mem; -v adds NX, labels", cmd_maps,
                kMapsKeywords, true);
MONITOR_COMMAND(layout, "", "the seed's regions: mapped and backed bytes", cmd_layout, kNoKeywords, true);
MONITOR_COMMAND(x, "<va> [len]", "hex and ascii dump of mapped memory (len <= 4096)", cmd_x, kNoKeywords, true);
