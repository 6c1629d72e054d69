/* The AP trampoline's page, shared by trampoline.S (NASM, run through the C
 * preprocessor so it reads these very #defines) and the C++ that fills it in
 * (bringup.cpp, whose TrampolineData struct is static_asserted against them).
 * Everything the AP reads before paging is on lives in this one page. */
#ifndef SMP_TRAMPOLINE_LAYOUT_H
#define SMP_TRAMPOLINE_LAYOUT_H

#define TRAMP_SIZE          0x1000
#define TRAMP_DATA          0xf00   /* start of the data block the BSP fills in */
#define TRAMP_CR3           0xf00   /* u32: kernel PML4, below 4 GiB */
#define TRAMP_ENTRY64       0xf08   /* u64: ap_long_entry, higher half */
#define TRAMP_GDT           0xf10   /* 4 descriptors: null, code32, data, code64 */
#define TRAMP_GDTR          0xf30   /* u16 limit, u32 base (patched: page + TRAMP_GDT) */
#define TRAMP_PM32_PTR      0xf38   /* m16:32 far pointer to pm32 (offset patched) */
#define TRAMP_LM64_PTR      0xf40   /* m16:32 far pointer to lm64 (offset patched) */
#define TRAMP_PM32_OFF      0xf48   /* u32: offset of pm32 in the page (from the assembler) */
#define TRAMP_LM64_OFF      0xf4c   /* u32: offset of lm64 in the page (from the assembler) */
#define TRAMP_DATA_END      0xf50

#define TRAMP_SEL_CODE32    0x08
#define TRAMP_SEL_DATA      0x10
#define TRAMP_SEL_CODE64    0x18

#ifdef __cplusplus
#include "lib/types.hpp"

namespace smp {
struct __attribute__((packed)) TrampolineData {
  u32 cr3;
  u32 pad0;
  u64 entry64;
  u64 gdt[4];
  u16 gdtr_limit;
  u32 gdtr_base;
  u16 pad1;
  u32 pm32_offset;
  u16 pm32_selector;
  u16 pad2;
  u32 lm64_offset;
  u16 lm64_selector;
  u16 pad3;
  u32 pm32_off_in_page;
  u32 lm64_off_in_page;
};
static_assert(__builtin_offsetof(TrampolineData, cr3) == TRAMP_CR3 - TRAMP_DATA);
static_assert(__builtin_offsetof(TrampolineData, entry64) == TRAMP_ENTRY64 - TRAMP_DATA);
static_assert(__builtin_offsetof(TrampolineData, gdt) == TRAMP_GDT - TRAMP_DATA);
static_assert(__builtin_offsetof(TrampolineData, gdtr_limit) == TRAMP_GDTR - TRAMP_DATA);
static_assert(__builtin_offsetof(TrampolineData, pm32_offset) == TRAMP_PM32_PTR - TRAMP_DATA);
static_assert(__builtin_offsetof(TrampolineData, lm64_offset) == TRAMP_LM64_PTR - TRAMP_DATA);
static_assert(__builtin_offsetof(TrampolineData, pm32_off_in_page) == TRAMP_PM32_OFF - TRAMP_DATA);
static_assert(__builtin_offsetof(TrampolineData, lm64_off_in_page) == TRAMP_LM64_OFF - TRAMP_DATA);
static_assert(sizeof(TrampolineData) == TRAMP_DATA_END - TRAMP_DATA);
}  // namespace smp
#endif
#endif
