#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "boot/multiboot2.hpp"

namespace {
struct Builder {
  std::vector<u8> b = std::vector<u8>(8, 0);
  void tag(u32 type, const std::vector<u8>& body) {
    u32 size = static_cast<u32>(8 + body.size());
    put32(type);
    put32(size);
    b.insert(b.end(), body.begin(), body.end());
    while (b.size() % 8) b.push_back(0);
  }
  void put32(u32 v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<u8>(v >> (8 * i)));
  }
  std::vector<u8> finish() {
    tag(0, {});
    u32 total = static_cast<u32>(b.size());
    std::memcpy(b.data(), &total, 4);
    return b;
  }
};
std::vector<u8> le64(u64 v) {
  std::vector<u8> r;
  for (int i = 0; i < 8; ++i) r.push_back(static_cast<u8>(v >> (8 * i)));
  return r;
}
std::vector<u8> mmap_body(const std::vector<std::tuple<u64, u64, u32>>& ents) {
  std::vector<u8> body = {24, 0, 0, 0, 0, 0, 0, 0};
  for (auto [base, len, type] : ents) {
    auto a = le64(base), l = le64(len);
    body.insert(body.end(), a.begin(), a.end());
    body.insert(body.end(), l.begin(), l.end());
    for (int i = 0; i < 4; ++i) body.push_back(static_cast<u8>(type >> (8 * i)));
    for (int i = 0; i < 4; ++i) body.push_back(0);
  }
  return body;
}
}  // namespace

TEST(Multiboot2, ParsesMapCmdlineAndRsdp) {
  Builder bld;
  bld.tag(1, {'s', 'm', 'p', '.', 't', 'i', 'm', 'e', 'o', 'u', 't', '_', 'm', 's', '=', '5', 0});
  bld.tag(6, mmap_body({{0, 0x9fc00, 1}, {0x100000, 0x1fee0000, 1}, {0x1ffe0000, 0x20000, 2}}));
  std::vector<u8> rsdp(20, 0);
  std::memcpy(rsdp.data(), "RSD PTR ", 8);
  bld.tag(14, rsdp);
  auto info = bld.finish();
  boot::BootInfo bi;
  mm::MemoryMap map;
  const char* err = nullptr;
  ASSERT_TRUE(boot::parse_multiboot2(info.data(), info.size(), &bi, &map, &err)) << err;
  EXPECT_TRUE(bi.has_mmap);
  EXPECT_EQ(bi.rsdp_len, 20u);
  EXPECT_FALSE(bi.rsdp_v2);
  map.normalize();
  EXPECT_EQ(map.total(mm::MemType::Usable), 0x9f000u + 0x1fee0000u);
  char val[16];
  EXPECT_TRUE(boot::cmdline_option(bi.cmdline, "smp.timeout_ms", val, sizeof val));
  EXPECT_STREQ(val, "5");
  EXPECT_FALSE(boot::cmdline_option(bi.cmdline, "smp.timeout", val, sizeof val));
}

TEST(Multiboot2, RejectsTagPastEnd) {
  Builder bld;
  bld.tag(1, {'a', 0});
  auto info = bld.finish();
  u32 huge = 0x1000;
  std::memcpy(info.data() + 12, &huge, 4);  // first tag's size
  boot::BootInfo bi;
  mm::MemoryMap map;
  const char* err = nullptr;
  EXPECT_FALSE(boot::parse_multiboot2(info.data(), info.size(), &bi, &map, &err));
  EXPECT_NE(err, nullptr);
}

TEST(Multiboot2, RandomMutationsNeverReadOutOfBounds) {
  Builder bld;
  bld.tag(1, {'x', 0});
  bld.tag(6, mmap_body({{0, 0x9fc00, 1}, {0x100000, 0x1000000, 1}}));
  bld.tag(15, std::vector<u8>(36, 1));
  auto base = bld.finish();
  std::mt19937 rng(42);
  for (int it = 0; it < 20000; ++it) {
    auto m = base;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] = static_cast<u8>(rng());
    usize len = rng() % 3 == 0 ? rng() % (m.size() + 1) : m.size();
    std::vector<u8> exact(m.begin(), m.begin() + static_cast<long>(len));  // ASan sees the true end
    boot::BootInfo bi;
    mm::MemoryMap map;
    const char* err = nullptr;
    (void)boot::parse_multiboot2(exact.data(), exact.size(), &bi, &map, &err);
  }
}
