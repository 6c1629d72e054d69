#include "arch/cache_config.hpp"

namespace arch::cache {
namespace {
void add(Snapshot* s, u32 msr) {
  if (s->count < kMaxMsrs) s->msr[s->count++] = msr;
}
}  // namespace

void plan(Snapshot* s, u32 cpuid1_edx, u64 mtrrcap) {
  *s = Snapshot{};
  if (cpuid1_edx & kCpuidEdxMtrr) {
    add(s, kMtrrCap);
    add(s, kMtrrDefType);
    if (mtrrcap & kMtrrCapFix)
      for (u32 m : kFixedMtrrs) add(s, m);
    s->var_ranges = static_cast<unsigned>(mtrrcap & kMtrrCapVcntMask);
    unsigned n = s->var_ranges;
    if (n > kMaxVarMtrrs) {
      n = kMaxVarMtrrs;
      s->var_ranges_cut = true;
    }
    for (unsigned i = 0; i < n; ++i) {
      add(s, kMtrrPhysBase0 + 2 * i);
      add(s, kMtrrPhysBase0 + 2 * i + 1);
    }
  }
  if (cpuid1_edx & kCpuidEdxPat) add(s, kPat);
}

Difference compare(const Snapshot& ref, const Snapshot& other) {
  Difference d{};
  auto note = [&](u32 msr, u64 want, u64 got) {
    if (d.count++ == 0) {
      d.first_msr = msr;
      d.expected = want;
      d.found = got;
    }
  };
  // Two CPUs of one model plan the same list in the same order (plan() has no duplicates):
  // then entry i is the same MSR in both and one pass gives what the search below would.
  // Every AP compares on arrival, so this is on the bring-up path (O(n) instead of O(n^2)).
  bool same_list = ref.count == other.count;
  for (unsigned i = 0; i < ref.count && same_list; ++i) same_list = ref.msr[i] == other.msr[i];
  if (same_list) {
    for (unsigned i = 0; i < ref.count; ++i)
      if (other.value[i] != ref.value[i]) note(ref.msr[i], ref.value[i], other.value[i]);
    return d;
  }
  for (unsigned i = 0; i < ref.count; ++i) {
    bool seen = false;
    for (unsigned j = 0; j < other.count; ++j) {
      if (other.msr[j] != ref.msr[i]) continue;
      seen = true;
      if (other.value[j] != ref.value[i]) note(ref.msr[i], ref.value[i], other.value[j]);
      break;
    }
    if (!seen) note(ref.msr[i], ref.value[i], 0);
  }
  for (unsigned j = 0; j < other.count; ++j) {
    bool seen = false;
    for (unsigned i = 0; i < ref.count && !seen; ++i) seen = ref.msr[i] == other.msr[j];
    if (!seen) note(other.msr[j], 0, other.value[j]);
  }
  return d;
}

}  // namespace arch::cache
