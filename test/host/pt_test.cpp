// Page-table building and reading (src/mm/pt_build, src/mm/pt_walk) over fake physical
// memory: the kernel's own layout, exact monitor text, QEMU `info mem` equivalence,
// refusals, and hostile tables under ASan/UBSan.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arch/pte.hpp"
#include "json_shape.hpp"
#include "lib/fmt.hpp"
#include "mm/layout.hpp"
#include "mm/pt_build.hpp"
#include "mm/pt_walk.hpp"

namespace {

constexpr u64 kFakeBase = 0x10000000;  // fake physical address of the buffer
constexpr u64 kFakeSize = 4 * MiB;

class FakeMem final : public lib::PhysMem {
 public:
  FakeMem(u64 base = kFakeBase, u64 size = kFakeSize) : base_(base), buf_(size, 0) {}
  u8* map(u64 pa, usize len) override {
    ++calls;
    if (fail_all) return nullptr;
    if (len == 0) len = 1;
    if (pa < base_ || pa - base_ > buf_.size() || len > buf_.size() - (pa - base_)) return nullptr;
    if (fail_page != 0 && pa < fail_page + mm::layout::kPageSize && pa + len > fail_page) return nullptr;
    return buf_.data() + (pa - base_);
  }
  u64 get(u64 pa) {
    u64 v = 0;
    EXPECT_TRUE(read64(pa, &v));
    return v;
  }
  void set(u64 pa, u64 v) {
    u8* p = map(pa, 8);
    ASSERT_NE(p, nullptr);
    __builtin_memcpy(p, &v, 8);
  }
  std::vector<u8>& bytes() { return buf_; }
  u64 base() const { return base_; }

  bool fail_all = false;
  u64 fail_page = 0;  // a page whose reads fail, 0 for none
  u64 calls = 0;

 private:
  u64 base_;
  std::vector<u8> buf_;
};

// Hands out the fake buffer's frames in order, up to a limit.
class BumpAlloc final : public mm::TableAllocator {
 public:
  explicit BumpAlloc(FakeMem& mem, u64 limit = 1000) : mem_(mem), limit_(limit) {}
  u64 alloc_table() override {
    if (given_ >= limit_ || (given_ + 1) * mm::layout::kPageSize > mem_.bytes().size()) return 0;
    u64 pa = mem_.base() + given_ * mm::layout::kPageSize;
    ++given_;
    return pa;
  }
  u64 given() const { return given_; }

 private:
  FakeMem& mem_;
  u64 limit_;
  u64 given_ = 0;
};

class StrSink final : public lib::Sink {
 public:
  void write(const char* s, usize n) override { str.append(s, n); }
  std::string str;
};

constexpr mm::MapFlags kRW{.write = true, .exec = false, .user = false, .global = true, .uncached = false};
constexpr mm::MapFlags kRX{.write = false, .exec = true, .user = false, .global = true, .uncached = false};
constexpr mm::MapFlags kRO{.write = false, .exec = false, .user = false, .global = true, .uncached = false};
constexpr mm::MapFlags kMmio{.write = true, .exec = false, .user = false, .global = true, .uncached = true};

constexpr u64 kDM = mm::layout::kDirectMapBase;
constexpr u64 kSlot0 = 0xffffff8000000000;
constexpr u64 kSlot1 = 0xffffff8001000000;
constexpr u64 kKernel = 0xffffffff80200000;

// The layout the kernel builds, in a fixed order so table addresses are predictable:
//   pml4 0x10000000; direct map: pdpt 0x10001000, pd(0-1G) 0x10002000, pt(0-2M)
//   0x10003000, pt(126-128M) 0x10004000, pd(3-4G) 0x10005000, pt(4G-2M) 0x10006000,
//   pd(6-7G) 0x10007000, pt(6G) 0x10008000; kernel: pdpt(511) 0x10009000,
//   pd(510) 0x1000a000, pt 0x1000b000; per-CPU: pd 0x1000c000, pt 0x1000d000 and
//   0x1000e000; devices: pd 0x1000f000, pt 0x10010000 and 0x10011000.
struct Layout {
  FakeMem mem;
  BumpAlloc alloc{mem};
  mm::PageTableBuilder b{mem, alloc, 0};

  void build() {
    ASSERT_EQ(b.pml4(), kFakeBase);
    // Direct map of three RAM ranges: 4K only; 4K, 2M, 4K; 4K, 2M, 1G, 1G, 2M, 4K.
    ASSERT_TRUE(b.map(kDM + 0, 0, 0x9f000, kRW, mm::PageSize::Size1G));
    ASSERT_TRUE(b.map(kDM + 0x100000, 0x100000, 0x7ee0000, kRW, mm::PageSize::Size1G));
    ASSERT_TRUE(b.map(kDM + 0xffdff000, 0xffdff000, 0x80404000, kRW, mm::PageSize::Size1G));
    // Kernel image: text r-x, rodata r--, data rw-, 4K pages.
    ASSERT_TRUE(b.map(kKernel, 0x200000, 0x3000, kRX, mm::PageSize::Size4K));
    ASSERT_TRUE(b.map(kKernel + 0x3000, 0x203000, 0x2000, kRO, mm::PageSize::Size4K));
    ASSERT_TRUE(b.map(kKernel + 0x5000, 0x205000, 0x4000, kRW, mm::PageSize::Size2M));
    // Two per-CPU slots: data, guard, 16K stack, guard, IST1, guard, IST2, guard, IST3.
    for (u64 slot : {kSlot0, kSlot1}) {
      u64 pa = 0x3000000 + (slot - kSlot0) / 16;  // anywhere; distinct per slot
      ASSERT_TRUE(b.map(slot + 0x0000, pa + 0x0000, 0x1000, kRW, mm::PageSize::Size2M));
      ASSERT_TRUE(b.map(slot + 0x2000, pa + 0x1000, 0x4000, kRW, mm::PageSize::Size2M));
      ASSERT_TRUE(b.map(slot + 0x7000, pa + 0x5000, 0x1000, kRW, mm::PageSize::Size2M));
      ASSERT_TRUE(b.map(slot + 0x9000, pa + 0x6000, 0x1000, kRW, mm::PageSize::Size2M));
      ASSERT_TRUE(b.map(slot + 0xb000, pa + 0x7000, 0x1000, kRW, mm::PageSize::Size2M));
    }
    // Device window: LAPIC at its base, IOAPIC in the very last page of the address space.
    ASSERT_TRUE(b.map(mm::layout::kDeviceBase, 0xfee00000, 0x1000, kMmio, mm::PageSize::Size2M));
    ASSERT_TRUE(b.map(0xfffffffffffff000, 0xfec00000, 0x1000, kMmio, mm::PageSize::Size2M));
    EXPECT_EQ(b.tables_allocated(), 0x12u);
    EXPECT_EQ(alloc.given(), 0x12u);
  }
};

std::string walk_text(lib::PhysMem& mem, u64 cr3, u64 va) {
  StrSink s;
  mm::format_walk(s, va, mm::walk(mem, cr3, va));
  return s.str;
}

std::string walk_json(lib::PhysMem& mem, u64 cr3, u64 va) {
  StrSink s;
  mm::format_walk_json(s, va, mm::walk(mem, cr3, va));
  return s.str;
}

// The -j documents: one line each, the shape every document has (json_shape.hpp), an object.
void expect_one_json_line(const std::string& doc) {
  EXPECT_EQ(test::json_shape_error(doc), "") << doc;
  EXPECT_EQ(doc.front(), '{') << doc;
}

}  // namespace

TEST(PtEntry, FieldsAndBits) {
  namespace pte = arch::pte;
  static_assert(pte::kNoExecute.mask == 0x8000000000000000ULL);
  static_assert(pte::kPageSize.mask == 0x80 && pte::kGlobal.mask == 0x100 && pte::kPatLarge.mask == 0x1000);
  static_assert(pte::kAddr.get(0xfff0'0000'1234'5fffULL) == 0x0000'0000'1234'5000ULL);
  static_assert(pte::kAddr2M.get(0x8000'0000'4060'10e3ULL) == 0x4060'0000ULL);
  static_assert(pte::kPresent.set(0, true) == 1 && pte::kWrite.set(3, false) == 1);
  EXPECT_TRUE(pte::kAddr.fits(0x000ffffffffff000ULL));
  EXPECT_FALSE(pte::kAddr.fits(0x0010000000000000ULL));
}

TEST(PtBuild, KernelLayoutWalks) {
  Layout l;
  l.build();
  struct Case {
    u64 va, pa, size;
    bool w, x;
  } cases[] = {
      {kDM + 0x1234, 0x1234, 4 * KiB, true, false},
      {kDM + 0x9e000, 0x9e000, 4 * KiB, true, false},
      {kDM + 0x100000, 0x100000, 4 * KiB, true, false},
      {kDM + 0x1ff000, 0x1ff000, 4 * KiB, true, false},
      {kDM + 0x200000, 0x200000, 2 * MiB, true, false},
      {kDM + 0x7dfffff, 0x7dfffff, 2 * MiB, true, false},
      {kDM + 0x7e00000, 0x7e00000, 4 * KiB, true, false},
      {kDM + 0x7fdf000, 0x7fdf000, 4 * KiB, true, false},
      {kDM + 0xffdff000, 0xffdff000, 4 * KiB, true, false},
      {kDM + 0xffe00000, 0xffe00000, 2 * MiB, true, false},
      {kDM + 0x100000000, 0x100000000, 1 * GiB, true, false},
      {kDM + 0x17fffffff, 0x17fffffff, 1 * GiB, true, false},
      {kDM + 0x180000000, 0x180000000, 2 * MiB, true, false},
      {kDM + 0x180202fff, 0x180202fff, 4 * KiB, true, false},
      {kKernel, 0x200000, 4 * KiB, false, true},
      {kKernel + 0x2fff, 0x202fff, 4 * KiB, false, true},
      {kKernel + 0x3000, 0x203000, 4 * KiB, false, false},
      {kKernel + 0x5008, 0x205008, 4 * KiB, true, false},
      {kKernel + 0x8ff8, 0x208ff8, 4 * KiB, true, false},
      {kSlot0, 0x3000000, 4 * KiB, true, false},
      {kSlot0 + 0x5ff8, 0x3004ff8, 4 * KiB, true, false},
      {kSlot1 + 0xb000, 0x3107000, 4 * KiB, true, false},
      {mm::layout::kDeviceBase + 0x20, 0xfee00020, 4 * KiB, true, false},
      {0xffffffffffffffff, 0xfec00fff, 4 * KiB, true, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << std::hex << c.va);
    mm::WalkResult r = mm::walk(l.mem, l.b.pml4(), c.va);
    ASSERT_TRUE(r.mapped);
    EXPECT_EQ(r.fault, mm::WalkResult::None);
    EXPECT_EQ(r.pa, c.pa);
    EXPECT_EQ(r.page_size, c.size);
    EXPECT_EQ(r.write, c.w);
    EXPECT_EQ(r.exec, c.x);
    EXPECT_FALSE(r.user);
  }
  // Holes: after the first range, guard pages, the rest of the slot, between windows.
  for (u64 va :
       {kDM + 0x9f000, kDM + 0xfffff, kDM + 0x7fe0000, kDM + 0xffdfe000, kDM + 0x180203000, kSlot0 + 0x1000,
        kSlot0 + 0x6000, kSlot0 + 0x8000, kSlot0 + 0xa000, kSlot0 + 0xc000, kSlot0 + 0x200000, kKernel - 0x1000,
        kKernel + 0x9000, mm::layout::kDeviceBase + 0x1000, 0xffffffffffffe000, u64{0}, u64{0x7ffffffff000}}) {
    SCOPED_TRACE(testing::Message() << std::hex << va);
    mm::WalkResult r = mm::walk(l.mem, l.b.pml4(), va);
    EXPECT_FALSE(r.mapped);
    EXPECT_EQ(r.fault, mm::WalkResult::NotPresent);
  }
  // Uncached device leaf: PCD|PWT, global, NX.
  mm::WalkResult r = mm::walk(l.mem, l.b.pml4(), mm::layout::kDeviceBase);
  ASSERT_EQ(r.step_count, 4);
  EXPECT_EQ(r.steps[3].entry, 0x80000000fee0011bULL);
  // CR3's low 12 bits (PCD/PWT/PCID) and bits 52-63 are ignored.
  r = mm::walk(l.mem, l.b.pml4() | 0x018 | (u64{1} << 63), kKernel);
  EXPECT_TRUE(r.mapped);
  EXPECT_EQ(r.pa, 0x200000u);

  u64 bytes[5];
  mm::mapped_bytes_by_region(l.mem, l.b.pml4(), bytes);
  EXPECT_EQ(bytes[0], 0u);
  EXPECT_EQ(bytes[1], 0x9f000u + 0x7ee0000u + 0x80404000u);
  EXPECT_EQ(bytes[2], 2 * 0x8000u);
  EXPECT_EQ(bytes[3], 0x9000u);
  EXPECT_EQ(bytes[4], 0x2000u);
}

TEST(PtWalk, FormatWalkExact) {
  Layout l;
  l.build();
  const u64 cr3 = l.b.pml4();
  EXPECT_EQ(walk_text(l.mem, cr3, 0xffffffff80201234),
            "pml4[511] 0x0000000010009003 PW--------\n"
            "pdpt[510] 0x000000001000a003 PW--------\n"
            "pd[1] 0x000000001000b003 PW--------\n"
            "pt[1] 0x0000000000201101 P-------G-\n"
            "0xffffffff80201234 -> 0x0000000000201234 4K r-xk\n");
  EXPECT_EQ(walk_text(l.mem, cr3, 0xffff800140000123),
            "pml4[256] 0x0000000010001003 PW--------\n"
            "pdpt[5] 0x8000000140000183 PW-----SGN\n"
            "0xffff800140000123 -> 0x0000000140000123 1G rw-k\n");
  EXPECT_EQ(walk_text(l.mem, cr3, 0xffff800000405678),
            "pml4[256] 0x0000000010001003 PW--------\n"
            "pdpt[0] 0x0000000010002003 PW--------\n"
            "pd[2] 0x8000000000400183 PW-----SGN\n"
            "0xffff800000405678 -> 0x0000000000405678 2M rw-k\n");
  EXPECT_EQ(walk_text(l.mem, cr3, 0xffffffffc0000010),
            "pml4[511] 0x0000000010009003 PW--------\n"
            "pdpt[511] 0x000000001000f003 PW--------\n"
            "pd[0] 0x0000000010010003 PW--------\n"
            "pt[0] 0x80000000fee0011b PW-TC---GN\n"
            "0xffffffffc0000010 -> 0x00000000fee00010 4K rw-k\n");
  EXPECT_EQ(walk_text(l.mem, cr3, 0xffff8000000a0000),
            "pml4[256] 0x0000000010001003 PW--------\n"
            "pdpt[0] 0x0000000010002003 PW--------\n"
            "pd[0] 0x0000000010003003 PW--------\n"
            "pt[160] 0x0000000000000000 ----------\n"
            "error: 0xffff8000000a0000 not mapped (pt[160] not present)\n");
  EXPECT_EQ(walk_text(l.mem, cr3, 0x1000),
            "pml4[0] 0x0000000000000000 ----------\n"
            "error: 0x0000000000001000 not mapped (pml4[0] not present)\n");
  EXPECT_EQ(walk_text(l.mem, cr3, 0x0000800000000000), "error: 0x0000800000000000 is not canonical\n");
  EXPECT_EQ(walk_text(l.mem, cr3, 0xfffe000000000000), "error: 0xfffe000000000000 is not canonical\n");
  // A table that cannot be read: named by level and address, nothing followed.
  l.mem.fail_page = 0x1000b000;
  EXPECT_EQ(walk_text(l.mem, cr3, 0xffffffff80201234),
            "pml4[511] 0x0000000010009003 PW--------\n"
            "pdpt[510] 0x000000001000a003 PW--------\n"
            "pd[1] 0x000000001000b003 PW--------\n"
            "error: 0xffffffff80201234 not mapped (pt table at 0x000000001000b000 unreadable)\n");
}

TEST(PtWalk, FormatPml4Exact) {
  Layout l;
  l.build();
  StrSink s;
  mm::format_pml4(s, l.mem, l.b.pml4());
  EXPECT_EQ(s.str,
            "PML4 at 0x0000000010000000: index va entry flags regions\n"
            "256 0xffff800000000000 0x0000000010001003 PW-------- directmap\n"
            "511 0xffffff8000000000 0x0000000010009003 PW-------- percpu,kernel,devices\n");
  // Labels for other spans, and a reserved PS bit flagged.
  l.mem.set(kFakeBase + 0 * 8, 0x0000000010020027);
  l.mem.set(kFakeBase + 383 * 8, 0x0000000010021003);
  l.mem.set(kFakeBase + 400 * 8, 0x0000000010022083);
  s.str.clear();
  mm::format_pml4(s, l.mem, l.b.pml4() | 0x8);
  EXPECT_EQ(s.str,
            "PML4 at 0x0000000010000000: index va entry flags regions\n"
            "0 0x0000000000000000 0x0000000010020027 PWU--A---- user\n"
            "256 0xffff800000000000 0x0000000010001003 PW-------- directmap\n"
            "383 0xffffbf8000000000 0x0000000010021003 PW-------- directmap\n"
            "400 0xffffc80000000000 0x0000000010022083 PW-----S-- unused !RSVD\n"
            "511 0xffffff8000000000 0x0000000010009003 PW-------- percpu,kernel,devices\n");
}

// What QEMU 7.2's `info mem` prints for Layout, worked out by hand from mem_info_la48:
// runs merge across PT/PD/PDPT boundaries and page sizes, r-x and r-- merge (NX is not
// shown), a guard page splits a run, and the run in the last page ends at 2^48 printed
// unextended as 0001000000000000.
TEST(PtWalk, MapsMatchesQemuInfoMem) {
  Layout l;
  l.build();
  StrSink s;
  mm::format_maps(s, l.mem, l.b.pml4(), false);
  EXPECT_EQ(s.str,
            "ffff800000000000-ffff80000009f000 000000000009f000 -rw\n"
            "ffff800000100000-ffff800007fe0000 0000000007ee0000 -rw\n"
            "ffff8000ffdff000-ffff800180203000 0000000080404000 -rw\n"
            "ffffff8000000000-ffffff8000001000 0000000000001000 -rw\n"
            "ffffff8000002000-ffffff8000006000 0000000000004000 -rw\n"
            "ffffff8000007000-ffffff8000008000 0000000000001000 -rw\n"
            "ffffff8000009000-ffffff800000a000 0000000000001000 -rw\n"
            "ffffff800000b000-ffffff800000c000 0000000000001000 -rw\n"
            "ffffff8001000000-ffffff8001001000 0000000000001000 -rw\n"
            "ffffff8001002000-ffffff8001006000 0000000000004000 -rw\n"
            "ffffff8001007000-ffffff8001008000 0000000000001000 -rw\n"
            "ffffff8001009000-ffffff800100a000 0000000000001000 -rw\n"
            "ffffff800100b000-ffffff800100c000 0000000000001000 -rw\n"
            "ffffffff80200000-ffffffff80205000 0000000000005000 -r-\n"
            "ffffffff80205000-ffffffff80209000 0000000000004000 -rw\n"
            "ffffffffc0000000-ffffffffc0001000 0000000000001000 -rw\n"
            "fffffffffffff000-0001000000000000 0000000000001000 -rw\n");

  s.str.clear();
  mm::format_maps(s, l.mem, l.b.pml4(), true);
  EXPECT_EQ(s.str,
            "ffff800000000000-ffff80000009f000 000000000009f000 -rw - directmap\n"
            "ffff800000100000-ffff800007fe0000 0000000007ee0000 -rw - directmap\n"
            "ffff8000ffdff000-ffff800180203000 0000000080404000 -rw - directmap\n"
            "ffffff8000000000-ffffff8000001000 0000000000001000 -rw - percpu\n"
            "ffffff8000002000-ffffff8000006000 0000000000004000 -rw - percpu\n"
            "ffffff8000007000-ffffff8000008000 0000000000001000 -rw - percpu\n"
            "ffffff8000009000-ffffff800000a000 0000000000001000 -rw - percpu\n"
            "ffffff800000b000-ffffff800000c000 0000000000001000 -rw - percpu\n"
            "ffffff8001000000-ffffff8001001000 0000000000001000 -rw - percpu\n"
            "ffffff8001002000-ffffff8001006000 0000000000004000 -rw - percpu\n"
            "ffffff8001007000-ffffff8001008000 0000000000001000 -rw - percpu\n"
            "ffffff8001009000-ffffff800100a000 0000000000001000 -rw - percpu\n"
            "ffffff800100b000-ffffff800100c000 0000000000001000 -rw - percpu\n"
            "ffffffff80200000-ffffffff80203000 0000000000003000 -r- x kernel\n"
            "ffffffff80203000-ffffffff80205000 0000000000002000 -r- - kernel\n"
            "ffffffff80205000-ffffffff80209000 0000000000004000 -rw - kernel\n"
            "ffffffffc0000000-ffffffffc0001000 0000000000001000 -rw - devices\n"
            "fffffffffffff000-0001000000000000 0000000000001000 -rw - devices\n");
}

// Effective permissions are ANDed down the levels (SDM Vol. 3A 4.6) in walk and maps;
// the user half, QEMU's merge across the canonical hole, and the verbose markers.
TEST(PtWalk, MapsUserHalfAndAndedPermissions) {
  FakeMem mem;
  BumpAlloc alloc(mem);
  mm::PageTableBuilder b(mem, alloc, 0);
  const mm::MapFlags urx{.write = false, .exec = true, .user = true, .global = false, .uncached = false};
  const mm::MapFlags urw{.write = true, .exec = false, .user = true, .global = false, .uncached = false};
  const mm::MapFlags rwx{.write = true, .exec = true, .user = false, .global = false, .uncached = false};
  ASSERT_TRUE(b.map(0x400000, 0x800000, 0x1000, urx, mm::PageSize::Size4K));
  ASSERT_TRUE(b.map(0x401000, 0x801000, 0x2000, urw, mm::PageSize::Size4K));
  ASSERT_TRUE(b.map(0x403000, 0x803000, 0x1000, rwx, mm::PageSize::Size4K));
  // The last page of the lower half and the first of the upper half: adjacent for QEMU.
  ASSERT_TRUE(b.map(0x00007ffffffff000, 0x900000, 0x1000, kRW, mm::PageSize::Size4K));
  ASSERT_TRUE(b.map(0xffff800000000000, 0x901000, 0x1000, kRW, mm::PageSize::Size4K));
  // Intermediate entries gained U for the user leaves.
  mm::WalkResult r = mm::walk(mem, b.pml4(), 0x401000);
  ASSERT_TRUE(r.mapped);
  EXPECT_TRUE(r.user && r.write && !r.exec);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.steps[i].entry & 7, 7u);

  StrSink s;
  mm::format_maps(s, mem, b.pml4(), false);
  EXPECT_EQ(s.str,
            "0000000000400000-0000000000401000 0000000000001000 ur-\n"
            "0000000000401000-0000000000403000 0000000000002000 urw\n"
            "0000000000403000-0000000000404000 0000000000001000 -rw\n"
            "00007ffffffff000-ffff800000001000 0000000000002000 -rw\n");
  s.str.clear();
  mm::format_maps(s, mem, b.pml4(), true);
  EXPECT_EQ(s.str,
            "0000000000400000-0000000000401000 0000000000001000 ur- x user !USER\n"
            "0000000000401000-0000000000403000 0000000000002000 urw - user !USER\n"
            "0000000000403000-0000000000404000 0000000000001000 -rw x user !WX\n"
            "00007ffffffff000-ffff800000001000 0000000000002000 -rw - user,directmap\n");

  // Take W away at the PD level and U at the PML4 level: the leaves still say rw/u.
  mem.set(r.steps[1].table_phys + r.steps[1].index * 8, r.steps[1].entry & ~u64{2});  // PDPTE: no W
  r = mm::walk(mem, b.pml4(), 0x401000);
  EXPECT_TRUE(r.mapped && r.user && !r.write);
  mem.set(r.steps[0].table_phys + r.steps[0].index * 8, r.steps[0].entry & ~u64{4});  // PML4E: no U
  r = mm::walk(mem, b.pml4(), 0x401000);
  EXPECT_TRUE(r.mapped && !r.user && !r.write);
  EXPECT_NE(walk_text(mem, b.pml4(), 0x401000).find("\n0x0000000000401000 -> 0x0000000000801000 4K r--k\n"),
            std::string::npos);
  s.str.clear();
  mm::format_maps(s, mem, b.pml4(), false);
  EXPECT_EQ(s.str,
            "0000000000400000-0000000000404000 0000000000004000 -r-\n"
            "00007ffffffff000-ffff800000001000 0000000000002000 -rw\n");
}

TEST(PtBuild, Refusals) {
  FakeMem mem;
  BumpAlloc alloc(mem);
  mm::PageTableBuilder b(mem, alloc, 0);
  using PS = mm::PageSize;
  // Non-canonical, unaligned, empty, crossing the hole, beyond 52 physical bits.
  EXPECT_FALSE(b.map(0x0000800000000000, 0, 0x1000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(0xfffe000000000000, 0, 0x1000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(kDM + 0x10, 0, 0x1000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(kDM, 0x10, 0x1000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(kDM, 0, 0x1010, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(kDM, 0, 0, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(0x00007ffffffff000, 0, 0x2000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(kDM, 0x000ffffffffff000, 0x2000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(0xfffffffffffff000, 0, 0x2000, kRW, PS::Size4K));  // wraps past the top
  EXPECT_EQ(b.tables_allocated(), 1u);                                  // just the PML4

  // Remapping identically is fine and allocates nothing; a different target or
  // different permissions is refused.
  ASSERT_TRUE(b.map(kKernel, 0x200000, 0x2000, kRX, PS::Size4K));
  const u64 tables = b.tables_allocated();
  EXPECT_TRUE(b.map(kKernel, 0x200000, 0x2000, kRX, PS::Size4K));
  EXPECT_TRUE(b.map(kKernel + 0x1000, 0x201000, 0x1000, kRX, PS::Size2M));
  EXPECT_FALSE(b.map(kKernel, 0x300000, 0x1000, kRX, PS::Size4K));
  EXPECT_FALSE(b.map(kKernel, 0x200000, 0x1000, kRW, PS::Size4K));
  EXPECT_EQ(b.tables_allocated(), tables);
  // A refused range changes nothing, even where it was free: its first page stays unmapped.
  EXPECT_FALSE(b.map(kKernel - 0x1000, 0x1ff000, 0x2000, kRW, PS::Size4K));
  EXPECT_FALSE(mm::walk(mem, b.pml4(), kKernel - 0x1000).mapped);
  // Accessed/Dirty set by the CPU do not make a mapping different.
  mm::WalkResult r = mm::walk(mem, b.pml4(), kKernel);
  mem.set(r.steps[3].table_phys + r.steps[3].index * 8, r.steps[3].entry | 0x60);
  EXPECT_TRUE(b.map(kKernel, 0x200000, 0x1000, kRX, PS::Size4K));

  // Large pages: 2M over an existing page table falls back to 4K pages inside it;
  // 4K inside an existing 2M page: identical is fine, anything else would split it.
  ASSERT_TRUE(b.map(kDM + 0x400000, 0x400000, 0x200000, kRW, PS::Size2M));
  EXPECT_EQ(mm::walk(mem, b.pml4(), kDM + 0x400000).page_size, 2 * MiB);
  EXPECT_TRUE(b.map(kDM + 0x401000, 0x401000, 0x1000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(kDM + 0x401000, 0x501000, 0x1000, kRW, PS::Size4K));
  EXPECT_FALSE(b.map(kDM + 0x401000, 0x401000, 0x1000, kRO, PS::Size4K));
  EXPECT_FALSE(b.unmap_4k(kDM + 0x401000));
  ASSERT_TRUE(b.map(kDM + 0x800000, 0x800000, 0x1000, kRW, PS::Size4K));
  ASSERT_TRUE(b.map(kDM + 0x800000, 0x800000, 0x200000, kRW, PS::Size2M));
  r = mm::walk(mem, b.pml4(), kDM + 0x9ff000);
  EXPECT_TRUE(r.mapped);
  EXPECT_EQ(r.page_size, 4 * KiB);
  // 1G pages only where va and pa are both 1G-aligned and the size allows.
  ASSERT_TRUE(b.map(kDM + 0x40000000, 0x40000000, 0x40000000, kRW, PS::Size1G));
  EXPECT_EQ(mm::walk(mem, b.pml4(), kDM + 0x7fffffff).page_size, 1 * GiB);
  ASSERT_TRUE(b.map(kDM + 0x80000000, 0xc0200000, 0x40000000, kRW, PS::Size1G));
  r = mm::walk(mem, b.pml4(), kDM + 0x80000000);
  EXPECT_EQ(r.page_size, 2 * MiB);
  EXPECT_EQ(r.pa, 0xc0200000u);

  // An intermediate entry with XD from elsewhere is not cleared for an executable page.
  mm::WalkResult k = mm::walk(mem, b.pml4(), kKernel);
  struct {
    u64 pa, entry;
  } const pd = {k.steps[2].table_phys + k.steps[2].index * 8, k.steps[2].entry};
  mem.set(pd.pa, pd.entry | arch::pte::kNoExecute.mask);
  EXPECT_FALSE(b.map(kKernel + 0x2000, 0x202000, 0x1000, kRX, PS::Size4K));
  EXPECT_TRUE(b.map(kKernel + 0x2000, 0x202000, 0x1000, kRO, PS::Size4K));
  mem.set(pd.pa, pd.entry);

  // unmap_4k: guard pages.
  EXPECT_TRUE(b.unmap_4k(kKernel + 0x1000));
  EXPECT_EQ(mm::walk(mem, b.pml4(), kKernel + 0x1000).fault, mm::WalkResult::NotPresent);
  EXPECT_TRUE(mm::walk(mem, b.pml4(), kKernel).mapped);
  EXPECT_FALSE(b.unmap_4k(kKernel + 0x1000));
  EXPECT_FALSE(b.unmap_4k(kKernel + 0x10));
  EXPECT_FALSE(b.unmap_4k(0x0000800000000000));
  EXPECT_FALSE(b.unmap_4k(0x1000));
}

TEST(PtBuild, OutOfFramesAndBadMemory) {
  FakeMem mem;
  BumpAlloc alloc(mem, 3);  // PML4, PDPT, PD: no frame for the PT
  mm::PageTableBuilder b(mem, alloc, 0);
  EXPECT_FALSE(b.map(kKernel, 0x200000, 0x1000, kRX, mm::PageSize::Size4K));
  EXPECT_EQ(b.tables_allocated(), 3u);
  EXPECT_TRUE(b.map(mm::layout::kDeviceBase - 0x40000000, 0, 0x40000000, kRW, mm::PageSize::Size1G));

  BumpAlloc none(mem, 0);
  mm::PageTableBuilder nb(mem, none, 0);
  EXPECT_EQ(nb.pml4(), 0u);
  EXPECT_FALSE(nb.map(kKernel, 0x200000, 0x1000, kRX, mm::PageSize::Size4K));
  EXPECT_FALSE(nb.unmap_4k(kKernel));

  FakeMem dead;
  dead.fail_all = true;
  BumpAlloc dalloc(dead);
  mm::PageTableBuilder db(dead, dalloc, kFakeBase);
  EXPECT_FALSE(db.map(kKernel, 0x200000, 0x1000, kRX, mm::PageSize::Size4K));
  EXPECT_FALSE(db.unmap_4k(kKernel));
}

TEST(PtWalk, UnreadableAndReserved) {
  FakeMem mem;
  mem.fail_all = true;
  mm::WalkResult r = mm::walk(mem, kFakeBase, kKernel);
  EXPECT_EQ(r.fault, mm::WalkResult::Unreadable);
  EXPECT_EQ(r.step_count, 0);
  StrSink s;
  mm::format_walk(s, kKernel, r);
  EXPECT_EQ(s.str, "error: 0xffffffff80200000 not mapped (pml4 table at 0x0000000010000000 unreadable)\n");
  s.str.clear();
  mm::format_pml4(s, mem, kFakeBase);
  EXPECT_EQ(s.str, "error: PML4 at 0x0000000010000000 unreadable\n");
  s.str.clear();
  mm::format_maps(s, mem, kFakeBase, true);
  EXPECT_EQ(s.str, "error: PML4 at 0x0000000010000000 unreadable\n");
  u64 bytes[5] = {1, 1, 1, 1, 1};
  mm::mapped_bytes_by_region(mem, kFakeBase, bytes);
  for (u64 v : bytes) EXPECT_EQ(v, 0u);

  // Hand-made tables: PML4[0] with PS (reserved), PML4[1] -> PDPT with a 1G page with
  // reserved bits, a 2M page with reserved bits, a valid 2M page, and a PDPTE pointing
  // outside memory.
  FakeMem m2;
  const u64 pml4 = kFakeBase, pdpt = kFakeBase + 0x1000, pd = kFakeBase + 0x2000;
  m2.set(pml4 + 0 * 8, 0x0000000010001083);
  m2.set(pml4 + 1 * 8, pdpt | 3);
  m2.set(pdpt + 0 * 8, 0x0000000040002083);  // bit 13: reserved in a 1G PDPTE
  m2.set(pdpt + 1 * 8, pd | 3);
  m2.set(pdpt + 2 * 8, 0x0000007000000003);  // a PD nobody can read
  m2.set(pd + 0 * 8, 0x0000000000402083);    // bit 13: reserved in a 2M PDE
  m2.set(pd + 1 * 8, 0x0000000000600083);    // fine
  EXPECT_EQ(walk_text(m2, pml4, 0x1000),
            "pml4[0] 0x0000000010001083 PW-----S--\n"
            "error: 0x0000000000001000 not mapped (pml4[0] has reserved bits set)\n");
  EXPECT_EQ(walk_text(m2, pml4, 0x0000008000000000),
            "pml4[1] 0x0000000010001003 PW--------\n"
            "pdpt[0] 0x0000000040002083 PW-----S--\n"
            "error: 0x0000008000000000 not mapped (pdpt[0] has reserved bits set)\n");
  EXPECT_EQ(walk_text(m2, pml4, 0x0000008040000000),
            "pml4[1] 0x0000000010001003 PW--------\n"
            "pdpt[1] 0x0000000010002003 PW--------\n"
            "pd[0] 0x0000000000402083 PW-----S--\n"
            "error: 0x0000008040000000 not mapped (pd[0] has reserved bits set)\n");
  EXPECT_EQ(walk_text(m2, pml4, 0x0000008040212345),
            "pml4[1] 0x0000000010001003 PW--------\n"
            "pdpt[1] 0x0000000010002003 PW--------\n"
            "pd[1] 0x0000000000600083 PW-----S--\n"
            "0x0000008040212345 -> 0x0000000000612345 2M rwxk\n");
  EXPECT_EQ(walk_text(m2, pml4, 0x0000008080000000),
            "pml4[1] 0x0000000010001003 PW--------\n"
            "pdpt[2] 0x0000007000000003 PW--------\n"
            "error: 0x0000008080000000 not mapped (pd table at 0x0000007000000000 unreadable)\n");
  s.str.clear();
  mm::format_maps(s, m2, pml4, false);
  EXPECT_EQ(s.str,
            "0000008040200000-0000008040400000 0000000000200000 -rw\n"
            "error: 4 page-table entries skipped (table unreadable or reserved bits set)\n");
  mm::mapped_bytes_by_region(m2, pml4, bytes);
  EXPECT_EQ(bytes[0], 2 * MiB);
}

// Random tables, biased to point back into memory so walks go deep, and raw noise:
// nothing may fault, loop or overflow a buffer (ASan/UBSan watch).
TEST(PtWalk, GarbageTablesNeverFault) {
  u64 state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  constexpr u64 kSize = 256 * KiB;
  int deep_walks = 0, mapped_walks = 0;
  usize maps_bytes = 0;
  for (int round = 0; round < 6; ++round) {
    FakeMem mem(kFakeBase, kSize);
    auto& buf = mem.bytes();
    for (usize off = 0; off < buf.size(); off += 8) {
      u64 e = next();
      if (round % 2 == 0) {
        // Sparse: 1 in 16 present, pointing into the buffer (or just past it).
        e = (next() % 16 == 0 ? 1 : 0) | (e & 0x80000000000001feULL) |
            (kFakeBase + (next() % (kSize / 4096 + 2)) * 4096) | (e & 0x0000000000000e00ULL);
      }
      __builtin_memcpy(buf.data() + off, &e, 8);
    }
    const u64 cr3 = round < 4 ? kFakeBase + (next() % (kSize / 4096)) * 4096 : next();
    StrSink s;
    for (int i = 0; i < 200; ++i) {
      u64 va = next();
      if (i % 3 == 1) va = static_cast<u64>(static_cast<i64>(va << 16) >> 16);  // canonical
      if (i % 3 == 2) {
        // Follow present entries down from CR3, so walks reach the lower levels.
        u64 table = cr3 & 0x000ffffffffff000ULL;
        va = next() & 0xfff;
        for (int level = 4; level >= 1; --level) {
          const u8* t = mem.map(table, 4096);
          if (t == nullptr) break;
          unsigned present[512], n = 0;
          for (unsigned j = 0; j < 512; ++j) {
            u64 e;
            __builtin_memcpy(&e, t + j * 8, 8);
            if (e & 1) present[n++] = j;
          }
          if (n == 0) break;
          const unsigned idx = present[next() % n];
          va |= u64{idx} << (12 + 9 * (level - 1));
          u64 e;
          __builtin_memcpy(&e, t + idx * 8, 8);
          table = e & 0x000ffffffffff000ULL;
        }
        va = static_cast<u64>(static_cast<i64>(va << 16) >> 16);
      }
      mm::WalkResult r = mm::walk(mem, cr3, va);
      EXPECT_LE(r.step_count, 4);
      if (r.step_count >= 3) ++deep_walks;
      if (r.mapped) ++mapped_walks;
      mm::format_walk(s, va, r);
      StrSink js;
      mm::format_walk_json(js, va, r);
      expect_one_json_line(js.str);
      if (r.mapped) EXPECT_TRUE(r.page_size == 4 * KiB || r.page_size == 2 * MiB || r.page_size == 1 * GiB);
    }
    mm::format_pml4(s, mem, cr3);
    const usize before = s.str.size();
    mm::format_maps(s, mem, cr3, false);
    mm::format_maps(s, mem, cr3, true);
    maps_bytes += s.str.size() - before;
    for (int form = 0; form < 3; ++form) {
      StrSink js;
      if (form == 0) mm::format_pml4_json(js, mem, cr3);
      if (form > 0) mm::format_maps_json(js, mem, cr3, form == 2);
      expect_one_json_line(js.str);
    }
    u64 bytes[5];
    mm::mapped_bytes_by_region(mem, cr3, bytes);
    // Every maps line is a run or an error, each ending in a newline.
    EXPECT_TRUE(s.str.empty() || s.str.back() == '\n');
    // A builder on garbage refuses or succeeds, but stays inside PhysMem.
    BumpAlloc alloc(mem, 4);
    mm::PageTableBuilder b(mem, alloc, cr3 & ~u64{0xfff});
    for (int i = 0; i < 50; ++i) {
      u64 va = static_cast<u64>(static_cast<i64>(next() << 16) >> 16) & ~u64{0xfff};
      (void)b.map(va, next() & 0x000ffffffffff000ULL, 0x1000 << (next() % 3), kRW, mm::PageSize::Size1G);
      (void)b.unmap_4k(va);
    }
  }
  // The sparse rounds really went deep.
  EXPECT_GT(deep_walks, 0);
  EXPECT_GT(mapped_walks, 0);
  EXPECT_GT(maps_bytes, 1000u);
}

// The -j twins carry the text's facts: the same levels, entries, flags and addresses.
TEST(PtWalk, WalkJsonExact) {
  Layout l;
  l.build();
  const u64 cr3 = l.b.pml4();
  EXPECT_EQ(walk_json(l.mem, cr3, 0xffff800140000123),
            "{\"va\":\"0xffff800140000123\",\"pa\":\"0x0000000140000123\",\"size\":1073741824,\"page\":\"1G\","
            "\"flags\":\"rw-k\",\"levels\":[{\"name\":\"pml4\",\"index\":256,\"entry\":\"0x0000000010001003\","
            "\"flags\":\"PW--------\"},{\"name\":\"pdpt\",\"index\":5,\"entry\":\"0x8000000140000183\","
            "\"flags\":\"PW-----SGN\"}],\"mapped\":true,\"fault\":null,\"fault_level\":null,\"fault_index\":null,"
            "\"fault_table\":null}\n");
  EXPECT_EQ(walk_json(l.mem, cr3, 0xffff8000000a0000),
            "{\"va\":\"0xffff8000000a0000\",\"pa\":null,\"size\":null,\"page\":null,\"flags\":null,\"levels\":["
            "{\"name\":\"pml4\",\"index\":256,\"entry\":\"0x0000000010001003\",\"flags\":\"PW--------\"},"
            "{\"name\":\"pdpt\",\"index\":0,\"entry\":\"0x0000000010002003\",\"flags\":\"PW--------\"},"
            "{\"name\":\"pd\",\"index\":0,\"entry\":\"0x0000000010003003\",\"flags\":\"PW--------\"},"
            "{\"name\":\"pt\",\"index\":160,\"entry\":\"0x0000000000000000\",\"flags\":\"----------\"}],"
            "\"mapped\":false,\"fault\":\"not-present\",\"fault_level\":\"pt\",\"fault_index\":160,"
            "\"fault_table\":null}\n");
  EXPECT_EQ(walk_json(l.mem, cr3, 0x0000800000000000),
            "{\"va\":\"0x0000800000000000\",\"pa\":null,\"size\":null,\"page\":null,\"flags\":null,\"levels\":[],"
            "\"mapped\":false,\"fault\":\"non-canonical\",\"fault_level\":null,\"fault_index\":null,"
            "\"fault_table\":null}\n");
  l.mem.fail_page = 0x1000b000;
  const std::string unreadable = walk_json(l.mem, cr3, 0xffffffff80201234);
  EXPECT_NE(unreadable.find("\"fault\":\"unreadable\",\"fault_level\":\"pt\",\"fault_index\":null,"
                            "\"fault_table\":\"0x000000001000b000\"}"),
            std::string::npos)
      << unreadable;
  EXPECT_NE(unreadable.find("{\"name\":\"pd\",\"index\":1,\"entry\":\"0x000000001000b003\""), std::string::npos);
}

TEST(PtWalk, WalkJsonReservedBit) {
  FakeMem m;
  m.set(kFakeBase, 0x0000000010001083);  // PS in a PML4E: reserved
  EXPECT_EQ(walk_json(m, kFakeBase, 0x1000),
            "{\"va\":\"0x0000000000001000\",\"pa\":null,\"size\":null,\"page\":null,\"flags\":null,\"levels\":["
            "{\"name\":\"pml4\",\"index\":0,\"entry\":\"0x0000000010001083\",\"flags\":\"PW-----S--\"}],"
            "\"mapped\":false,\"fault\":\"reserved-bits\",\"fault_level\":\"pml4\",\"fault_index\":0,"
            "\"fault_table\":null}\n");
}

TEST(PtWalk, Pml4JsonExact) {
  Layout l;
  l.build();
  l.mem.set(kFakeBase + 400 * 8, 0x0000000010022083);
  StrSink s;
  mm::format_pml4_json(s, l.mem, l.b.pml4());
  EXPECT_EQ(s.str,
            "{\"pml4\":\"0x0000000010000000\",\"entries\":["
            "{\"index\":256,\"va\":\"0xffff800000000000\",\"end\":\"0xffff808000000000\",\"entry\":"
            "\"0x0000000010001003\",\"flags\":\"PW--------\",\"regions\":[\"directmap\"],\"reserved\":false},"
            "{\"index\":400,\"va\":\"0xffffc80000000000\",\"end\":\"0xffffc88000000000\",\"entry\":"
            "\"0x0000000010022083\",\"flags\":\"PW-----S--\",\"regions\":[\"unused\"],\"reserved\":true},"
            "{\"index\":511,\"va\":\"0xffffff8000000000\",\"end\":\"0x0000000000000000\",\"entry\":"
            "\"0x0000000010009003\",\"flags\":\"PW--------\",\"regions\":[\"percpu\",\"kernel\",\"devices\"],"
            "\"reserved\":false}]}\n");
  FakeMem bad;
  bad.fail_all = true;
  s.str.clear();
  mm::format_pml4_json(s, bad, kFakeBase);
  EXPECT_EQ(s.str, "{\"error\":\"PML4 at 0x0000000010000000 unreadable\"}\n");
  s.str.clear();
  mm::format_maps_json(s, bad, kFakeBase, true);
  EXPECT_EQ(s.str, "{\"error\":\"PML4 at 0x0000000010000000 unreadable\"}\n");
}

// maps -j: the same runs as the text (count and bounds, QEMU's end quirk kept), -v's
// columns as members, and the skipped count of the text's error line.
TEST(PtWalk, MapsJsonAgreesWithText) {
  Layout l;
  l.build();
  StrSink text, js;
  mm::format_maps(text, l.mem, l.b.pml4(), true);
  mm::format_maps_json(js, l.mem, l.b.pml4(), true);
  expect_one_json_line(js.str);
  usize lines = 0;
  for (char c : text.str) lines += c == '\n';
  usize runs = 0;
  for (usize p = 0; (p = js.str.find("\"start\":", p)) != std::string::npos; ++p) ++runs;
  EXPECT_EQ(runs, lines);
  const std::string first_verbose =
      "{\"runs\":[{\"start\":\"0xffff800000000000\",\"end\":\"0xffff80000009f000\",\"size\":651264,"
      "\"flags\":\"-rw\",\"exec\":false,\"regions\":[\"directmap\"],\"warnings\":[]},{\"start\"";
  EXPECT_EQ(js.str.substr(0, first_verbose.size()), first_verbose);
  EXPECT_NE(js.str.find("{\"start\":\"0xffffffff80200000\",\"end\":\"0xffffffff80203000\",\"size\":12288,"
                        "\"flags\":\"-r-\",\"exec\":true,\"regions\":[\"kernel\"],\"warnings\":[]}"),
            std::string::npos);
  EXPECT_NE(
      js.str.find("{\"start\":\"0xfffffffffffff000\",\"end\":\"0x0001000000000000\",\"size\":4096,"
                  "\"flags\":\"-rw\",\"exec\":false,\"regions\":[\"devices\"],\"warnings\":[]}],\"skipped\":0}\n"),
      std::string::npos)
      << js.str;
  js.str.clear();
  mm::format_maps_json(js, l.mem, l.b.pml4(), false);
  EXPECT_EQ(js.str.find("\"exec\""), std::string::npos);
  const std::string first =
      "{\"runs\":[{\"start\":\"0xffff800000000000\",\"end\":\"0xffff80000009f000\",\"size\":651264,"
      "\"flags\":\"-rw\"}";
  EXPECT_EQ(js.str.substr(0, first.size()), first);

  // Skipped entries are counted as the text counts them; a writable, executable user run
  // carries both warnings.
  FakeMem m2;
  const u64 pml4 = kFakeBase, pdpt = kFakeBase + 0x1000, pd = kFakeBase + 0x2000;
  m2.set(pml4 + 0 * 8, 0x0000000010001083);
  m2.set(pml4 + 1 * 8, pdpt | 7);
  m2.set(pdpt + 1 * 8, pd | 7);
  m2.set(pd + 1 * 8, 0x0000000000600087);
  js.str.clear();
  mm::format_maps_json(js, m2, pml4, true);
  EXPECT_EQ(js.str,
            "{\"runs\":[{\"start\":\"0x0000008040200000\",\"end\":\"0x0000008040400000\",\"size\":2097152,"
            "\"flags\":\"urw\",\"exec\":true,\"regions\":[\"user\"],\"warnings\":[\"!WX\",\"!USER\"]}],"
            "\"skipped\":1}\n");
}
