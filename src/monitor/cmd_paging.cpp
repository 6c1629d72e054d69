// Page-table commands: pml4, walk, maps, layout (x is in cmd_examine.cpp). They read the live tables through
// the direct map with the same walker the host tests check (mm/pt_walk).
#include "arch/cpu.hpp"
#include "lib/json.hpp"
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
  if (a.argc == 2 && !monitor::parse_address_arg(a.argv[1], &cr3)) return 1;
  if ((cr3 & 0xfff) != 0 && a.argc == 2) return monitor::error("cr3 0x%lx is not page-aligned", cr3);
  if (monitor::json())
    mm::format_pml4_json(monitor::out(), mm::kvm::phys(), cr3);
  else
    mm::format_pml4(monitor::out(), mm::kvm::phys(), cr3);
  return 0;
}

int cmd_walk(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: walk <va>");
  u64 va;
  if (!monitor::parse_address_arg(a.argv[1], &va)) return 1;
  mm::WalkResult r = mm::walk(mm::kvm::phys(), arch::read_cr3(), va);
  if (monitor::json())
    mm::format_walk_json(monitor::out(), va, r);
  else
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
  if (monitor::json())
    mm::format_maps_json(monitor::out(), mm::kvm::phys(), arch::read_cr3(), verbose);
  else
    mm::format_maps(monitor::out(), mm::kvm::phys(), arch::read_cr3(), verbose);
  return 0;
}

// One row of `layout`: a seed region with what is mapped in it and the RAM behind it.
struct LayoutRow {
  const mm::layout::RegionDesc* region;
  u64 size;
  unsigned pml4_first, pml4_last;
  u64 mapped, backed;
};
constexpr int kLayoutRows = 5;  // mm::layout::kRegions; mapped_bytes_by_region fills as many

void layout_rows(LayoutRow rows[kLayoutRows]) {
  u64 mapped[kLayoutRows] = {};
  mm::mapped_bytes_by_region(mm::kvm::phys(), arch::read_cr3(), mapped);
  const auto& fr = mm::kvm::frames();
  u64 image = reinterpret_cast<u64>(__kernel_phys_end) - reinterpret_cast<u64>(__kernel_phys_start);
  for (int i = 0; i < kLayoutRows; ++i) {
    const auto& r = mm::layout::kRegions[i];
    u64 backed = 0;
    switch (r.region) {
      case mm::layout::Region::DirectMap: backed = mapped[i]; break;
      case mm::layout::Region::PerCpu:
        backed = fr.allocated_bytes(mm::Purpose::PerCpu) + fr.allocated_bytes(mm::Purpose::Stack);
        break;
      case mm::layout::Region::Kernel: backed = image; break;
      default: break;  // user: nothing; devices: MMIO, no RAM behind them
    }
    rows[i] = LayoutRow{&r,        r.end - r.start, mm::layout::pml4_index(r.start), mm::layout::pml4_index(r.end - 1),
                        mapped[i], backed};
  }
}

// layout -j: {"regions":[{"start","end","size","pml4":[first,last],"mapped","backed",
// "region","name"}]}: the text's columns, sizes in bytes; name is the region's label in
// pml4 and maps -v.
void layout_json(lib::Sink& out, const LayoutRow rows[kLayoutRows]) {
  lib::Json j(out);
  j.begin_object().key("regions").begin_array();
  for (int i = 0; i < kLayoutRows; ++i) {
    const LayoutRow& row = rows[i];
    const auto& r = *row.region;
    j.begin_object().member_addr("start", r.start).member_addr("end", r.end).member("size", row.size);
    j.key("pml4").begin_array().num(row.pml4_first).num(row.pml4_last).end_array();
    j.member("mapped", row.mapped).member("backed", row.backed).member("region", r.description);
    j.member("name", mm::layout::region_label(r.region)).end_object();
  }
  j.end_array().end_object();
  (void)j.finish();
}

int cmd_layout(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: layout");
  auto& out = monitor::out();
  LayoutRow rows[kLayoutRows];
  layout_rows(rows);
  if (monitor::json()) {
    layout_json(out, rows);
    return 0;
  }
  lib::format(out, "%-18s %-18s %-10s %-9s %-13s %-13s %s\n", "start", "end", "size", "pml4", "mapped", "backed",
              "region");
  for (const LayoutRow& row : rows) {
    const auto& r = *row.region;
    char sz[16], idx[16];
    if (row.size >= TiB)
      lib::snformat(sz, sizeof sz, "%lu TiB", row.size / TiB);
    else if (row.size >= GiB)
      lib::snformat(sz, sizeof sz, "%lu GiB", row.size / GiB);
    else
      lib::snformat(sz, sizeof sz, "%lu MiB", row.size / MiB);
    if (row.pml4_first == row.pml4_last)
      lib::snformat(idx, sizeof idx, "%u", row.pml4_first);
    else
      lib::snformat(idx, sizeof idx, "%u-%u", row.pml4_first, row.pml4_last);
    lib::format(out, "0x%016lx 0x%016lx %-10s %-9s %-13lu %-13lu %s\n", r.start, r.end - 1 + 1, sz, idx, row.mapped,
                row.backed, r.description);
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
                kPml4Help, monitor::kJsonView);
MONITOR_COMMAND(walk, "<va>", "walk the page tables for an address, level by level", cmd_walk, kNoKeywords, true,
                kWalkHelp, monitor::kJsonView);
MONITOR_COMMAND(maps, "[-v]", "effective mappings merged as QEMU's info mem; -v adds NX, labels", cmd_maps,
                kMapsKeywords, true, kMapsHelp, monitor::kJsonView);
MONITOR_COMMAND(layout, "", "the seed's regions: mapped and backed bytes", cmd_layout, kNoKeywords, true, kLayoutHelp,
                monitor::kJsonView);
