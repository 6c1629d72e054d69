// Slot assignment when the MADT lists more processors than there are per-CPU slots:
// the BSP always gets index 0, enabled APs follow in MADT order until the slots run out,
// disabled entries only take what no enabled one needs, the rest is "no slot".
#include <gtest/gtest.h>

#include <vector>

#include "smp/slot_plan.hpp"

namespace {

std::vector<acpi::Cpu> madt(u32 n, u32 first_id = 0) {
  std::vector<acpi::Cpu> v;
  for (u32 i = 0; i < n; ++i) v.push_back(acpi::Cpu{first_id + i, i, true, false, first_id + i > 254});
  return v;
}

struct Result {
  smp::SlotPlan plan;
  std::vector<u32> slot_of;
};

Result plan(const std::vector<acpi::Cpu>& cpus, u32 bsp, usize slots) {
  Result r;
  r.slot_of.assign(cpus.size(), 0xdeadbeef);
  r.plan = smp::plan_slots(cpus.data(), cpus.size(), bsp, slots, r.slot_of.data());
  return r;
}

// Every index in [0, used) is handed out exactly once.
void expect_dense(const Result& r) {
  std::vector<int> seen(r.plan.used, 0);
  for (u32 s : r.slot_of) {
    ASSERT_NE(s, 0xdeadbeefu) << "an entry was left unassigned";
    if (s == smp::kNoSlot) continue;
    ASSERT_LT(s, r.plan.used);
    ++seen[s];
  }
  if (r.plan.bsp_entry == smp::kNoSlot && !seen.empty()) seen[0] = 1;  // the BSP's, outside the MADT
  for (usize i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << "index " << i;
}

}  // namespace

TEST(SlotPlan, FewerCpusThanSlotsTakeMadtOrder) {
  auto cpus = madt(4);
  Result r = plan(cpus, 0, 256);
  EXPECT_EQ(r.plan.used, 4u);
  EXPECT_EQ(r.slot_of, (std::vector<u32>{0, 1, 2, 3}));
  EXPECT_EQ(r.plan.enabled_noslot, 0u);
  expect_dense(r);
}

TEST(SlotPlan, Qemu288CpusFirst256GetSlots) {
  auto cpus = madt(288);
  Result r = plan(cpus, 0, 256);
  EXPECT_EQ(r.plan.used, 256u);
  EXPECT_EQ(r.plan.enabled_noslot, 32u);
  for (u32 i = 0; i < 256; ++i) EXPECT_EQ(r.slot_of[i], i);
  for (u32 i = 256; i < 288; ++i) EXPECT_EQ(r.slot_of[i], smp::kNoSlot);
  expect_dense(r);
}

TEST(SlotPlan, BspLastInTheMadtStillGetsIndexZero) {
  auto cpus = madt(288);
  Result r = plan(cpus, 287, 256);
  EXPECT_EQ(r.plan.bsp_entry, 287u);
  EXPECT_EQ(r.slot_of[287], 0u);
  EXPECT_EQ(r.plan.used, 256u);
  // 255 APs by MADT order: entries 0..254; 255..286 have no slot.
  for (u32 i = 0; i < 255; ++i) EXPECT_EQ(r.slot_of[i], i + 1);
  for (u32 i = 255; i < 287; ++i) EXPECT_EQ(r.slot_of[i], smp::kNoSlot);
  EXPECT_EQ(r.plan.enabled_noslot, 32u);
  expect_dense(r);
}

TEST(SlotPlan, BspBeyondThe256thEntry) {
  auto cpus = madt(400, 1000);
  Result r = plan(cpus, 1000 + 300, 256);
  EXPECT_EQ(r.slot_of[300], 0u);
  EXPECT_EQ(r.plan.enabled_noslot, 400u - 256u);
  for (u32 i = 0; i < 255; ++i) EXPECT_EQ(r.slot_of[i], i + 1);
  EXPECT_EQ(r.slot_of[255], smp::kNoSlot);
  expect_dense(r);
}

TEST(SlotPlan, DisabledEntriesNeverCostAnEnabledOneItsSlot) {
  // 8 slots; MADT: 3 disabled first, then 10 enabled (BSP among them).
  std::vector<acpi::Cpu> cpus;
  for (u32 i = 0; i < 3; ++i) cpus.push_back(acpi::Cpu{100 + i, i, false, false, false});
  for (u32 i = 0; i < 10; ++i) cpus.push_back(acpi::Cpu{i, 3 + i, true, false, false});
  Result r = plan(cpus, 0, 8);
  EXPECT_EQ(r.plan.used, 8u);
  EXPECT_EQ(r.plan.offline_noslot, 3u);
  EXPECT_EQ(r.plan.enabled_noslot, 2u);  // BSP + 7 of the 9 enabled APs
  for (u32 i = 0; i < 3; ++i) EXPECT_EQ(r.slot_of[i], smp::kNoSlot);
  expect_dense(r);
}

TEST(SlotPlan, DisabledEntriesFillSpareSlotsInMadtOrder) {
  // -smp 2,maxcpus=8: two enabled, six disabled; all fit, in MADT order.
  std::vector<acpi::Cpu> cpus;
  for (u32 i = 0; i < 8; ++i) cpus.push_back(acpi::Cpu{i, i, i < 2, false, false});
  Result r = plan(cpus, 0, 256);
  EXPECT_EQ(r.plan.used, 8u);
  for (u32 i = 0; i < 8; ++i) EXPECT_EQ(r.slot_of[i], i);
  expect_dense(r);
}

TEST(SlotPlan, BspNotInTheMadt) {
  auto cpus = madt(300, 1);
  Result r = plan(cpus, 0, 256);
  EXPECT_EQ(r.plan.bsp_entry, smp::kNoSlot);
  EXPECT_EQ(r.plan.used, 256u);  // index 0 stays the BSP's, 255 APs
  EXPECT_EQ(r.plan.enabled_noslot, 45u);
  expect_dense(r);
}

TEST(SlotPlan, RandomMadtsKeepTheInvariants) {
  u64 seed = 12345;
  auto rnd = [&] { return (seed = seed * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (int iter = 0; iter < 500; ++iter) {
    u32 n = static_cast<u32>(rnd() % 600);
    std::vector<acpi::Cpu> cpus;
    for (u32 i = 0; i < n; ++i) cpus.push_back(acpi::Cpu{i * 3, i, rnd() % 4 != 0, false, false});
    usize slots = 1 + rnd() % 300;
    u32 bsp = n ? static_cast<u32>(rnd() % n) * 3 : 0;
    Result r = plan(cpus, bsp, slots);
    ASSERT_LE(r.plan.used, slots);
    usize enabled = 0, noslot_enabled = 0;
    for (u32 i = 0; i < n; ++i) {
      if (!cpus[i].enabled) continue;
      ++enabled;
      if (r.slot_of[i] == smp::kNoSlot) ++noslot_enabled;
    }
    EXPECT_EQ(noslot_enabled, r.plan.enabled_noslot);
    if (n) EXPECT_EQ(r.slot_of[bsp / 3], 0u);
    // An enabled entry is only left out when the slots are all in use, never for a
    // disabled one.
    if (noslot_enabled) {
      EXPECT_EQ(r.plan.used, slots);
      for (u32 i = 0; i < n; ++i)
        if (!cpus[i].enabled && i != bsp / 3) EXPECT_EQ(r.slot_of[i], smp::kNoSlot);
    }
  }
}
