// libFuzzer: the memory-map normalizer and the direct-map range computation on fuzzed
// entries (24 bytes each: base, length, type), checked against a byte-exact oracle on a
// small address window: every address gets the most restrictive type of the entries
// covering it, and normalize() must say the same.
#include <cstring>
#include <vector>

#include "mm/memmap.hpp"

namespace {
u64 rd64(const u8* p) {
  u64 v;
  std::memcpy(&v, p, 8);
  return v;
}
int rank(mm::MemType t) {
  switch (t) {
    case mm::MemType::Usable: return 0;
    case mm::MemType::Acpi: return 1;
    case mm::MemType::Nvs: return 2;
    case mm::MemType::Reserved: return 3;
    case mm::MemType::Bad: return 4;
  }
  return 3;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
  static mm::MemoryMap map;
  map.clear();
  struct E {
    u64 s, e;
    mm::MemType t;
  };
  std::vector<E> ents;
  bool small = size > 0 && (data[0] & 1);  // small: addresses within 64 KiB, for the oracle
  for (usize off = 1; off + 17 <= size; off += 17) {
    u64 base = rd64(data + off), len = rd64(data + off + 8);
    mm::MemType t = mm::mem_type_from_multiboot(data[off + 16] % 7);
    if (small) {
      base %= 0x10000;
      len %= 0x4000;
    }
    if (!map.add(base, len, t)) {
      if (map.size() != mm::MemoryMap::kMaxRanges) __builtin_trap();  // refused only when full
      break;
    }
    if (small && len) ents.push_back({base, base + len, t});
  }
  mm::MemoryMap exact = map;
  exact.normalize(false);
  map.normalize();
  for (const mm::MemoryMap* m : {&exact, &map})
    for (usize i = 0; i < m->size(); ++i) {
      if ((*m)[i].start >= (*m)[i].end) __builtin_trap();
      if (i && (*m)[i - 1].end > (*m)[i].start) __builtin_trap();
    }
  if (small) {
    // The oracle: per 256-byte step (entries are arbitrary, so probe their bounds too).
    auto type_at = [&](u64 a, int* best) {
      *best = -1;
      for (const E& e : ents)
        if (a >= e.s && a < e.e && rank(e.t) > *best) *best = rank(e.t);
    };
    for (u64 a = 0; a < 0x14000; a += 0x100) {
      int want;
      type_at(a, &want);
      int got = -1;
      for (usize i = 0; i < exact.size(); ++i)
        if (a >= exact[i].start && a < exact[i].end) got = rank(exact[i].type);
      if (got != want) __builtin_trap();
    }
  }
  mm::MemRange out[config::kMaxDirectRanges];
  usize n = mm::direct_map_ranges(map, out, config::kMaxDirectRanges);
  for (usize i = 1; i < n && i < config::kMaxDirectRanges; ++i)
    if (out[i - 1].end > out[i].start) __builtin_trap();
  return 0;
}
