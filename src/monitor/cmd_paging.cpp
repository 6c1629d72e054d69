// Page-table commands: pml4, walk, maps, layout (x is in cmd_examine.cpp). They read the live tables through
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
  mm::format_pml4(monitor::out(), mm::kvm::phys(), cr3);
  return 0;
}

int cmd_walk(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: walk <va>");
  u64 va;
  if (!monitor::parse_address(a.argv[1], &va, &monitor::out())) return 1;
  mm::WalkResult r = mm::walk(mm::kvm::phys(), arch::read_cr3(), va);
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
  mm::format_maps(monitor::out(), mm::kvm::phys(), arch::read_cr3(), verbose);
  return 0;
}

int cmd_layout(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: layout");
  auto& out = monitor::out();
  u64 mapped[5] = {};
  mm::mapped_bytes_by_region(mm::kvm::phys(), arch::read_cr3(), mapped);
  const auto& fr = mm::kvm::frames();
  u64 image = reinterpret_cast<u64>(__kernel_phys_end) - reinterpret_cast<u64>(__kernel_phys_start);
  lib::format(out, "%-18s %-18s %-10s %-9s %-13s %-13s %s\n", "start", "end", "size", "pml4", "mapped", "backed",
              "region");
  for (int i = 0; i < 5; ++i) {
    const auto& r = mm::layout::kRegions[i];
    u64 size = r.end - r.start;
    u64 backed = 0;
    switch (r.region) {
      case mm::layout::Region::DirectMap: backed = mapped[i]; break;
      case mm::layout::Region::PerCpu:
        backed = fr.allocated_bytes(mm::Purpose::PerCpu) + fr.allocated_bytes(mm::Purpose::Stack);
        break;
      case mm::layout::Region::Kernel: backed = image; break;
      default: break;  // user: nothing; devices: MMIO, no RAM behind them
    }
    char sz[16], idx[16];
    if (size >= TiB)
      lib::snformat(sz, sizeof sz, "%lu TiB", size / TiB);
    else if (size >= GiB)
      lib::snformat(sz, sizeof sz, "%lu GiB", size / GiB);
    else
      lib::snformat(sz, sizeof sz, "%lu MiB", size / MiB);
    unsigned first = mm::layout::pml4_index(r.start), last = mm::layout::pml4_index(r.end - 1);
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

const char kPml4Help[] =
    "One line per present entry of the PML4 at cr3 (default: the active one, CR3 of this CPU):\n"
    "  <index> <first va> <entry> <flags> <labels>. The cr3 argument is a physical address.\n"
    "example: pml4    pml4 0x103000";
const char kWalkHelp[] =
    "Walks the active page tables for an address: one line per level (pml4[i], pdpt[i], pd[i],\n"
    "  pt[i] and the raw entry), then \"<va> -> <pa> <4K|2M|1G> <flags>\". The address may be a\n"
    "  symbol: <symbol>[+<off>].\n"
    "examples: walk ffffffff80201000    walk ap_main    walk smp::g_cpus+0x40";
const char kMapsHelp[] =
    "The effective mappings as runs \"<start>-<end> <size> <u|->r<w|->\", merged the way QEMU's\n"
    "  HMP `info mem` merges them; -v adds the NX bit and the layout region of each run.\n"
    "example: maps -v";
const char kLayoutHelp[] =
    "The seed's virtual regions with their PML4 indices, bytes mapped and bytes of RAM behind.\n"
    "example: layout";

}  // namespace

MONITOR_COMMAND(pml4, "[cr3]", "present PML4 entries with flags and layout labels", cmd_pml4, kNoKeywords, true,
                kPml4Help);
MONITOR_COMMAND(walk, "<va>", "walk the page tables for an address, level by level", cmd_walk, kNoKeywords, true,
                kWalkHelp);
MONITOR_COMMAND(maps, "[-v]", "effective mappings merged as QEMU's info mem; -v adds NX, labels", cmd_maps,
                kMapsKeywords, true, kMapsHelp);
MONITOR_COMMAND(layout, "", "the seed's regions: mapped and backed bytes", cmd_layout, kNoKeywords, true, kLayoutHelp);
