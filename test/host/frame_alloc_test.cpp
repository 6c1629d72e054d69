#include "mm/frame_alloc.hpp"

#include <gtest/gtest.h>

#include "e820_fixture.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mm/memmap.hpp"

using mm::FrameAllocator;
using mm::MemoryMap;
using mm::MemType;
using mm::Purpose;

namespace {

constexpr u64 kPage = 4096;
constexpr Purpose kAllPurposes[] = {Purpose::PageTable, Purpose::PerCpu, Purpose::Stack, Purpose::Trampoline,
                                    Purpose::Other};

void load_e820_normalized(const char* name, MemoryMap* map) {
  load_e820(name, map);
  map->normalize();
}

bool in_usable_page(const MemoryMap& m, u64 pa) {
  for (usize i = 0; i < m.size(); ++i)
    if (m[i].type == MemType::Usable && pa >= m[i].start && pa + kPage <= m[i].end) return true;
  return false;
}

// Every run sorted, disjoint, and merged with a same-purpose neighbour it touches.
void check_runs(const FrameAllocator& fa) {
  u64 listed = 0;
  for (usize i = 0; i < fa.run_count(); ++i) {
    const auto& r = fa.run(i);
    ASSERT_LT(r.start, r.end);
    listed += r.end - r.start;
    if (i == 0) continue;
    const auto& p = fa.run(i - 1);
    ASSERT_LE(p.end, r.start);
    if (p.end == r.start) ASSERT_NE(p.purpose, r.purpose) << "unmerged run " << i;
  }
  EXPECT_EQ(listed + fa.unlisted_bytes(), fa.allocated_bytes());
}

}  // namespace

TEST(FrameAlloc, PurposeNames) {
  EXPECT_STREQ(mm::purpose_name(Purpose::PageTable), "page-tables");
  EXPECT_STREQ(mm::purpose_name(Purpose::PerCpu), "percpu");
  EXPECT_STREQ(mm::purpose_name(Purpose::Stack), "stacks");
  EXPECT_STREQ(mm::purpose_name(Purpose::Trampoline), "trampoline");
  EXPECT_STREQ(mm::purpose_name(Purpose::Other), "other");
}

TEST(FrameAlloc, LowestFirstSkipsLowAndExcluded) {
  MemoryMap m;
  load_e820_normalized("q35-512M", &m);
  FrameAllocator fa;
  ASSERT_TRUE(fa.exclude(0x200000, 0x345678));  // kernel image: end rounds up
  fa.init(m);
  EXPECT_EQ(fa.free_bytes(), 0x1ffdf000u - 0x100000u - 0x146000u);
  EXPECT_EQ(fa.allocated_bytes(), 0u);
  for (u64 pa = 0x100000; pa < 0x200000; pa += kPage) ASSERT_EQ(fa.alloc(Purpose::PageTable), pa);
  EXPECT_EQ(fa.alloc(Purpose::PageTable), 0x346000u);
  EXPECT_EQ(fa.allocated_bytes(Purpose::PageTable), 0x101000u);
  ASSERT_EQ(fa.run_count(), 2u);
  EXPECT_EQ(fa.run(0).start, 0x100000u);
  EXPECT_EQ(fa.run(0).end, 0x200000u);
  EXPECT_EQ(fa.run(1).start, 0x346000u);
}

TEST(FrameAlloc, ExhaustQ35_128M) {
  MemoryMap m;
  load_e820_normalized("q35-128M", &m);
  FrameAllocator fa;
  fa.init(m);
  ASSERT_TRUE(fa.exclude(0x200000, 0x400000));    // kernel
  ASSERT_TRUE(fa.exclude(0x10000, 0x10fff));      // below 1 MiB anyway
  ASSERT_TRUE(fa.exclude(0x500001, 0x500002));    // one byte: its whole page
  ASSERT_TRUE(fa.exclude(0x7fd0000, 0x9000000));  // runs past RAM
  ASSERT_TRUE(fa.exclude(0x600000, 0x600000));    // empty
  const u64 initial = fa.free_bytes();
  EXPECT_EQ(initial, 0x7fd0000u - 0x100000u - 0x200000u - kPage);
  u64 prev = 0, count = 0;
  for (;;) {
    Purpose p = kAllPurposes[count / 1000 % 5];
    u64 pa = fa.alloc(p);
    if (pa == 0) break;
    ASSERT_GT(pa, prev);  // lowest first: never revisits
    ASSERT_EQ(pa % kPage, 0u);
    ASSERT_GE(pa, 1 * MiB);
    ASSERT_TRUE(in_usable_page(m, pa)) << std::hex << pa;
    ASSERT_FALSE(pa >= 0x200000 && pa < 0x400000);
    ASSERT_NE(pa, 0x500000u);
    ASSERT_LT(pa, 0x7fd0000u);
    prev = pa;
    ++count;
  }
  EXPECT_EQ(count * kPage, initial);
  EXPECT_EQ(fa.free_bytes(), 0u);
  EXPECT_EQ(fa.allocated_bytes(), initial);
  EXPECT_EQ(fa.lost_bytes(), 0u);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0u);
  EXPECT_EQ(fa.alloc_contiguous(1, kPage, Purpose::Other), 0u);
  check_runs(fa);
}

TEST(FrameAlloc, LimitRespected) {
  MemoryMap m;
  load_e820_normalized("q35-8G", &m);
  FrameAllocator fa;
  fa.init(m);
  EXPECT_EQ(fa.alloc(Purpose::Trampoline, 0x100000), 0u);  // the frame must end at or below
  EXPECT_EQ(fa.alloc(Purpose::Trampoline, 0x100fff), 0u);
  EXPECT_EQ(fa.alloc(Purpose::Trampoline, 0x101000), 0x100000u);
  // Leave only a little below 4 GiB.
  ASSERT_TRUE(fa.exclude(0, 0x7ff00000));
  u64 n = 0;
  while (u64 pa = fa.alloc(Purpose::PageTable, 4 * GiB)) {
    ASSERT_GE(pa, 0x7ff00000u);
    ASSERT_LE(pa + kPage, 0x7ffdf000u);
    ++n;
  }
  EXPECT_EQ(n, 0xdfu);
  EXPECT_EQ(fa.alloc_contiguous(1, kPage, Purpose::PageTable, 4 * GiB), 0u);
  EXPECT_EQ(fa.alloc(Purpose::PageTable), 4 * GiB);  // no limit: above 4 GiB
  EXPECT_EQ(fa.alloc_contiguous(512, 2 * MiB, Purpose::Stack, 4 * GiB + 2 * MiB), 0u);
  EXPECT_EQ(fa.alloc_contiguous(512, 2 * MiB, Purpose::Stack, 4 * GiB + 4 * MiB), 4 * GiB + 2 * MiB);
}

TEST(FrameAlloc, ContiguousAlignment) {
  MemoryMap m;
  load_e820_normalized("q35-512M", &m);
  FrameAllocator fa;
  fa.init(m);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0x100000u);
  EXPECT_EQ(fa.alloc_contiguous(512, 2 * MiB, Purpose::PerCpu), 0x200000u);
  EXPECT_EQ(fa.alloc_contiguous(3, 64 * KiB, Purpose::Stack), 0x110000u);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0x101000u);                    // fills the hole alignment left
  EXPECT_EQ(fa.alloc_contiguous(16, 0, Purpose::Stack), 0x113000u);  // align 0 = 4 KiB; the hole has 14
  EXPECT_EQ(fa.alloc_contiguous(1, 1, Purpose::Stack), 0x102000u);
  EXPECT_EQ(fa.alloc_contiguous(0, kPage, Purpose::Stack), 0u);
  EXPECT_EQ(fa.alloc_contiguous(1, 3 * kPage, Purpose::Stack), 0u);  // not a power of two
  EXPECT_EQ(fa.alloc_contiguous(1, 1ull << 63, Purpose::Stack), 0u);
  EXPECT_EQ(fa.alloc_contiguous(~usize{0}, kPage, Purpose::Stack), 0u);
  EXPECT_EQ(fa.alloc_contiguous(0x20000, kPage, Purpose::Stack), 0u);  // 512 MiB: never fits
  u64 big = fa.alloc_contiguous(1024, 1 * GiB / 4, Purpose::Other);    // 4 MiB on 256 MiB
  EXPECT_EQ(big, 256 * MiB);
  EXPECT_EQ(fa.allocated_bytes(Purpose::PerCpu), 2 * MiB);
  EXPECT_EQ(fa.allocated_bytes(Purpose::Stack), 20 * kPage);
  EXPECT_EQ(fa.allocated_bytes(Purpose::Other), 2 * kPage + 4 * MiB);
  EXPECT_EQ(fa.free_bytes() + fa.allocated_bytes(), 0x1ffdf000u - 0x100000u);
  check_runs(fa);
}

TEST(FrameAlloc, RunsMerge) {
  MemoryMap m;
  ASSERT_TRUE(m.add(0, 64 * MiB, MemType::Usable));
  m.normalize();
  FrameAllocator fa;
  fa.init(m);
  EXPECT_EQ(fa.alloc(Purpose::PageTable), 0x100000u);
  EXPECT_EQ(fa.alloc_contiguous(1, 0x4000, Purpose::PageTable), 0x104000u);
  ASSERT_EQ(fa.run_count(), 2u);
  for (int i = 0; i < 3; ++i) (void)fa.alloc(Purpose::PageTable);  // fills the gap: one run
  ASSERT_EQ(fa.run_count(), 1u);
  EXPECT_EQ(fa.run(0).start, 0x100000u);
  EXPECT_EQ(fa.run(0).end, 0x105000u);
  EXPECT_EQ(fa.alloc(Purpose::Stack), 0x105000u);
  EXPECT_EQ(fa.alloc(Purpose::Stack), 0x106000u);
  EXPECT_EQ(fa.alloc(Purpose::PageTable), 0x107000u);
  ASSERT_EQ(fa.run_count(), 3u);
  EXPECT_EQ(fa.run(1).purpose, Purpose::Stack);
  EXPECT_EQ(fa.run(1).end - fa.run(1).start, 2 * kPage);
  EXPECT_EQ(fa.run(2).purpose, Purpose::PageTable);
  // A hole filled with a different purpose than both neighbours: its own run.
  EXPECT_EQ(fa.alloc_contiguous(1, 0x4000, Purpose::Trampoline), 0x108000u);
  EXPECT_EQ(fa.alloc_contiguous(1, 0x4000, Purpose::Trampoline), 0x10c000u);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0x109000u);
  ASSERT_EQ(fa.run_count(), 6u);
  EXPECT_EQ(fa.run(4).purpose, Purpose::Other);
  check_runs(fa);
}

TEST(FrameAlloc, RunsBeyondMaxAreCountedOnly) {
  MemoryMap m;
  ASSERT_TRUE(m.add(0, 64 * MiB, MemType::Usable));
  m.normalize();
  FrameAllocator fa;
  fa.init(m);
  for (usize i = 0; i < FrameAllocator::kMaxRuns + 6; ++i)
    ASSERT_NE(fa.alloc(i % 2 ? Purpose::Stack : Purpose::PerCpu), 0u);
  EXPECT_EQ(fa.run_count(), FrameAllocator::kMaxRuns);
  EXPECT_EQ(fa.unlisted_bytes(), 6 * kPage);
  EXPECT_EQ(fa.allocated_bytes(), (FrameAllocator::kMaxRuns + 6) * kPage);
  EXPECT_EQ(fa.allocated_bytes(Purpose::Stack), (FrameAllocator::kMaxRuns / 2 + 3) * kPage);
  // Nor is any later allocation that extends no listed run.
  ASSERT_EQ(fa.alloc_contiguous(1, 0x1000000, Purpose::Other), 16 * MiB);
  EXPECT_EQ(fa.unlisted_bytes(), 7 * kPage);
  check_runs(fa);

  // init() starts the bookkeeping over.
  fa.init(m);
  EXPECT_EQ(fa.run_count(), 0u);
  EXPECT_EQ(fa.unlisted_bytes(), 0u);
  EXPECT_EQ(fa.allocated_bytes(), 0u);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0x100000u);
}

TEST(FrameAlloc, ExcludeLimitsAndTiming) {
  MemoryMap m;
  ASSERT_TRUE(m.add(0, 64 * MiB, MemType::Usable));
  m.normalize();
  FrameAllocator fa;
  for (usize i = 0; i < FrameAllocator::kMaxExcludes; ++i)
    ASSERT_TRUE(fa.exclude(0x100000 + i * 2 * kPage, 0x100000 + i * 2 * kPage + 1));
  EXPECT_FALSE(fa.exclude(0x300000, 0x301000));
  EXPECT_TRUE(fa.exclude(0x300000, 0x300000));  // empty needs no slot
  fa.init(m);                                   // excludes made before init apply
  for (usize i = 0; i < FrameAllocator::kMaxExcludes; ++i)
    EXPECT_EQ(fa.alloc(Purpose::Other), 0x100000 + (2 * i + 1) * kPage);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0x100000 + 32 * kPage);
  EXPECT_EQ(fa.free_bytes() + fa.allocated_bytes() + 16 * kPage, 63 * MiB);
  fa.init(m);  // and survive a second init
  EXPECT_EQ(fa.alloc(Purpose::Other), 0x101000u);
}

TEST(FrameAlloc, NothingBelowOneMiB) {
  MemoryMap low;
  ASSERT_TRUE(low.add(0, 0x9fc00, MemType::Usable));
  low.normalize();
  FrameAllocator fa;
  fa.init(low);
  EXPECT_EQ(fa.free_bytes(), 0u);
  EXPECT_EQ(fa.alloc(Purpose::Trampoline), 0u);

  MemoryMap odd;  // RAM straddling 1 MiB, unaligned
  ASSERT_TRUE(odd.add(0xff800, 0x2000, MemType::Usable));
  odd.normalize();
  fa.init(odd);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0x100000u);
  EXPECT_EQ(fa.alloc(Purpose::Other), 0u);
}

TEST(FrameAlloc, UnnormalizedMapNeverHandsOutTwice) {
  MemoryMap m;  // overlapping, unsorted, never normalized
  ASSERT_TRUE(m.add(0x200000, 0x100000, MemType::Usable));
  ASSERT_TRUE(m.add(0x280000, 0x100000, MemType::Usable));
  ASSERT_TRUE(m.add(0x100000, 0x200000, MemType::Usable));
  FrameAllocator fa;
  fa.init(m);
  std::vector<u64> got;
  while (u64 pa = fa.alloc(Purpose::Other)) got.push_back(pa);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end());
  for (u64 pa : got) EXPECT_TRUE(pa >= 0x200000 && pa < 0x380000) << std::hex << pa;
}

TEST(FrameAlloc, FreeTableOverflowLosesButNeverLeaks) {
  // 128 RAM ranges, each split again and again by aligned allocations until the free
  // table is full; from then on pieces are given up, never handed out twice.
  MemoryMap m;
  for (u64 i = 0; i < MemoryMap::kMaxRanges; ++i)
    ASSERT_TRUE(m.add(1 * MiB + i * MiB + kPage, 0x80000 - kPage, MemType::Usable));
  m.normalize();
  FrameAllocator fa;
  fa.init(m);
  const u64 initial = fa.free_bytes();
  std::vector<u64> got;
  for (int i = 0; i < 400; ++i) {
    u64 pa = fa.alloc_contiguous(1, 0x10000, Purpose::Other);
    if (pa == 0) break;
    EXPECT_EQ(pa % 0x10000, 0u);
    got.push_back(pa);
  }
  while (u64 pa = fa.alloc(Purpose::Other)) got.push_back(pa);
  EXPECT_GT(fa.lost_bytes(), 0u);
  EXPECT_EQ(fa.free_bytes(), 0u);
  EXPECT_EQ(fa.allocated_bytes() + fa.lost_bytes(), initial);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end());
  for (u64 pa : got) ASSERT_TRUE(in_usable_page(m, pa));
}

namespace {

// Page-granular reference: 4 MiB of address space, one flag per page.
struct Model {
  static constexpr u64 kPages = 1024;
  bool free[kPages];
  u64 alloc(usize pages, u64 align, u64 limit) {
    if (align < kPage) align = kPage;
    for (u64 a = 0; a + pages * kPage <= kPages * kPage; a += align) {
      if (a + pages * kPage > limit) return 0;
      bool ok = true;
      for (u64 p = a / kPage; p < a / kPage + pages && ok; ++p) ok = free[p];
      if (!ok) continue;
      for (u64 p = a / kPage; p < a / kPage + pages; ++p) free[p] = false;
      return a;
    }
    return 0;
  }
  void exclude(u64 s, u64 e) {
    for (u64 p = s / kPage; p < (e + kPage - 1) / kPage && p < kPages; ++p) free[p] = false;
  }
  u64 free_bytes() const {
    u64 n = 0;
    for (bool f : free) n += f;
    return n * kPage;
  }
};

}  // namespace

TEST(FrameAlloc, FuzzAgainstPageModel) {
  std::mt19937_64 rng(4242);
  const MemType types[] = {MemType::Usable, MemType::Usable, MemType::Reserved, MemType::Acpi, MemType::Bad};
  for (int iter = 0; iter < 1500; ++iter) {
    SCOPED_TRACE(iter);
    MemoryMap m;
    int n = 1 + int(rng() % 10);
    for (int i = 0; i < n; ++i) {
      u64 start = rng() % (4 * MiB), len = rng() % (1 * MiB);
      ASSERT_TRUE(m.add(start, start + len > 4 * MiB ? 4 * MiB - start : len, types[rng() % 5]));
    }
    m.normalize();
    Model model;
    for (u64 p = 0; p < Model::kPages; ++p) model.free[p] = p * kPage >= 1 * MiB && in_usable_page(m, p * kPage);
    FrameAllocator fa;
    usize excludes = 0;
    auto random_exclude = [&] {
      u64 s = rng() % (4 * MiB), e = s + rng() % (256 * KiB);
      bool room = excludes < FrameAllocator::kMaxExcludes || s == e;
      ASSERT_EQ(fa.exclude(s, e), room);
      if (room && s < e) model.exclude(align_down(s, kPage), e), ++excludes;
    };
    int before = int(rng() % 4);
    for (int i = 0; i < before; ++i) random_exclude();
    fa.init(m);
    ASSERT_EQ(fa.free_bytes(), model.free_bytes());
    u64 by_purpose[5] = {};
    for (int op = 0; op < 60; ++op) {
      if (rng() % 20 == 0) {
        random_exclude();
        continue;
      }
      usize pages = rng() % 3 ? 1 : 1 + rng() % 8;
      u64 align = kPage << (rng() % 3 ? 0 : rng() % 7);
      u64 limit = rng() % 3 ? ~0ull : rng() % (5 * MiB);
      Purpose p = kAllPurposes[rng() % 5];
      u64 want = model.alloc(pages, align, limit);
      u64 got =
          pages == 1 && align == kPage && rng() % 2 ? fa.alloc(p, limit) : fa.alloc_contiguous(pages, align, p, limit);
      ASSERT_EQ(got, want) << "pages " << pages << " align " << align << " limit " << limit;
      if (got) by_purpose[static_cast<int>(p)] += pages * kPage;
    }
    ASSERT_EQ(fa.free_bytes(), model.free_bytes());
    ASSERT_EQ(fa.lost_bytes(), 0u);
    for (Purpose p : kAllPurposes) ASSERT_EQ(fa.allocated_bytes(p), by_purpose[static_cast<int>(p)]);
    check_runs(fa);
    // The runs are exactly the allocated frames.
    for (u64 pg = 0; pg < Model::kPages; ++pg) {
      bool in_run = false;
      for (usize i = 0; i < fa.run_count(); ++i) in_run |= pg * kPage >= fa.run(i).start && pg * kPage < fa.run(i).end;
      if (in_run) {
        ASSERT_FALSE(model.free[pg]);
        ASSERT_TRUE(in_usable_page(m, pg * kPage) && pg * kPage >= 1 * MiB);
      }
    }
  }
}
