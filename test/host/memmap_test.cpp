#include "mm/memmap.hpp"

#include <gtest/gtest.h>

#include "e820_fixture.hpp"

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using mm::MemoryMap;
using mm::MemRange;
using mm::MemType;

namespace {

constexpr u64 kPage = 4096;
constexpr u64 kMaxEnd = MemoryMap::kMaxEnd;
constexpr MemType kAllTypes[] = {MemType::Usable, MemType::Reserved, MemType::Acpi, MemType::Nvs, MemType::Bad};

std::vector<MemRange> ranges_of(const MemoryMap& m) {
  std::vector<MemRange> v;
  for (usize i = 0; i < m.size(); ++i) v.push_back(m[i]);
  return v;
}

bool same(const MemRange& a, const MemRange& b) { return a.start == b.start && a.end == b.end && a.type == b.type; }

// What normalize() promises about its result.
void check_invariants(const MemoryMap& m) {
  for (usize i = 0; i < m.size(); ++i) {
    const MemRange& r = m[i];
    ASSERT_LT(r.start, r.end) << i;
    ASSERT_LE(r.end, kMaxEnd) << i;
    if (r.type == MemType::Usable) {
      ASSERT_EQ(r.start % kPage, 0u) << i;
      ASSERT_EQ(r.end % kPage, 0u) << i;
    }
    if (i == 0) continue;
    const MemRange& p = m[i - 1];
    ASSERT_LE(p.end, r.start) << "unsorted or overlapping at " << i;
    if (p.type == r.type) ASSERT_LT(p.end, r.start) << "unmerged neighbours at " << i;
  }
}

// -1: not in the map.
int type_at(const MemoryMap& m, u64 addr) {
  for (usize i = 0; i < m.size(); ++i)
    if (addr >= m[i].start && addr < m[i].end) return static_cast<int>(m[i].type);
  return -1;
}

int rank(MemType t) {
  switch (t) {
    case MemType::Usable: return 0;
    case MemType::Acpi: return 1;
    case MemType::Nvs: return 2;
    case MemType::Reserved: return 3;
    case MemType::Bad: return 4;
  }
  return -1;
}

void expect_normalized(const char* fixture, const std::vector<MemRange>& want) {
  MemoryMap m;
  load_e820(fixture, &m);
  m.normalize();
  check_invariants(m);
  auto got = ranges_of(m);
  ASSERT_EQ(got.size(), want.size()) << fixture;
  for (usize i = 0; i < want.size(); ++i)
    EXPECT_TRUE(same(got[i], want[i])) << fixture << " range " << i << ": got " << std::hex << got[i].start << "-"
                                       << got[i].end << " " << mem_type_name(got[i].type);
}

std::vector<MemRange> direct_map(const MemoryMap& m) {
  MemRange out[64];
  usize n = mm::direct_map_ranges(m, out, 64);
  EXPECT_LE(n, 64u);
  return std::vector<MemRange>(out, out + n);
}

void expect_direct_map(const char* fixture, const std::vector<std::pair<u64, u64>>& want) {
  MemoryMap m;
  load_e820(fixture, &m);
  m.normalize();
  auto got = direct_map(m);
  ASSERT_EQ(got.size(), want.size()) << fixture;
  for (usize i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].start, want[i].first) << fixture << " " << i;
    EXPECT_EQ(got[i].end, want[i].second) << fixture << " " << i;
    EXPECT_EQ(got[i].type, MemType::Usable);
  }
}

}  // namespace

TEST(MemMap, TypeNames) {
  EXPECT_STREQ(mm::mem_type_name(MemType::Usable), "usable");
  EXPECT_STREQ(mm::mem_type_name(MemType::Reserved), "reserved");
  EXPECT_STREQ(mm::mem_type_name(MemType::Acpi), "acpi");
  EXPECT_STREQ(mm::mem_type_name(MemType::Nvs), "nvs");
  EXPECT_STREQ(mm::mem_type_name(MemType::Bad), "bad");
}

TEST(MemMap, FromMultiboot) {
  EXPECT_EQ(mm::mem_type_from_multiboot(1), MemType::Usable);
  EXPECT_EQ(mm::mem_type_from_multiboot(2), MemType::Reserved);
  EXPECT_EQ(mm::mem_type_from_multiboot(3), MemType::Acpi);
  EXPECT_EQ(mm::mem_type_from_multiboot(4), MemType::Nvs);
  EXPECT_EQ(mm::mem_type_from_multiboot(5), MemType::Bad);
  for (u32 t : {0u, 6u, 7u, 12u, 20u, 0xf0000000u, 0xffffffffu})
    EXPECT_EQ(mm::mem_type_from_multiboot(t), MemType::Reserved);
}

TEST(MemMap, FixtureQ35_128M) {
  expect_normalized("q35-128M", {
                                    {0x0, 0x9f000, MemType::Usable},
                                    {0x9fc00, 0xa0000, MemType::Reserved},
                                    {0xf0000, 0x100000, MemType::Reserved},
                                    {0x100000, 0x7fdf000, MemType::Usable},
                                    {0x7fdf000, 0x8000000, MemType::Reserved},
                                    {0xb0000000, 0xc0000000, MemType::Reserved},
                                    {0xfed1c000, 0xfed20000, MemType::Reserved},
                                    {0xfffc0000, 0x100000000, MemType::Reserved},
                                    {0xfd00000000, 0x10000000000, MemType::Reserved},
                                });
  MemoryMap m;
  load_e820("q35-128M", &m);
  m.normalize();
  EXPECT_EQ(m.ram_top(), 0x7fdf000u);
  EXPECT_EQ(m.total(MemType::Usable), 0x9f000u + 0x7fdf000u - 0x100000u);
  EXPECT_EQ(m.total(MemType::Acpi), 0u);
  expect_direct_map("q35-128M", {{0, 0x8000000}});
}

TEST(MemMap, FixtureQ35_512M) {
  MemoryMap m;
  load_e820("q35-512M", &m);
  m.normalize();
  check_invariants(m);
  EXPECT_EQ(m.size(), 9u);
  EXPECT_EQ(m.ram_top(), 0x1ffdf000u);
  EXPECT_EQ(m.total(MemType::Usable), 0x9f000u + 0x1ffdf000u - 0x100000u);
  // SeaBIOS's ACPI tables sit in the reserved tail right after RAM: it must be mapped.
  expect_direct_map("q35-512M", {{0, 0x20000000}});
}

TEST(MemMap, FixturePc512M) {
  MemoryMap m;
  load_e820("pc-512M", &m);
  m.normalize();
  check_invariants(m);
  EXPECT_EQ(m.size(), 7u);
  EXPECT_EQ(m.ram_top(), 0x1ffe0000u);
  expect_direct_map("pc-512M", {{0, 0x20000000}});
}

TEST(MemMap, FixtureQ35_8G) {
  MemoryMap m;
  load_e820("q35-8G", &m);
  m.normalize();
  check_invariants(m);
  EXPECT_EQ(m.size(), 10u);
  EXPECT_EQ(m.ram_top(), 0x280000000u);
  EXPECT_EQ(m.total(MemType::Usable), 0x9f000u + (0x7ffdf000u - 0x100000u) + 6 * GiB);
  // The PCI hole (MMCONFIG, ICH9 RCRB, BIOS ROM) and the HyperTransport window stay out,
  // although the ROM at 0xfffc0000 ends exactly where RAM resumes at 4 GiB.
  expect_direct_map("q35-8G", {{0, 0x80000000}, {0x100000000, 0x280000000}});
}

TEST(MemMap, FixtureQ35_64G) {
  MemoryMap m;
  load_e820("q35-64G", &m);
  m.normalize();
  check_invariants(m);
  EXPECT_EQ(m.ram_top(), 0x1080000000u);
  EXPECT_EQ(m.total(MemType::Usable), 0x9f000u + (0x7ffdf000u - 0x100000u) + 62 * GiB);
  EXPECT_EQ(m.total(MemType::Reserved), 0x400u + 0x10000u + 0x21000u + 0x10000000u + 0x4000u + 0x40000u + 12 * GiB);
  expect_direct_map("q35-64G", {{0, 0x80000000}, {0x100000000, 0x1080000000}});
}

TEST(MemMap, FixturePc8G) {
  MemoryMap m;
  load_e820("pc-8G", &m);
  m.normalize();
  check_invariants(m);
  EXPECT_EQ(m.ram_top(), 0x240000000u);
  expect_direct_map("pc-8G", {{0, 0xc0000000}, {0x100000000, 0x240000000}});
}

TEST(MemMap, FixtureOvmfQ35_512M) {
  // Already clean: normalize() must keep all 16 entries exactly.
  expect_normalized("ovmf-q35-512M", {
                                         {0x0, 0xa0000, MemType::Usable},
                                         {0x100000, 0x806000, MemType::Usable},
                                         {0x806000, 0x808000, MemType::Nvs},
                                         {0x808000, 0x810000, MemType::Usable},
                                         {0x810000, 0x900000, MemType::Nvs},
                                         {0x900000, 0x1eaa0000, MemType::Usable},
                                         {0x1eaa0000, 0x1eba2000, MemType::Reserved},
                                         {0x1eba2000, 0x1f4ec000, MemType::Usable},
                                         {0x1f4ec000, 0x1f76c000, MemType::Reserved},
                                         {0x1f76c000, 0x1f77e000, MemType::Acpi},
                                         {0x1f77e000, 0x1f7fe000, MemType::Nvs},
                                         {0x1f7fe000, 0x1fef4000, MemType::Usable},
                                         {0x1fef4000, 0x1ff78000, MemType::Reserved},
                                         {0x1ff78000, 0x20000000, MemType::Nvs},
                                         {0xb0000000, 0xc0000000, MemType::Reserved},
                                         {0xffc00000, 0x100000000, MemType::Reserved},
                                     });
  MemoryMap m;
  load_e820("ovmf-q35-512M", &m);
  m.normalize();
  EXPECT_EQ(m.ram_top(), 0x20000000u);
  EXPECT_EQ(m.total(MemType::Acpi), 0x12000u);
  EXPECT_EQ(m.total(MemType::Nvs), 0x2000u + 0xf0000u + 0x80000u + 0x88000u);
  expect_direct_map("ovmf-q35-512M", {{0, 0x20000000}});
}

TEST(MemMap, EveryTypePairOverlap) {
  for (MemType a : kAllTypes) {
    for (MemType b : kAllTypes) {
      MemType win = rank(a) >= rank(b) ? a : b;
      // Partial overlap, both insertion orders.
      for (int order = 0; order < 2; ++order) {
        MemoryMap m;
        if (order == 0) {
          ASSERT_TRUE(m.add(0x10000, 0x40000, a));
          ASSERT_TRUE(m.add(0x30000, 0x40000, b));
        } else {
          ASSERT_TRUE(m.add(0x30000, 0x40000, b));
          ASSERT_TRUE(m.add(0x10000, 0x40000, a));
        }
        m.normalize();
        check_invariants(m);
        SCOPED_TRACE(std::string(mem_type_name(a)) + "/" + mem_type_name(b));
        EXPECT_EQ(type_at(m, 0x10000), static_cast<int>(a));
        EXPECT_EQ(type_at(m, 0x2ffff), static_cast<int>(a));
        EXPECT_EQ(type_at(m, 0x30000), static_cast<int>(win));
        EXPECT_EQ(type_at(m, 0x4ffff), static_cast<int>(win));
        EXPECT_EQ(type_at(m, 0x50000), static_cast<int>(b));
        EXPECT_EQ(type_at(m, 0x6ffff), static_cast<int>(b));
        EXPECT_EQ(type_at(m, 0x70000), -1);
        EXPECT_EQ(m.size(), a == b ? 1u : 2u);
      }
      // b nested inside a.
      MemoryMap m;
      ASSERT_TRUE(m.add(0x0, 0x100000, a));
      ASSERT_TRUE(m.add(0x40000, 0x20000, b));
      m.normalize();
      check_invariants(m);
      EXPECT_EQ(m.size(), rank(a) >= rank(b) ? 1u : 3u);
      EXPECT_EQ(type_at(m, 0x3ffff), static_cast<int>(a));
      EXPECT_EQ(type_at(m, 0x40000), static_cast<int>(win));
      EXPECT_EQ(type_at(m, 0x60000), static_cast<int>(a));
    }
  }
}

TEST(MemMap, RestrictiveWinsAtPageGranularity) {
  // A reserved byte inside a page takes the whole page away from RAM.
  MemoryMap m;
  ASSERT_TRUE(m.add(0x100000, 0x100000, MemType::Usable));
  ASSERT_TRUE(m.add(0x150800, 0x10, MemType::Reserved));
  m.normalize();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_TRUE(same(m[0], {0x100000, 0x150000, MemType::Usable}));
  EXPECT_TRUE(same(m[1], {0x150800, 0x150810, MemType::Reserved}));
  EXPECT_TRUE(same(m[2], {0x151000, 0x200000, MemType::Usable}));
}

TEST(MemMap, ZeroLengthIgnored) {
  MemoryMap m;
  EXPECT_TRUE(m.add(0x1000, 0, MemType::Usable));
  EXPECT_TRUE(m.add(0, 0, MemType::Bad));
  EXPECT_EQ(m.size(), 0u);
  m.normalize();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.ram_top(), 0u);
  EXPECT_EQ(m.total(MemType::Usable), 0u);
}

TEST(MemMap, UnalignedUsableShrinksInward) {
  MemoryMap m;
  ASSERT_TRUE(m.add(0x101234, 0x4444, MemType::Usable));    // -> [0x102000, 0x105000)
  ASSERT_TRUE(m.add(0x201234, 0x4444, MemType::Reserved));  // kept exact
  ASSERT_TRUE(m.add(0x301100, 0xe00, MemType::Usable));     // no whole page: dropped
  ASSERT_TRUE(m.add(0x401000, 0x1fff, MemType::Acpi));      // kept exact
  m.normalize();
  check_invariants(m);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_TRUE(same(m[0], {0x102000, 0x105000, MemType::Usable}));
  EXPECT_TRUE(same(m[1], {0x201234, 0x205678, MemType::Reserved}));
  EXPECT_TRUE(same(m[2], {0x401000, 0x402fff, MemType::Acpi}));
  EXPECT_EQ(m.ram_top(), 0x402fffu);
}

TEST(MemMap, WrappingEntriesClipped) {
  MemoryMap m;
  EXPECT_TRUE(m.add(0xfffffffffffff800, 0x1000, MemType::Usable));  // only the lost last page
  EXPECT_TRUE(m.add(~0ull, ~0ull, MemType::Bad));
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.add(0xffffffffff000000, 0x2000000, MemType::Usable));             // wraps
  EXPECT_TRUE(m.add(0xfffffffff0000000, 0x0ffffffffffff000, MemType::Reserved));  // ends past kMaxEnd, no wrap
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].end, kMaxEnd);
  EXPECT_EQ(m[1].end, kMaxEnd);
  m.normalize();
  check_invariants(m);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(same(m[0], {0xfffffffff0000000, kMaxEnd, MemType::Reserved}));

  MemoryMap top;
  ASSERT_TRUE(top.add(0xfffffffffff00123, ~0ull, MemType::Usable));
  top.normalize();
  ASSERT_EQ(top.size(), 1u);
  EXPECT_TRUE(same(top[0], {0xfffffffffff01000, kMaxEnd, MemType::Usable}));
  EXPECT_EQ(top.ram_top(), kMaxEnd);
  // Rounding out to 2 MiB cannot pass 2^64: ends are cut at the last 2 MiB boundary,
  // which leaves nothing of RAM that lies wholly in the top 2 MiB.
  auto dm = direct_map(top);
  ASSERT_EQ(dm.size(), 1u);
  EXPECT_EQ(dm[0].end, 2 * MiB);
  MemoryMap high;
  ASSERT_TRUE(high.add(0xffffffffff000000, ~0ull, MemType::Usable));
  high.normalize();
  dm = direct_map(high);
  ASSERT_EQ(dm.size(), 2u);
  EXPECT_EQ(dm[1].start, 0xffffffffff000000u);
  EXPECT_EQ(dm[1].end, 0xffffffffffe00000u);
}

TEST(MemMap, FullAtMaxRanges) {
  MemoryMap m;
  for (usize i = 0; i < MemoryMap::kMaxRanges; ++i)
    ASSERT_TRUE(m.add(i * 0x20000, 0x10000, i % 2 ? MemType::Usable : MemType::Reserved));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(m.add(0x10000000 + i * kPage, kPage, MemType::Usable));
  EXPECT_TRUE(m.add(0x1234, 0, MemType::Usable));  // zero length still fine
  EXPECT_EQ(m.size(), MemoryMap::kMaxRanges);
  m.normalize();
  check_invariants(m);
  EXPECT_EQ(m.size(), MemoryMap::kMaxRanges);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.add(0, kPage, MemType::Usable));
}

TEST(MemMap, SplitsMayExceedMaxRanges) {
  // One RAM range punched by kMaxRanges - 1 reserved holes: 2 * kMaxRanges - 1 pieces,
  // all of which must survive.
  constexpr u64 holes = MemoryMap::kMaxRanges - 1;
  MemoryMap m;
  ASSERT_TRUE(m.add(0, (holes + 1) * 2 * 2 * kPage, MemType::Usable));
  for (u64 i = 0; i < holes; ++i) ASSERT_TRUE(m.add((2 * i + 1) * 2 * kPage, 2 * kPage, MemType::Reserved));
  EXPECT_FALSE(m.add(0, kPage, MemType::Bad));
  m.normalize();
  check_invariants(m);
  EXPECT_EQ(m.size(), 2 * MemoryMap::kMaxRanges - 1);  // a RAM piece before each hole, one after the last
  EXPECT_EQ(m.total(MemType::Reserved), holes * 2 * kPage);
  EXPECT_EQ(m.total(MemType::Usable), (holes + 1) * 2 * 2 * kPage - holes * 2 * kPage);
  EXPECT_FALSE(m.add(0, kPage, MemType::Bad));
}

TEST(MemMap, DuplicatesAndAdjacentMerge) {
  MemoryMap m;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(m.add(0x100000, 0x100000, MemType::Usable));
  ASSERT_TRUE(m.add(0x200000, 0x100000, MemType::Usable));  // touches: merges
  ASSERT_TRUE(m.add(0x300000, 0x1000, MemType::Reserved));
  ASSERT_TRUE(m.add(0x301000, 0x1000, MemType::Reserved));  // touches: merges
  ASSERT_TRUE(m.add(0x302000, 0x1000, MemType::Acpi));      // touches, other type: separate
  ASSERT_TRUE(m.add(0x280000, 0x1000, MemType::Usable));    // inside: vanishes
  m.normalize();
  check_invariants(m);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_TRUE(same(m[0], {0x100000, 0x300000, MemType::Usable}));
  EXPECT_TRUE(same(m[1], {0x300000, 0x302000, MemType::Reserved}));
  EXPECT_TRUE(same(m[2], {0x302000, 0x303000, MemType::Acpi}));

  MemoryMap d;  // the same range claimed with every type: Bad wins
  for (MemType t : kAllTypes) ASSERT_TRUE(d.add(0x100000, 0x1000, t));
  d.normalize();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].type, MemType::Bad);
}

TEST(MemMap, UnsortedInput) {
  MemoryMap m;
  ASSERT_TRUE(m.add(0x300000, 0x100000, MemType::Usable));
  ASSERT_TRUE(m.add(0x100000, 0x100000, MemType::Usable));
  ASSERT_TRUE(m.add(0x0, 0x9fc00, MemType::Usable));
  ASSERT_TRUE(m.add(0x200000, 0x100000, MemType::Nvs));
  m.normalize();
  check_invariants(m);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_TRUE(same(m[0], {0x0, 0x9f000, MemType::Usable}));
  EXPECT_TRUE(same(m[1], {0x100000, 0x200000, MemType::Usable}));
  EXPECT_TRUE(same(m[2], {0x200000, 0x300000, MemType::Nvs}));
  EXPECT_TRUE(same(m[3], {0x300000, 0x400000, MemType::Usable}));
}

TEST(MemMap, DirectMapRules) {
  MemoryMap m;
  ASSERT_TRUE(m.add(0x100000, 0x3ff00000 - 0x800, MemType::Usable));  // RAM ends 0x800 short of a page
  ASSERT_TRUE(m.add(0x3ffff800, 0x800, MemType::Reserved));           // firmware tables right after
  ASSERT_TRUE(m.add(0x80000000, 0x1000, MemType::Reserved));          // stand-alone
  ASSERT_TRUE(m.add(0x90000000, 0x1000, MemType::Bad));               // never
  ASSERT_TRUE(m.add(0x1'0000'0000, 0x1000, MemType::Acpi));
  ASSERT_TRUE(m.add(0x1'0000'1000, 0x1000, MemType::Reserved));  // touches ACPI
  ASSERT_TRUE(m.add(0x1'0800'0000, 0x1000, MemType::Nvs));
  ASSERT_TRUE(m.add(0x1'07ff'f000, 0x1000, MemType::Reserved));  // only touches NVS from below
  ASSERT_TRUE(m.add(0x2'0000'0000, 0x1000, MemType::Reserved));  // stand-alone
  m.normalize();
  auto dm = direct_map(m);
  ASSERT_EQ(dm.size(), 3u);
  EXPECT_EQ(dm[0].start, 0u);
  EXPECT_EQ(dm[0].end, 0x40000000u);
  EXPECT_EQ(dm[1].start, 0x100000000u);
  EXPECT_EQ(dm[1].end, 0x100200000u);
  EXPECT_EQ(dm[2].start, 0x108000000u);
  EXPECT_EQ(dm[2].end, 0x108200000u);

  MemoryMap empty;  // the first MiB is always there
  auto low = direct_map(empty);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].start, 0u);
  EXPECT_EQ(low[0].end, 2 * MiB);
}

TEST(MemMap, DirectMapReportsNeededCount) {
  MemoryMap m;
  for (u64 i = 1; i <= 10; ++i) ASSERT_TRUE(m.add(i * GiB, MiB, MemType::Usable));
  m.normalize();
  MemRange out[4] = {};
  MemRange guard = {0xdead, 0xbeef, MemType::Bad};
  out[3] = guard;
  EXPECT_EQ(mm::direct_map_ranges(m, out, 3), 11u);
  EXPECT_EQ(out[0].start, 0u);
  EXPECT_EQ(out[2].start, 2 * GiB);
  EXPECT_TRUE(same(out[3], guard));
  EXPECT_EQ(mm::direct_map_ranges(m, nullptr, 0), 11u);
}

namespace {

// Brute force over a 64 KiB address space in 256-byte units: every unit gets the most
// restrictive type covering it; a Usable unit stays only if its whole page is Usable.
void check_against_unit_model(const std::vector<MemRange>& in, const MemoryMap& m) {
  constexpr int kUnit = 0x100, kUnits = 0x10000 / kUnit, kPerPage = kPage / kUnit;
  int raw[kUnits];
  for (int u = 0; u < kUnits; ++u) {
    raw[u] = -1;
    for (const MemRange& r : in)
      if (u64(u) * kUnit >= r.start && u64(u) * kUnit < r.end && (raw[u] < 0 || rank(r.type) > rank(MemType(raw[u]))))
        raw[u] = int(r.type);
  }
  for (int u = 0; u < kUnits; ++u) {
    int want = raw[u];
    if (want == int(MemType::Usable)) {
      int p = u / kPerPage * kPerPage;
      for (int v = p; v < p + kPerPage; ++v)
        if (raw[v] != int(MemType::Usable)) want = -1;
    }
    ASSERT_EQ(type_at(m, u64(u) * kUnit), want) << "unit " << u;
  }
  for (usize i = 0; i < m.size(); ++i) {
    ASSERT_EQ(m[i].start % kUnit, 0u);
    ASSERT_EQ(m[i].end % kUnit, 0u);
  }
}

}  // namespace

TEST(MemMap, FuzzAgainstUnitModel) {
  std::mt19937_64 rng(12345);
  for (int iter = 0; iter < 4000; ++iter) {
    MemoryMap m;
    std::vector<MemRange> in;
    int n = int(rng() % 14);
    for (int i = 0; i < n; ++i) {
      u64 start = rng() % 256 * 0x100, len = rng() % 4 == 0 ? 0 : rng() % 64 * 0x100;
      if (start + len > 0x10000) len = 0x10000 - start;
      MemType t = kAllTypes[rng() % 5];
      ASSERT_TRUE(m.add(start, len, t));
      if (len) in.push_back({start, start + len, t});
    }
    if (rng() % 8 == 0 && !in.empty()) {  // an exact duplicate now and then
      ASSERT_TRUE(m.add(in[0].start, in[0].end - in[0].start, in[0].type));
    }
    m.normalize();
    SCOPED_TRACE(iter);
    check_invariants(m);
    check_against_unit_model(in, m);
    MemoryMap again = m;
    again.normalize();
    ASSERT_EQ(again.size(), m.size());
    for (usize i = 0; i < m.size(); ++i) ASSERT_TRUE(same(again[i], m[i]));
  }
}

namespace {

int raw_type(const std::vector<MemRange>& in, u64 x) {
  int t = -1;
  for (const MemRange& r : in)
    if (x >= r.start && x < r.end && (t < 0 || rank(r.type) > rank(MemType(t)))) t = int(r.type);
  return t;
}

// The model at any address, for arbitrary 64-bit inputs: the raw type, with Usable
// kept only where its whole page is Usable (raw type only changes at input bounds).
int model_type(const std::vector<MemRange>& in, u64 x) {
  int t = raw_type(in, x);
  if (t != int(MemType::Usable)) return t;
  u64 p = align_down(x, kPage);
  if (raw_type(in, p) != t) return -1;
  for (const MemRange& r : in) {
    for (u64 b : {r.start, r.end})
      if (b > p && b < p + kPage && raw_type(in, b) != t) return -1;
  }
  return t;
}

}  // namespace

TEST(MemMap, FuzzWideAddresses) {
  std::mt19937_64 rng(777);
  const u64 centers[] = {0, 1 * MiB, 4 * GiB - 0x8000, 1ull << 63, 0xffffffffffff0000ull};
  for (int iter = 0; iter < 2000; ++iter) {
    MemoryMap m;
    std::vector<MemRange> in;
    int n = int(rng() % 10);
    for (int i = 0; i < n; ++i) {
      u64 base = centers[rng() % 5] + rng() % 0x10000;
      u64 len = rng() % 16 == 0 ? rng() : rng() % 0x8000;
      MemType t = kAllTypes[rng() % 5];
      ASSERT_TRUE(m.add(base, len, t));
      u64 end = base + len;
      if (end < base || end > kMaxEnd) end = kMaxEnd;
      if (len && base < end) in.push_back({base, end, t});
    }
    m.normalize();
    SCOPED_TRACE(iter);
    check_invariants(m);
    // Both sides are constant between these points, so checking each one is complete.
    std::vector<u64> pts = {0};
    auto add_pt = [&](u64 b) {
      for (u64 v : {b, b - 1, align_down(b, kPage)}) pts.push_back(v);
      if (b <= kMaxEnd) pts.push_back(align_up(b, kPage));
    };
    for (const MemRange& r : in) add_pt(r.start), add_pt(r.end);
    for (usize i = 0; i < m.size(); ++i) add_pt(m[i].start), add_pt(m[i].end);
    for (u64 x : pts) ASSERT_EQ(type_at(m, x), model_type(in, x)) << std::hex << "at 0x" << x;
  }
}

TEST(MemMap, FuzzDirectMapInvariants) {
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 2000; ++iter) {
    MemoryMap m;
    int n = int(rng() % 20);
    for (int i = 0; i < n; ++i) ASSERT_TRUE(m.add(rng() % (64 * GiB), rng() % (4 * GiB), kAllTypes[rng() % 5]));
    m.normalize();
    MemRange out[2 * MemoryMap::kMaxRanges];
    usize k = mm::direct_map_ranges(m, out, 2 * MemoryMap::kMaxRanges);
    ASSERT_GE(k, 1u);
    ASSERT_EQ(out[0].start, 0u);
    for (usize i = 0; i < k; ++i) {
      ASSERT_EQ(out[i].start % (2 * MiB), 0u);
      ASSERT_EQ(out[i].end % (2 * MiB), 0u);
      ASSERT_LT(out[i].start, out[i].end);
      if (i) ASSERT_LT(out[i - 1].end, out[i].start);  // merged when touching
    }
    auto covered = [&](u64 s, u64 e) {
      for (usize i = 0; i < k; ++i)
        if (s >= out[i].start && e <= out[i].end) return true;
      return false;
    };
    for (usize i = 0; i < m.size(); ++i) {
      const MemRange& r = m[i];
      if (r.type == MemType::Usable || r.type == MemType::Acpi || r.type == MemType::Nvs)
        ASSERT_TRUE(covered(r.start, r.end)) << i;
    }
  }
}

TEST(MemMap, UntrimmedKeepsFirmwareBounds) {
  MemoryMap m;
  ASSERT_TRUE(m.add(0, 0x9fc00, MemType::Usable));
  ASSERT_TRUE(m.add(0x9fc00, 0x400, MemType::Reserved));
  ASSERT_TRUE(m.add(0x100000, 0x1000800, MemType::Usable));
  ASSERT_TRUE(m.add(0x100400, 0x100, MemType::Reserved));  // overlap: still resolved
  MemoryMap exact = m;
  exact.normalize(false);
  ASSERT_EQ(exact.size(), 5u);  // usable, reserved, usable, reserved (the overlap), usable
  EXPECT_EQ(exact[0].end, 0x9fc00u);
  EXPECT_EQ(exact[3].start, 0x100400u);
  EXPECT_EQ(exact[3].type, MemType::Reserved);
  EXPECT_EQ(exact[4].start, 0x100500u);
  EXPECT_EQ(exact[4].end, 0x1100800u);
  m.normalize();
  EXPECT_EQ(m[0].end, 0x9f000u);
}

// The firmware map is registered by boot and read by the monitor (physmap, xp) through
// mm: what firmware_map() gives is the registered map itself, not a copy.
TEST(MemoryMap, FirmwareMapIsTheRegisteredOne) {
  static MemoryMap m;  // static: a map is kilobytes
  m.clear();
  ASSERT_TRUE(m.add(0x100000, 0x1000, MemType::Usable));
  mm::set_firmware_map(&m);
  EXPECT_EQ(&mm::firmware_map(), &m);
  EXPECT_EQ(mm::firmware_map().size(), 1u);
  EXPECT_EQ(mm::firmware_map()[0].start, 0x100000u);
}
