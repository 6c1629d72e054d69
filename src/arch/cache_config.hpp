// The memory-type configuration every CPU must share (SDM Vol. 3A 11.11.8 "MTRR
// Considerations in MP Systems": all processors use identical MTRRs; 11.12.4: the PAT
// should be the same on all of them too): which MSRs hold it, a snapshot of their values,
// and the comparison of two snapshots. Portable (host-tested); reading the MSRs is
// arch/cache_config.cpp's.
#pragma once
#include "lib/types.hpp"

namespace arch::cache {

// MSRs (SDM Vol. 4 Table 2-2; Vol. 3A 11.11.1-11.11.2.3, 11.12.2).
constexpr u32 kMtrrCap = 0xfe;         // IA32_MTRRCAP: VCNT [7:0], FIX [8], WC [10]
constexpr u32 kMtrrDefType = 0x2ff;    // IA32_MTRR_DEF_TYPE: type [7:0], FE [10], E [11]
constexpr u32 kMtrrPhysBase0 = 0x200;  // IA32_MTRR_PHYSBASEn = 0x200 + 2n, PHYSMASKn = 0x201 + 2n
constexpr u32 kPat = 0x277;            // IA32_PAT
// The 11 fixed-range MTRRs (Table 11-9): 64K at 0x250, 16K at 0x258/0x259, 4K at 0x268-0x26f.
constexpr u32 kFixedMtrrs[] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f};
constexpr u64 kMtrrCapVcntMask = 0xff;
constexpr u64 kMtrrCapFix = u64{1} << 8;
// CPUID.1:EDX (SDM Vol. 2A Table 3-11).
constexpr u32 kCpuidEdxMtrr = 1u << 12;
constexpr u32 kCpuidEdxPat = 1u << 16;

// Variable ranges compared at most; more (real CPUs have 8-10) are said, not cut silently.
constexpr unsigned kMaxVarMtrrs = 32;
constexpr unsigned kMaxMsrs = 3 + sizeof(kFixedMtrrs) / sizeof(kFixedMtrrs[0]) + 2 * kMaxVarMtrrs;

struct Snapshot {
  unsigned count;
  unsigned var_ranges;  // VCNT as the CPU reports it
  bool var_ranges_cut;  // VCNT > kMaxVarMtrrs: only the first kMaxVarMtrrs kept
  u32 msr[kMaxMsrs];
  u64 value[kMaxMsrs];
};

// The MSR list for a CPU with these CPUID.1:EDX bits and this IA32_MTRRCAP (0 without
// MTRRs): MTRRCAP, DEF_TYPE, the fixed ranges if FIX, PHYSBASE/PHYSMASK of each variable
// range, PAT if present. Values are left 0 for the reader to fill in.
void plan(Snapshot* s, u32 cpuid1_edx, u64 mtrrcap);

struct Difference {
  unsigned count;  // MSRs whose values differ (or present in one snapshot only)
  u32 first_msr;   // the first of them, in the reference's order
  u64 expected, found;
};
// How `other` differs from `ref`.
Difference compare(const Snapshot& ref, const Snapshot& other);

}  // namespace arch::cache

#ifndef HOST_TEST
namespace arch::cache {
// The calling CPU's memory-type MSRs (kernel only: rdmsr). Reads only MSRs its CPUID and
// MTRRCAP say exist, so it never faults on a CPU without MTRRs or PAT.
void snapshot_this_cpu(Snapshot* s);
// Loads ref's MTRRs and PAT into the calling CPU by the SDM's procedure (Vol. 3A 11.11.8
// "MTRR Considerations in MP Systems", steps 1-11; 11.12.4 for the PAT): caches disabled
// and flushed, MTRRs disabled while they change. Interrupts must be off. `mine` is the
// calling CPU's own snapshot (snapshot_this_cpu): MSRs it does not list are skipped.
void load_this_cpu(const Snapshot& ref, const Snapshot& mine);
}  // namespace arch::cache
#endif
