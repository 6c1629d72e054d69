// The kernel's direct map built from real firmware maps (QEMU's SeaBIOS and OVMF e820
// dumps, 8 GiB with the PCI hole, 64 GiB) with the same calls mm::kvm::build_and_switch
// makes, then checked by walking it: all RAM mapped at base + pa, writable, NX; the
// holes (PCI window, MMCONFIG, the HyperTransport range) left unmapped.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <memory>
#include <string>

#include "e820_fixture.hpp"
#include "lib/fmt.hpp"
#include "mm/layout.hpp"
#include "mm/memmap.hpp"
#include "mm/pt_build.hpp"
#include "mm/pt_walk.hpp"
#include "table_pages.hpp"

namespace {

// Only page-table pages exist in this fake physical memory.
struct Built {
  test::TablePages mem{0x7f000000000ULL};
  u64 pml4 = 0;
  mm::MemoryMap map;
  std::vector<mm::MemRange> ranges;
};

std::unique_ptr<Built> build(const char* fixture, bool huge) {
  auto b = std::make_unique<Built>();
  load_e820(fixture, &b->map);
  b->map.normalize();
  mm::MemRange r[64];
  usize n = mm::direct_map_ranges(b->map, r, 64);
  EXPECT_LE(n, 64u);
  b->pml4 = b->mem.alloc_table();
  mm::PageTableBuilder pt(b->mem, b->mem, b->pml4);
  for (usize i = 0; i < n; ++i) {
    b->ranges.push_back(r[i]);
    EXPECT_TRUE(pt.map(mm::layout::phys_to_virt(r[i].start), r[i].start, r[i].end - r[i].start,
                       mm::MapFlags{.write = true, .exec = false, .user = false, .global = true, .uncached = false},
                       huge ? mm::PageSize::Size1G : mm::PageSize::Size2M))
        << fixture << " range " << i;
  }
  return b;
}

void expect_mapped(Built& b, u64 pa, const std::string& what) {
  mm::WalkResult w = mm::walk(b.mem, b.pml4, mm::layout::phys_to_virt(pa));
  ASSERT_TRUE(w.mapped) << what << " pa 0x" << std::hex << pa;
  EXPECT_EQ(w.pa, pa) << what;
  EXPECT_TRUE(w.write) << what;
  EXPECT_FALSE(w.exec) << what;
  EXPECT_FALSE(w.user) << what;
}

void expect_unmapped(Built& b, u64 pa, const std::string& what) {
  mm::WalkResult w = mm::walk(b.mem, b.pml4, mm::layout::phys_to_virt(pa));
  EXPECT_FALSE(w.mapped) << what << " pa 0x" << std::hex << pa;
}

void check_all_ram(Built& b, const char* fixture) {
  for (usize i = 0; i < b.map.size(); ++i) {
    const auto& r = b.map[i];
    if (r.type != mm::MemType::Usable && r.type != mm::MemType::Acpi && r.type != mm::MemType::Nvs) continue;
    std::string what = std::string(fixture) + " " + mm::mem_type_name(r.type);
    expect_mapped(b, r.start, what);
    expect_mapped(b, r.end - 8, what);
    expect_mapped(b, r.start + (r.end - r.start) / 2, what);
  }
}

const char* const kFixtures[] = {"q35-128M", "q35-512M", "pc-512M", "q35-8G", "pc-8G", "q35-64G", "ovmf-q35-512M"};

}  // namespace

TEST(DirectMap, AllRamMappedWithHugePages) {
  for (const char* f : kFixtures) {
    auto b = build(f, true);
    check_all_ram(*b, f);
    expect_mapped(*b, 0xf5000, std::string(f) + " BIOS area (RSDP scan)");
  }
}

TEST(DirectMap, AllRamMappedWith2MPages) {
  for (const char* f : kFixtures) {
    auto b = build(f, false);
    check_all_ram(*b, f);
    // No 1 GiB leaves without pdpe1gb.
    for (usize i = 0; i < b->map.size(); ++i) {
      mm::WalkResult w = mm::walk(b->mem, b->pml4, mm::layout::phys_to_virt(b->map[i].start));
      if (w.mapped) EXPECT_LE(w.page_size, 2 * MiB) << f;
    }
  }
}

TEST(DirectMap, HolesStayUnmapped) {
  auto q = build("q35-8G", true);
  expect_unmapped(*q, 0x80000000, "q35-8G: 32-bit PCI window");
  expect_unmapped(*q, 0xb0000000, "q35-8G: MMCONFIG");
  expect_unmapped(*q, 0xfee00000, "q35-8G: LAPIC");
  expect_unmapped(*q, 0xfd00000000ULL, "q35-8G: HyperTransport hole");
  expect_mapped(*q, 0x27fffffff & ~7ULL, "q35-8G: last byte of RAM above 4 GiB");
  expect_unmapped(*q, 0x280000000ULL, "q35-8G: past the end of RAM");
  auto p = build("pc-8G", true);
  expect_unmapped(*p, 0xc0000000, "pc-8G: PCI window above 3 GiB");
  auto small = build("q35-512M", true);
  expect_unmapped(*small, 0xb0000000, "q35-512M: MMCONFIG");
  expect_unmapped(*small, 0x40000000, "q35-512M: above RAM");
}

TEST(DirectMap, FewTablesAndOneRunPerRange) {
  // 64 GiB with 1 GiB pages: one PDPT, plus a PD for the 2 GiB below 4 GiB only if a
  // range there is not 1 GiB aligned (it is: [0, 2G)), so very few tables.
  auto b = build("q35-64G", true);
  EXPECT_LE(b->mem.tables(), 4u);
  char buf[4096];
  lib::BufSink out(buf, sizeof buf);
  mm::format_maps(out, b->mem, b->pml4, false);
  // Contiguous ranges are one `info mem` run each: [0, 2G) and [4G, 66G).
  EXPECT_STREQ(buf,
               "ffff800000000000-ffff800080000000 0000000080000000 -rw\n"
               "ffff800100000000-ffff801080000000 0000000f80000000 -rw\n");
}
