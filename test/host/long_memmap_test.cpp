// Memory maps as long as real UEFI machines pass (100-300 entries): kept whole from the
// multiboot2 tag through normalize() to the direct map; a map longer than the kernel
// keeps is refused with a message naming the setting, never cut (issue 12). The shape
// comes from a real OVMF map (fixtures/e820/ovmf-q35-512M-efi.txt, 129 entries: more
// than the 128 this kernel kept before), stretched to 300 entries the way firmware
// fragments memory: Conventional memory split into Boot Data / Runtime Data / Conventional.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "boot/multiboot2.hpp"
#include "mm/layout.hpp"
#include "mm/memmap.hpp"
#include "mm/pt_build.hpp"
#include "mm/pt_walk.hpp"
#include "table_pages.hpp"

namespace {

using Entry = std::tuple<u64, u64, u32>;  // base, length, multiboot2 type

// UEFI memory types as Linux prints them -> the multiboot2 type GRUB passes (GRUB's
// grub_efi_mmap: boot services and conventional memory are available, 1; ACPI
// reclaim 3; ACPI NVS 4; runtime, reserved and MMIO 2).
u32 efi_to_mb2(const std::string& t) {
  if (t == "Conventional" || t == "Boot Code" || t == "Boot Data" || t == "Loader Code" || t == "Loader Data") return 1;
  if (t == "ACPI Reclaim") return 3;
  if (t == "ACPI Mem NVS") return 4;
  return 2;
}

std::vector<Entry> ovmf_map() {
  std::ifstream in(std::string(FIXTURE_DIR) + "/e820/ovmf-q35-512M-efi.txt");
  EXPECT_TRUE(in);
  std::vector<Entry> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string s, e, rest;
    ls >> s >> e;
    std::getline(ls >> std::ws, rest);
    std::string type = rest.substr(0, rest.find(" |"));
    u64 start = std::stoull(s, nullptr, 16), last = std::stoull(e, nullptr, 16);
    out.emplace_back(start, last - start + 1, efi_to_mb2(type));
  }
  return out;
}

// Splits the largest usable entries into 4 KiB-aligned pieces, alternating usable and
// reserved (a runtime-services page every other piece), until there are n entries.
std::vector<Entry> stretched(std::vector<Entry> m, usize n) {
  while (m.size() < n) {
    auto it = std::max_element(m.begin(), m.end(), [](const Entry& a, const Entry& b) {
      return (std::get<2>(a) == 1 ? std::get<1>(a) : 0) < (std::get<2>(b) == 1 ? std::get<1>(b) : 0);
    });
    auto [base, len, type] = *it;
    EXPECT_EQ(type, 1u);
    u64 piece = (len / 4) & ~0xfffULL;
    EXPECT_GT(piece, 0u);
    *it = Entry{base, piece, 1};
    m.insert(it + 1, {Entry{base + piece, 0x1000, 2}, Entry{base + piece + 0x1000, len - piece - 0x1000, 1}});
  }
  m.resize(n);  // the last split may overshoot by one: drop from the end (still a valid map)
  return m;
}

std::vector<u8> multiboot2_info(const std::vector<Entry>& ents) {
  std::vector<u8> b(8, 0);
  auto put32 = [&](u32 v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<u8>(v >> (8 * i)));
  };
  auto put64 = [&](u64 v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<u8>(v >> (8 * i)));
  };
  put32(6);  // memory map tag
  put32(static_cast<u32>(16 + 24 * ents.size()));
  put32(24);  // entry size
  put32(0);   // entry version
  for (auto [base, len, type] : ents) {
    put64(base);
    put64(len);
    put32(type);
    put32(0);
  }
  while (b.size() % 8) b.push_back(0);
  put32(0);  // end tag
  put32(8);
  u32 total = static_cast<u32>(b.size());
  std::memcpy(b.data(), &total, 4);
  return b;
}

u64 total_of(const std::vector<Entry>& ents, u32 type) {
  u64 t = 0;
  for (auto [b, l, ty] : ents)
    if (ty == type) t += l;
  return t;
}

}  // namespace

TEST(LongMemoryMap, RealOvmfMapOfMoreThan128EntriesIsKeptWhole) {
  auto ents = ovmf_map();
  ASSERT_EQ(ents.size(), 129u);
  auto info = multiboot2_info(ents);
  boot::BootInfo bi{};
  mm::MemoryMap map;
  const char* err = nullptr;
  ASSERT_TRUE(boot::parse_multiboot2(info.data(), info.size(), &bi, &map, &err)) << err;
  EXPECT_EQ(map.size(), 129u);
  map.normalize(false);
  EXPECT_EQ(map.total(mm::MemType::Usable), total_of(ents, 1));
  EXPECT_EQ(map.total(mm::MemType::Acpi), total_of(ents, 3));
  EXPECT_EQ(map.total(mm::MemType::Nvs), total_of(ents, 4));
}

TEST(LongMemoryMap, ThreeHundredEntriesKeptWholeAndDirectMapped) {
  auto ents = stretched(ovmf_map(), 300);
  ASSERT_EQ(ents.size(), 300u);
  auto info = multiboot2_info(ents);
  boot::BootInfo bi{};
  mm::MemoryMap map;
  const char* err = nullptr;
  ASSERT_TRUE(boot::parse_multiboot2(info.data(), info.size(), &bi, &map, &err)) << err;
  ASSERT_EQ(map.size(), 300u);
  mm::MemoryMap exact = map;
  exact.normalize(false);
  EXPECT_EQ(exact.total(mm::MemType::Usable), total_of(ents, 1));  // every byte of RAM still there
  EXPECT_EQ(exact.total(mm::MemType::Reserved), total_of(ents, 2));
  map.normalize();

  // The direct map for it, with the kernel's own calls, fits the kernel's limit...
  std::vector<mm::MemRange> r(config::kMaxDirectRanges);
  usize n = mm::direct_map_ranges(map, r.data(), r.size());
  ASSERT_LE(n, config::kMaxDirectRanges);
  test::TablePages mem;
  u64 pml4 = mem.alloc_table();
  mm::PageTableBuilder pt(mem, mem, pml4);
  for (usize i = 0; i < n; ++i)
    ASSERT_TRUE(pt.map(mm::layout::phys_to_virt(r[i].start), r[i].start, r[i].end - r[i].start,
                       mm::MapFlags{.write = true, .exec = false, .user = false, .global = true, .uncached = false},
                       mm::PageSize::Size2M));
  // ... and maps every usable page of all 300 entries at base + pa.
  for (usize i = 0; i < map.size(); ++i) {
    if (map[i].type != mm::MemType::Usable) continue;
    for (u64 pa : {map[i].start, map[i].end - 1}) {
      mm::WalkResult w = mm::walk(mem, pml4, mm::layout::phys_to_virt(pa));
      ASSERT_TRUE(w.mapped) << std::hex << pa;
      EXPECT_EQ(w.pa, pa);
    }
  }
}

TEST(LongMemoryMap, LongerThanTheLimitIsRefusedNamingTheSetting) {
  auto ents = stretched(ovmf_map(), mm::MemoryMap::kMaxRanges + 1);
  auto info = multiboot2_info(ents);
  boot::BootInfo bi{};
  mm::MemoryMap map;
  const char* err = nullptr;
  EXPECT_FALSE(boot::parse_multiboot2(info.data(), info.size(), &bi, &map, &err));
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::strstr(err, "KCONFIG_MAX_MEMMAP_RANGES"), nullptr) << err;
  // Exactly the limit is fine.
  ents.pop_back();
  info = multiboot2_info(ents);
  mm::MemoryMap fresh;
  EXPECT_TRUE(boot::parse_multiboot2(info.data(), info.size(), &bi, &fresh, &err)) << err;
  EXPECT_EQ(fresh.size(), mm::MemoryMap::kMaxRanges);
}

TEST(LongMemoryMap, DirectMapNeedingMoreRangesThanTheLimitSaysSo) {
  // RAM islands 4 MiB apart cannot merge after 2 MiB rounding: one direct-map range each.
  mm::MemoryMap map;
  const usize islands = config::kMaxDirectRanges + 5;
  for (usize i = 0; i < islands; ++i) ASSERT_TRUE(map.add((i + 1) * 8 * MiB, 1 * MiB, mm::MemType::Usable));
  map.normalize();
  std::vector<mm::MemRange> r(config::kMaxDirectRanges);
  usize n = mm::direct_map_ranges(map, r.data(), r.size());
  EXPECT_EQ(n, islands + 1);  // + the low 1 MiB, always mapped; the caller stops the boot on n > max
}
