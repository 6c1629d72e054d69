// The AP trampoline's page: the one definition of its data block. The C++ that fills it
// in (bringup.cpp) uses these types; trampoline.asm (NASM, -f bin) reads the same offsets
// as %defines generated from them (export/asm_offsets.cpp -> build/generated/asm_offsets.inc),
// and gdb/kernel.py reads them from DWARF. Everything the AP reads before paging is on lives
// in this one page.
#pragma once
#include "lib/types.hpp"

namespace smp {

// Written by the BSP after copying the blob (cr3, entry64, gdtr_base, the far pointers'
// offsets); the rest is assembled in. Packed: the far pointers are m16:32 operands.
struct __attribute__((packed)) TrampolineData {
  u32 cr3;  // kernel PML4, below 4 GiB
  u32 pad0;
  u64 entry64;  // ap_long_entry, higher half
  u64 gdt[4];   // null, code32, data, code64 (selectors below)
  u16 gdtr_limit;
  u32 gdtr_base;  // page-relative in the blob; the BSP adds the page
  u16 pad1;
  u32 pm32_offset;  // m16:32 far pointer to pm32 (offset patched: + page)
  u16 pm32_selector;
  u16 pad2;
  u32 lm64_offset;  // m16:32 far pointer to lm64 (offset patched: + page)
  u16 lm64_selector;
  u16 pad3;
  u32 pm32_off_in_page;  // where pm32 and lm64 are in the page (from the assembler)
  u32 lm64_off_in_page;
};

inline constexpr usize kTrampolineSize = 0x1000;
inline constexpr usize kTrampolineDataOffset = 0xf00;  // the code must end before it

struct TrampolinePage {
  u8 code[kTrampolineDataOffset];
  TrampolineData data;
  u8 tail[kTrampolineSize - kTrampolineDataOffset - sizeof(TrampolineData)];
};
static_assert(sizeof(TrampolinePage) == kTrampolineSize);

// Selectors of the trampoline's GDT (index * 8, TI = 0, RPL = 0).
inline constexpr u16 kTrampSelCode32 = 1 * 8;
inline constexpr u16 kTrampSelData = 2 * 8;
inline constexpr u16 kTrampSelCode64 = 3 * 8;
static_assert(kTrampSelCode64 < sizeof(TrampolineData::gdt));

}  // namespace smp

// Offsets in the page, under the names trampoline.asm uses (bringup.cpp and the host
// tests use them too).
inline constexpr usize TRAMP_DATA = __builtin_offsetof(smp::TrampolinePage, data);
inline constexpr usize TRAMP_CR3 = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, cr3);
inline constexpr usize TRAMP_ENTRY64 = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, entry64);
inline constexpr usize TRAMP_GDT = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, gdt);
inline constexpr usize TRAMP_GDTR = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, gdtr_limit);
inline constexpr usize TRAMP_GDTR_BASE = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, gdtr_base);
inline constexpr usize TRAMP_PM32_PTR = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, pm32_offset);
inline constexpr usize TRAMP_PM32_SEL = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, pm32_selector);
inline constexpr usize TRAMP_LM64_PTR = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, lm64_offset);
inline constexpr usize TRAMP_LM64_SEL = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, lm64_selector);
inline constexpr usize TRAMP_PM32_OFF = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, pm32_off_in_page);
inline constexpr usize TRAMP_LM64_OFF = TRAMP_DATA + __builtin_offsetof(smp::TrampolineData, lm64_off_in_page);
inline constexpr usize TRAMP_DATA_END = TRAMP_DATA + sizeof(smp::TrampolineData);
