#include "arch/gdt.hpp"

#include "lib/bits.hpp"
#include "lib/string.hpp"

namespace arch {
namespace {
// Segment descriptor fields (SDM Vol. 3A 3.4.5, Figure 3-8), and the 64-bit system
// descriptor's low half (8.2.3, Figure 8-4) which shares them.
using DescLimitLo = lib::BitField<u64, 0, 16>;
using DescBaseLo = lib::BitField<u64, 16, 24>;
using DescType = lib::BitField<u64, 40, 4>;  // Table 3-1 (code/data), Table 3-2 (system)
using DescS = lib::BitField<u64, 44, 1>;     // 1: code or data, 0: system
using DescDpl = lib::BitField<u64, 45, 2>;
using DescPresent = lib::BitField<u64, 47, 1>;
using DescLimitHi = lib::BitField<u64, 48, 4>;
using DescLong = lib::BitField<u64, 53, 1>;  // L: 64-bit code segment
using DescDb = lib::BitField<u64, 54, 1>;    // D/B: 32-bit default size (must be 0 with L)
using DescGran = lib::BitField<u64, 55, 1>;  // G: limit in 4 KiB units
using DescBaseHi = lib::BitField<u64, 56, 8>;
constexpr u64 kTypeCodeExecReadAccessed = 0xb;  // Table 3-1
constexpr u64 kTypeDataReadWriteAccessed = 0x3;
constexpr u64 kTypeTss64Available = 0x9;  // Table 3-2

// Flat segments, accessed bits preset so the CPU never writes the table: long-mode code
// (L=1, D=0) and data. Limit and base are ignored in 64-bit mode but set flat.
constexpr u64 flat(u64 type, bool code) {
  return DescLimitLo::make(0xffff) | DescType::make(type) | DescS::make(1) | DescPresent::make(1) |
         DescLimitHi::make(0xf) | DescLong::make(code ? 1 : 0) | DescDb::make(code ? 0 : 1) | DescGran::make(1);
}
constexpr u64 kCode64 = flat(kTypeCodeExecReadAccessed, true);
constexpr u64 kData = flat(kTypeDataReadWriteAccessed, false);
static_assert(kCode64 == 0x00af9b000000ffff && kData == 0x00cf93000000ffff);

struct __attribute__((packed)) Pointer {
  u16 limit;
  u64 base;
};
}  // namespace

void load_gdt_tss(Gdt* gdt, Tss* tss, const u64 ist_tops[3]) {
  memset(tss, 0, sizeof(*tss));
  for (int i = 0; i < 3; ++i) tss->ist[i] = ist_tops[i];
  tss->iomap_base = sizeof(Tss);  // no I/O permission bitmap

  u64 base = reinterpret_cast<u64>(tss);
  u64 limit = sizeof(Tss) - 1;
  // 16-byte system descriptor (SDM Vol. 3A 8.2.3, Figure 8-4).
  u64 low = DescLimitLo::make(limit) | DescBaseLo::make(base) | DescType::make(kTypeTss64Available) |
            DescPresent::make(1) | DescLimitHi::make(limit >> 16) | DescBaseHi::make(base >> 24);
  gdt->entries[0] = 0;
  gdt->entries[1] = kCode64;
  gdt->entries[2] = kData;
  gdt->entries[3] = low;
  gdt->entries[4] = base >> 32;

  Pointer p{sizeof(gdt->entries) - 1, reinterpret_cast<u64>(gdt->entries)};
  asm volatile(
      "lgdt %0\n"
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "movw %w2, %%ax\n"
      "movw %%ax, %%ds\n"
      "movw %%ax, %%es\n"
      "movw %%ax, %%ss\n"
      "ltr %w3\n"
      :
      : "m"(p), "i"(static_cast<u64>(sel::kKernelCode)), "r"(static_cast<u32>(sel::kKernelData)),
        "r"(static_cast<u32>(sel::kTss))
      : "rax", "memory");
}

}  // namespace arch
