// arch::cache: which MSRs a CPU's memory-type configuration is read from, and how two
// CPUs' snapshots are compared (SDM Vol. 3A 11.11.8).
#include <gtest/gtest.h>

#include "arch/cache_config.hpp"

using namespace arch::cache;

namespace {
constexpr u32 kBoth = kCpuidEdxMtrr | kCpuidEdxPat;
constexpr u64 kCapFix8 = kMtrrCapFix | 8;  // fixed ranges and 8 variable ones (QEMU, most Intel parts)

Snapshot filled(u32 edx, u64 cap) {
  Snapshot s;
  plan(&s, edx, cap);
  for (unsigned i = 0; i < s.count; ++i) s.value[i] = 0x1000u + s.msr[i];
  return s;
}
}  // namespace

TEST(CacheConfig, PlanListsWhatCpuidAndMtrrcapSay) {
  Snapshot s;
  plan(&s, kBoth, kCapFix8);
  EXPECT_EQ(s.count, 2u + 11u + 16u + 1u);
  EXPECT_EQ(s.msr[0], kMtrrCap);
  EXPECT_EQ(s.msr[1], kMtrrDefType);
  EXPECT_EQ(s.msr[2], 0x250u);
  EXPECT_EQ(s.msr[13], 0x200u);  // PHYSBASE0 right after the 11 fixed ranges
  EXPECT_EQ(s.msr[14], 0x201u);
  EXPECT_EQ(s.msr[s.count - 1], kPat);
  EXPECT_EQ(s.var_ranges, 8u);
  EXPECT_FALSE(s.var_ranges_cut);

  plan(&s, kBoth, 8);  // no fixed ranges (FIX clear)
  EXPECT_EQ(s.count, 2u + 16u + 1u);
  plan(&s, kCpuidEdxPat, kCapFix8);  // no MTRRs at all: MTRRCAP is not even read
  ASSERT_EQ(s.count, 1u);
  EXPECT_EQ(s.msr[0], kPat);
  plan(&s, 0, 0);
  EXPECT_EQ(s.count, 0u);
}

TEST(CacheConfig, MoreVariableRangesThanKeptIsSaid) {
  Snapshot s;
  plan(&s, kBoth, kMtrrCapFix | 0xff);
  EXPECT_EQ(s.var_ranges, 255u);
  EXPECT_TRUE(s.var_ranges_cut);
  EXPECT_EQ(s.count, kMaxMsrs);
  EXPECT_EQ(s.msr[s.count - 1], kPat);  // the PAT still fits: the array is sized for it
}

TEST(CacheConfig, IdenticalSnapshotsCompareEqual) {
  Snapshot a = filled(kBoth, kCapFix8), b = a;
  EXPECT_EQ(compare(a, b).count, 0u);
}

TEST(CacheConfig, FirstDifferenceIsReportedWithBothValues) {
  Snapshot a = filled(kBoth, kCapFix8), b = a;
  b.value[1] = 0;  // DEF_TYPE: QEMU's INIT resets it
  b.value[5] ^= 1;
  Difference d = compare(a, b);
  EXPECT_EQ(d.count, 2u);
  EXPECT_EQ(d.first_msr, kMtrrDefType);
  EXPECT_EQ(d.expected, 0x1000u + kMtrrDefType);
  EXPECT_EQ(d.found, 0u);
}

TEST(CacheConfig, DifferentMsrListsCountAsDifferences) {
  Snapshot a = filled(kBoth, kCapFix8), b = filled(kBoth, 8);  // b has no fixed ranges
  Difference d = compare(a, b);
  EXPECT_EQ(d.count, 11u);  // the 11 fixed ranges are missing from b
  EXPECT_EQ(d.first_msr, 0x250u);
  Snapshot none = filled(0, 0);
  EXPECT_EQ(compare(none, a).count, a.count);  // every MSR present in one snapshot only
}

TEST(CacheConfig, SameMsrsInAnotherOrderCompareByMsrNotPosition) {
  Snapshot a = filled(kBoth, kCapFix8), b = a;
  std::swap(b.msr[2], b.msr[3]);  // one list in another order: matched by MSR number, not by index
  std::swap(b.value[2], b.value[3]);
  EXPECT_EQ(compare(a, b).count, 0u);
  b.value[2] ^= 1;  // now MSR 0x258 (at index 2 in b) differs
  Difference d = compare(a, b);
  EXPECT_EQ(d.count, 1u);
  EXPECT_EQ(d.first_msr, 0x258u);
  EXPECT_EQ(d.found, (0x1000u + 0x258u) ^ 1u);
}
