// physmap: the firmware memory map (sorted, overlaps resolved, bounds as the firmware
// gave them), then the kernel's own use of physical memory.
#include "lib/json.hpp"
#include "mm/kvm.hpp"
#include "mm/memmap.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"

extern "C" char __kernel_phys_start[], __kernel_phys_end[];

namespace {
const char* const kNoKeywords[] = {nullptr};

constexpr u64 kTrampolineBytes = 0x1000;  // one page (smp::set_trampoline_page)

// physmap -j: {"map":[{"start","end","type"}],"kernel":[{"start","end","use"}],
// "totals":{"usable","image","allocated","allocated_by":{<purpose>:bytes},"free"}}: the
// text's lines; totals in bytes (the text prints KiB), allocated_by only the purposes the
// text lists (those with bytes allocated).
void physmap_json(lib::Sink& out) {
  const mm::MemoryMap& map = mm::firmware_map();
  lib::Json j(out);
  j.begin_object().key("map").begin_array();
  for (usize i = 0; i < map.size(); ++i) {
    j.begin_object().member_addr("start", map[i].start).member_addr("end", map[i].end);
    j.member("type", mm::mem_type_name(map[i].type)).end_object();
  }
  j.end_array().key("kernel").begin_array();
  auto use = [&](u64 start, u64 end, const char* what) {
    j.begin_object().member_addr("start", start).member_addr("end", end).member("use", what).end_object();
  };
  u64 ks = reinterpret_cast<u64>(__kernel_phys_start), ke = reinterpret_cast<u64>(__kernel_phys_end);
  use(ks, ke, "image");
  u64 tp = smp::g_bringup.trampoline_phys;
  if (tp != 0) use(tp, tp + kTrampolineBytes, "trampoline");
  const auto& fr = mm::kvm::frames();
  for (usize i = 0; i < fr.run_count(); ++i) use(fr.run(i).start, fr.run(i).end, mm::purpose_name(fr.run(i).purpose));
  j.end_array().key("totals").begin_object();
  j.member("usable", map.total(mm::MemType::Usable)).member("image", ke - ks);
  j.member("allocated", fr.allocated_bytes()).key("allocated_by").begin_object();
  for (usize p = 0; p < mm::kPurposeCount; ++p) {
    u64 b = fr.allocated_bytes(static_cast<mm::Purpose>(p));
    if (b != 0) j.member(mm::purpose_name(static_cast<mm::Purpose>(p)), b);
  }
  j.end_object().member("free", fr.free_bytes()).end_object().end_object();
  (void)j.finish();
}

int cmd_physmap(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: physmap");
  auto& out = monitor::out();
  if (monitor::json()) {
    physmap_json(out);
    return 0;
  }
  const mm::MemoryMap& map = mm::firmware_map();
  for (usize i = 0; i < map.size(); ++i)
    lib::format(out, "0x%016lx-0x%016lx %s\n", map[i].start, map[i].end, mm::mem_type_name(map[i].type));
  lib::format(out, "kernel use of physical memory:\n");
  u64 ks = reinterpret_cast<u64>(__kernel_phys_start), ke = reinterpret_cast<u64>(__kernel_phys_end);
  lib::format(out, "  0x%016lx-0x%016lx image\n", ks, ke);
  u64 tp = smp::g_bringup.trampoline_phys;
  if (tp != 0) lib::format(out, "  0x%016lx-0x%016lx trampoline\n", tp, tp + kTrampolineBytes);
  const auto& fr = mm::kvm::frames();
  for (usize i = 0; i < fr.run_count(); ++i) {
    const auto& r = fr.run(i);
    lib::format(out, "  0x%016lx-0x%016lx %s\n", r.start, r.end, mm::purpose_name(r.purpose));
  }
  lib::format(out, "totals: usable %lu KiB, kernel image %lu KiB, allocated %lu KiB",
              map.total(mm::MemType::Usable) / KiB, (ke - ks) / KiB, fr.allocated_bytes() / KiB);
  for (usize p = 0; p < mm::kPurposeCount; ++p) {
    u64 b = fr.allocated_bytes(static_cast<mm::Purpose>(p));
    if (b != 0) lib::format(out, " (%s %lu KiB)", mm::purpose_name(static_cast<mm::Purpose>(p)), b / KiB);
  }
  lib::format(out, ", free %lu KiB\n", fr.free_bytes() / KiB);
  return 0;
}
const char kPhysmapHelp[] =
    "The firmware memory map, one \"0x<start>-0x<end> <type>\" line per entry (end exclusive; usable,\n"
    "  reserved, acpi, nvs, bad), then the kernel's own use of physical memory (image,\n"
    "  trampoline, allocations by purpose) and totals. xp reads only the RAM listed here.\n"
    "example: physmap";
}  // namespace

MONITOR_COMMAND(physmap, "", "firmware memory map, then the kernel's own use of RAM", cmd_physmap, kNoKeywords, true,
                kPhysmapHelp, monitor::kJsonView);
