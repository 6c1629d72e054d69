#include "mm/memmap.hpp"

#include "lib/assert.hpp"

namespace mm {
namespace {

constexpr u64 kPage = 4 * KiB;
constexpr u64 kLarge = 2 * MiB;
constexpr u64 kLowMemEnd = 1 * MiB;
constexpr u8 kNone = 0xff;

// Higher wins an overlap. Unknown values (a corrupted enum) rank as Reserved so they
// can never turn into RAM.
u8 rank(MemType t) {
  switch (t) {
    case MemType::Usable: return 0;
    case MemType::Acpi: return 1;
    case MemType::Nvs: return 2;
    case MemType::Reserved: return 3;
    case MemType::Bad: return 4;
  }
  return 3;
}

bool is_ram(MemType t) { return t == MemType::Usable || t == MemType::Acpi || t == MemType::Nvs; }

}  // namespace

const char* mem_type_name(MemType t) {
  switch (t) {
    case MemType::Usable: return "usable";
    case MemType::Reserved: return "reserved";
    case MemType::Acpi: return "acpi";
    case MemType::Nvs: return "nvs";
    case MemType::Bad: return "bad";
  }
  return "?";
}

MemType mem_type_from_multiboot(u32 t) {
  switch (t) {
    case 1: return MemType::Usable;
    case 3: return MemType::Acpi;
    case 4: return MemType::Nvs;
    case 5: return MemType::Bad;
    default: return MemType::Reserved;
  }
}

u64 MemoryMap::bounds_[MemoryMap::kCapacity];
u8 MemoryMap::kinds_[MemoryMap::kCapacity];

bool MemoryMap::add(u64 base, u64 length, MemType type) {
  if (length == 0) return true;
  u64 end = base + length;
  if (end < base || end > kMaxEnd) end = kMaxEnd;
  if (base >= end) return true;
  if (count_ >= kMaxRanges) return false;
  ranges_[count_++] = MemRange{base, end, type};
  return true;
}

void MemoryMap::normalize(bool trim_usable) {
  // Every entry boundary, sorted and unique: between two neighbours the set of
  // covering entries is constant, so each such slice gets exactly one type.
  usize nb = 0;
  for (usize i = 0; i < count_; ++i) {
    bounds_[nb++] = ranges_[i].start;
    bounds_[nb++] = ranges_[i].end;
  }
  for (usize i = 1; i < nb; ++i) {
    u64 v = bounds_[i];
    usize j = i;
    for (; j > 0 && bounds_[j - 1] > v; --j) bounds_[j] = bounds_[j - 1];
    bounds_[j] = v;
  }
  usize unique = 0;
  for (usize i = 0; i < nb; ++i)
    if (unique == 0 || bounds_[unique - 1] != bounds_[i]) bounds_[unique++] = bounds_[i];
  nb = unique;

  // All slice types are settled before ranges_ is overwritten with the result.
  for (usize s = 0; s + 1 < nb; ++s) {
    u8 best = kNone;
    for (usize i = 0; i < count_; ++i) {
      const MemRange& r = ranges_[i];
      if (r.start > bounds_[s] || r.end < bounds_[s + 1]) continue;
      if (best == kNone || rank(r.type) > rank(static_cast<MemType>(best))) best = static_cast<u8>(r.type);
    }
    kinds_[s] = best;
  }

  // At most nb - 1 <= kCapacity - 1 slices, so the result always fits.
  usize out = 0;
  for (usize s = 0; s + 1 < nb; ++s) {
    if (kinds_[s] == kNone) continue;
    MemType t = static_cast<MemType>(kinds_[s]);
    if (out > 0 && ranges_[out - 1].type == t && ranges_[out - 1].end == bounds_[s]) {
      ranges_[out - 1].end = bounds_[s + 1];
    } else {
      ranges_[out++] = MemRange{bounds_[s], bounds_[s + 1], t};
    }
  }

  // Ends are <= kMaxEnd, a page boundary, so rounding start up cannot wrap.
  usize kept = 0;
  for (usize i = 0; i < out; ++i) {
    MemRange r = ranges_[i];
    if (r.type == MemType::Usable && trim_usable) {
      r.start = align_up(r.start, kPage);
      r.end = align_down(r.end, kPage);
      if (r.start >= r.end) continue;
    }
    ranges_[kept++] = r;
  }
  KASSERT(kept <= kCapacity);
  count_ = kept;
}

u64 MemoryMap::total(MemType t) const {
  u64 sum = 0;
  for (usize i = 0; i < count_; ++i)
    if (ranges_[i].type == t) sum += ranges_[i].end - ranges_[i].start;
  return sum;
}

u64 MemoryMap::ram_top() const {
  u64 top = 0;
  for (usize i = 0; i < count_; ++i)
    if (is_ram(ranges_[i].type) && ranges_[i].end > top) top = ranges_[i].end;
  return top;
}

namespace {

// Firmware keeps its tables in reserved memory right after RAM (SeaBIOS: the ACPI
// tables at the top of low RAM), so a Reserved range counts when it starts less than a
// page past the end of RAM (Usable ranges lost their partial pages in normalize()).
// Only after: every SeaBIOS map with RAM above 4 GiB has the BIOS ROM, 0xfffc0000,
// ending exactly where that RAM starts, and the ROM must not be mapped as RAM.
bool follows_ram(const MemoryMap& map, const MemRange& r) {
  for (usize i = 0; i < map.size(); ++i) {
    const MemRange& m = map[i];
    // Ends are <= kMaxEnd, so adding kPage - 1 cannot wrap.
    if (is_ram(m.type) && r.start >= m.start && r.start <= m.end + (kPage - 1)) return true;
  }
  return false;
}

class RangeSink {
 public:
  RangeSink(MemRange* out, usize max) : out_(out), max_(max) {}
  // Ranges must arrive in order of start; rounding to 2 MiB keeps that order.
  void add(u64 start, u64 end) {
    constexpr u64 kLastLarge = align_down(~0ULL, kLarge);
    start = align_down(start, kLarge);
    end = end > kLastLarge ? kLastLarge : align_up(end, kLarge);
    if (start >= end) return;
    if (open_ && start <= cur_.end) {
      if (end > cur_.end) cur_.end = end;
      return;
    }
    flush();
    cur_ = MemRange{start, end, MemType::Usable};
    open_ = true;
  }
  usize finish() {
    flush();
    return count_;
  }

 private:
  void flush() {
    if (!open_) return;
    if (count_ < max_) out_[count_] = cur_;
    ++count_;
    open_ = false;
  }
  MemRange* out_;
  usize max_;
  usize count_ = 0;
  MemRange cur_{};
  bool open_ = false;
};

}  // namespace

usize direct_map_ranges(const MemoryMap& map, MemRange* out, usize max) {
  RangeSink sink(out, max);
  sink.add(0, kLowMemEnd);
  for (usize i = 0; i < map.size(); ++i) {
    const MemRange& r = map[i];
    bool wanted = is_ram(r.type) || (r.type == MemType::Reserved && follows_ram(map, r));
    if (wanted) sink.add(r.start, r.end);
  }
  return sink.finish();
}

namespace {
const MemoryMap* g_firmware_map;  // a pointer, not a copy: a map is kilobytes
}  // namespace

void set_firmware_map(const MemoryMap* map) { g_firmware_map = map; }
const MemoryMap& firmware_map() {
  KASSERT(g_firmware_map != nullptr);  // kernel_main registers it before anything can ask
  return *g_firmware_map;
}

}  // namespace mm
