// Per-CPU GDT and TSS (64-bit mode uses the TSS only for the interrupt stack table,
// SDM Vol. 3A 8.7 "Task Management in 64-bit Mode", Figure 8-11).
#pragma once
#include "lib/types.hpp"

namespace arch {

namespace sel {
constexpr u16 kKernelCode = 0x08;
constexpr u16 kKernelData = 0x10;
constexpr u16 kTss = 0x18;
}  // namespace sel

struct __attribute__((packed)) Tss {
  u32 reserved0;
  u64 rsp[3];
  u64 reserved1;
  u64 ist[7];  // ist[0] is IST1
  u64 reserved2;
  u16 reserved3;
  u16 iomap_base;
};
static_assert(sizeof(Tss) == 104);

struct alignas(16) Gdt {
  u64 entries[5];  // null, code, data, TSS (two slots)
};

// Fills gdt/tss for a CPU whose IST stacks top out at ist_tops[0..2], and loads them.
void load_gdt_tss(Gdt* gdt, Tss* tss, const u64 ist_tops[3]);

}  // namespace arch
