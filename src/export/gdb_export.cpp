// Constants gdb/kernel.py reads from the ELF. DWARF holds structs and enums, but a
// constexpr value only when something uses it, so the ones the gdb helpers need are kept
// here in one object, built from their definitions (the layout itself is g_kernel_layout,
// mm/layout_export.cpp). Enums (smp::CpuState, mm::MemType, ...) and struct offsets
// (smp::TrampolineData, smp::PerCpu) kernel.py takes from DWARF directly.
#include "arch/cpu.hpp"
#include "arch/pte.hpp"
#include "mm/layout.hpp"
#include "smp/trampoline_layout.h"

struct KernelConsts {
  // Page-table entry bits and fields (arch/pte.hpp).
  u64 pte_present, pte_write, pte_user, pte_pwt, pte_pcd, pte_accessed, pte_dirty, pte_page_size, pte_global,
      pte_no_execute;
  u64 pte_addr, pte_addr_2m, pte_addr_1g, pte_rsvd_2m, pte_rsvd_1g;
  u64 pte_entries;
  // Page sizes and spans (mm/layout.hpp).
  u64 page_size, large_page_size, huge_page_size, pml4_span;
  u64 user_base, user_end;
  // The AP trampoline's page (smp/trampoline_layout.h).
  u64 trampoline_size, trampoline_data;
  // The control registers and EFER every CPU is meant to run with (arch/cpu.hpp), for the
  // tests that compare each vCPU's registers with them bit by bit.
  u64 cr0_kernel, cr4_kernel, efer_kernel;
};

extern "C" [[gnu::used]] const KernelConsts g_kernel_consts = {
    .pte_present = arch::pte::kPresent.mask,
    .pte_write = arch::pte::kWrite.mask,
    .pte_user = arch::pte::kUser.mask,
    .pte_pwt = arch::pte::kPwt.mask,
    .pte_pcd = arch::pte::kPcd.mask,
    .pte_accessed = arch::pte::kAccessed.mask,
    .pte_dirty = arch::pte::kDirty.mask,
    .pte_page_size = arch::pte::kPageSize.mask,
    .pte_global = arch::pte::kGlobal.mask,
    .pte_no_execute = arch::pte::kNoExecute.mask,
    .pte_addr = arch::pte::kAddr.mask(),
    .pte_addr_2m = arch::pte::kAddr2M.mask(),
    .pte_addr_1g = arch::pte::kAddr1G.mask(),
    .pte_rsvd_2m = arch::pte::kRsvd2M,
    .pte_rsvd_1g = arch::pte::kRsvd1G,
    .pte_entries = arch::pte::kEntries,
    .page_size = mm::layout::kPageSize,
    .large_page_size = mm::layout::kLargePageSize,
    .huge_page_size = mm::layout::kHugePageSize,
    .pml4_span = mm::layout::kPml4Span,
    .user_base = mm::layout::kUserBase,
    .user_end = mm::layout::kUserEnd,
    .trampoline_size = smp::kTrampolineSize,
    .trampoline_data = TRAMP_DATA,
    .cr0_kernel = arch::cr0::kKernel,
    .cr4_kernel = arch::cr4::kKernel,
    .efer_kernel = arch::efer::kKernel,
};
