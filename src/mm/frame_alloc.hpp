// Boot-time physical frame allocator (4 KiB frames) over the Usable ranges of a
// normalized MemoryMap. Frames are never freed, so the state is just the free ranges,
// kept sorted: the lowest free frame is always the first one looked at, which keeps
// page tables and the AP trampoline low (CR3 is loaded with a 32-bit move there).
// Never hands out anything below 1 MiB or inside an exclude()d range.
#pragma once
#include "lib/types.hpp"
#include "mm/memmap.hpp"

namespace mm {

enum class Purpose : u8 { PageTable, PerCpu, Stack, Trampoline, Other };
constexpr usize kPurposeCount = 5;
const char* purpose_name(Purpose p);  // "page-tables", "percpu", "stacks", "trampoline", "other"

class FrameAllocator {
 public:
  static constexpr u64 kFrameSize = 4 * KiB;
  static constexpr u64 kLowLimit = 1 * MiB;  // nothing below is ever handed out
  static constexpr usize kMaxExcludes = 16;
  static constexpr usize kMaxRuns = 64;
  static constexpr usize kMaxFree = MemoryMap::kMaxRanges + 2 * kMaxExcludes + 8;

  // Takes the map's Usable ranges (partial pages dropped; a range overlapping an
  // earlier one, which a normalized map never has, is cut so nothing is held twice)
  // and applies every exclude() so far. Forgets earlier allocations, keeps excludes.
  void init(const MemoryMap& map);
  // Never hand out [start, end), widened to whole pages. Works before or after init();
  // frames already handed out stay so. False once kMaxExcludes are held. Empty: true.
  [[nodiscard]] bool exclude(u64 start, u64 end);

  // The lowest free frame that ends at or below limit, or 0 (never a valid frame).
  // Does not zero it: the kernel does that through the direct map.
  [[nodiscard]] u64 alloc(Purpose p, u64 limit = ~0ull);
  // The lowest free run of `pages` frames starting on a multiple of align (a power of
  // two; below 4 KiB means 4 KiB) and ending at or below limit, or 0 (also for
  // pages == 0 or a bad align).
  [[nodiscard]] u64 alloc_contiguous(usize pages, u64 align, Purpose p, u64 limit = ~0ull);

  u64 free_bytes() const;
  u64 allocated_bytes() const;
  u64 allocated_bytes(Purpose p) const;
  // Free memory given up because the free-range table was full when a range had to
  // split (only with extreme maps); never handed out, not in free_bytes().
  u64 lost_bytes() const { return lost_; }

  // Allocated memory as runs, sorted, merged when contiguous and of one purpose, for
  // `physmap`. When kMaxRuns are held, an allocation that extends no run is counted in
  // allocated_bytes() and unlisted_bytes() but gets no run of its own.
  struct Run {
    u64 start;
    u64 end;
    Purpose purpose;
  };
  usize run_count() const { return run_count_; }
  const Run& run(usize i) const { return runs_[i]; }
  u64 unlisted_bytes() const { return unlisted_; }

 private:
  struct Range {
    u64 start;
    u64 end;
  };
  void take(u64 start, u64 end);  // removes [start, end) from the free ranges
  bool insert_free(usize at, Range r);
  void erase_free(usize at);
  void record(u64 start, u64 end, Purpose p);

  Range free_[kMaxFree];
  usize free_count_ = 0;
  Range excludes_[kMaxExcludes];
  usize exclude_count_ = 0;
  Run runs_[kMaxRuns];
  usize run_count_ = 0;
  u64 allocated_[kPurposeCount] = {};
  u64 unlisted_ = 0;
  u64 lost_ = 0;
};

}  // namespace mm
