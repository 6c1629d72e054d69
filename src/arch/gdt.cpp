#include "arch/gdt.hpp"

#include "lib/string.hpp"

namespace arch {
namespace {
// Segment descriptors (SDM Vol. 3A 3.4.5, Figure 3-8): long-mode code (L=1, D=0), data,
// accessed bits preset so the CPU never writes the table.
constexpr u64 kCode64 = 0x00af9b000000ffff;
constexpr u64 kData = 0x00cf93000000ffff;
constexpr u64 kTssType = 0x9;  // 64-bit TSS, available (SDM Vol. 3A Table 3-2)

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
  u64 low = (limit & 0xffff) | ((base & 0xffffff) << 16) | (kTssType << 40) | (1ULL << 47) |
            (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
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
