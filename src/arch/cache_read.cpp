// Reads the calling CPU's MTRRs and PAT into an arch::cache::Snapshot (the list is
// arch/cache_config.cpp's plan, from this CPU's own CPUID and MTRRCAP).
#include "arch/cache_config.hpp"
#include "arch/cpu.hpp"

namespace arch::cache {

void snapshot_this_cpu(Snapshot* s) {
  u32 edx = arch::cpuid(1).edx;
  u64 cap = (edx & kCpuidEdxMtrr) ? arch::rdmsr(kMtrrCap) : 0;
  plan(s, edx, cap);
  for (unsigned i = 0; i < s->count; ++i) s->value[i] = arch::rdmsr(s->msr[i]);
}

namespace {
constexpr u64 kDefTypeEnable = u64{1} << 11;  // IA32_MTRR_DEF_TYPE.E (Figure 11-8)
inline void wbinvd() { asm volatile("wbinvd" ::: "memory"); }
// Whether s lists msr; `at` is where it is when both lists come from the same plan (the
// usual case: one CPU model), which spares the search on the bring-up path.
bool has(const Snapshot& s, u32 msr, unsigned at) {
  if (at < s.count && s.msr[at] == msr) return true;
  for (unsigned i = 0; i < s.count; ++i)
    if (s.msr[i] == msr) return true;
  return false;
}
}  // namespace

void load_this_cpu(const Snapshot& ref, const Snapshot& mine) {
  u64 cr0 = arch::read_cr0(), cr4 = arch::read_cr4();
  arch::write_cr0((cr0 | arch::cr0::kCD) & ~arch::cr0::kNW);  // no-fill cache mode (step 3)
  wbinvd();                                                   // step 4
  arch::write_cr4(cr4 & ~arch::cr4::kPGE);                    // flush the TLB, global entries too (5-6)
  u64 def = 0;
  bool have_def = false, mine_def = false;
  for (unsigned i = 0; i < ref.count; ++i)
    if (ref.msr[i] == kMtrrDefType) def = ref.value[i], have_def = true, mine_def = has(mine, kMtrrDefType, i);
  if (have_def && mine_def) arch::wrmsr(kMtrrDefType, def & ~kDefTypeEnable);  // step 7
  for (unsigned i = 0; i < ref.count; ++i) {
    u32 m = ref.msr[i];
    if (m == kMtrrCap || m == kMtrrDefType || !has(mine, m, i)) continue;  // MTRRCAP is read-only
    arch::wrmsr(m, ref.value[i]);                                          // step 8 (and the PAT)
  }
  if (have_def && mine_def) arch::wrmsr(kMtrrDefType, def);  // step 9
  wbinvd();                                                  // step 10
  arch::write_cr4(cr4);                                      // flush again, PGE back (11)
  arch::write_cr0(cr0);
}

}  // namespace arch::cache
