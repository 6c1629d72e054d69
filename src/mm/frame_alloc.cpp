#include "mm/frame_alloc.hpp"

namespace mm {

const char* purpose_name(Purpose p) {
  switch (p) {
    case Purpose::PageTable: return "page-tables";
    case Purpose::PerCpu: return "percpu";
    case Purpose::Stack: return "stacks";
    case Purpose::Trampoline: return "trampoline";
    case Purpose::Other: return "other";
  }
  return "?";
}

void FrameAllocator::init(const MemoryMap& map) {
  free_count_ = 0;
  run_count_ = 0;
  for (u64& a : allocated_) a = 0;
  unlisted_ = 0;
  lost_ = 0;
  for (usize i = 0; i < map.size(); ++i) {
    const MemRange& r = map[i];
    if (r.type != MemType::Usable) continue;
    u64 start = align_up(r.start, kFrameSize);
    u64 end = align_down(r.end, kFrameSize);
    if (start < kLowLimit) start = kLowLimit;
    // Keeps free_ sorted and disjoint whatever the map: holding a frame twice would
    // hand it out twice.
    if (free_count_ > 0 && start < free_[free_count_ - 1].end) start = free_[free_count_ - 1].end;
    if (start >= end) continue;
    if (free_count_ == kMaxFree) {
      lost_ += end - start;
      continue;
    }
    free_[free_count_++] = Range{start, end};
  }
  for (usize i = 0; i < exclude_count_; ++i) take(excludes_[i].start, excludes_[i].end);
}

bool FrameAllocator::exclude(u64 start, u64 end) {
  if (start >= end) return true;
  if (exclude_count_ == kMaxExcludes) return false;
  start = align_down(start, kFrameSize);
  end = end > MemoryMap::kMaxEnd ? MemoryMap::kMaxEnd : align_up(end, kFrameSize);
  if (start >= end) return true;  // only past kMaxEnd, where no frame ever is
  excludes_[exclude_count_++] = Range{start, end};
  take(start, end);
  return true;
}

u64 FrameAllocator::alloc(Purpose p, u64 limit) { return alloc_contiguous(1, kFrameSize, p, limit); }

u64 FrameAllocator::alloc_contiguous(usize pages, u64 align, Purpose p, u64 limit) {
  if (pages == 0 || pages > MemoryMap::kMaxEnd / kFrameSize) return 0;
  if (align < kFrameSize) align = kFrameSize;
  if ((align & (align - 1)) != 0) return 0;
  u64 size = pages * kFrameSize;
  for (usize i = 0; i < free_count_; ++i) {
    const Range& r = free_[i];
    u64 start = align_up(r.start, align);
    if (start < r.start) break;  // wrapped: no aligned address left above
    if (start > r.end || r.end - start < size) continue;
    // Free ranges are sorted, so nothing later can end lower.
    if (start + size > limit) break;
    take(start, start + size);
    allocated_[static_cast<usize>(p)] += size;
    record(start, start + size, p);
    return start;
  }
  return 0;
}

u64 FrameAllocator::free_bytes() const {
  u64 sum = 0;
  for (usize i = 0; i < free_count_; ++i) sum += free_[i].end - free_[i].start;
  return sum;
}

u64 FrameAllocator::allocated_bytes() const {
  u64 sum = 0;
  for (u64 a : allocated_) sum += a;
  return sum;
}

u64 FrameAllocator::allocated_bytes(Purpose p) const {
  usize i = static_cast<usize>(p);
  return i < kPurposeCount ? allocated_[i] : 0;
}

void FrameAllocator::take(u64 start, u64 end) {
  for (usize i = 0; i < free_count_;) {
    Range r = free_[i];
    if (r.end <= start || r.start >= end) {
      ++i;
      continue;
    }
    Range below{r.start, start > r.start ? start : r.start};
    Range above{end < r.end ? end : r.end, r.end};
    bool keep_below = below.start < below.end, keep_above = above.start < above.end;
    if (keep_below && keep_above) {
      free_[i] = below;
      if (!insert_free(i + 1, above)) {
        // No room to split: keep the bigger piece, give up the other for good.
        u64 lb = below.end - below.start, la = above.end - above.start;
        if (la > lb) free_[i] = above;
        lost_ += la > lb ? lb : la;
      }
      return;  // [start, end) lay inside this one range
    }
    if (keep_below) {
      free_[i++] = below;
    } else if (keep_above) {
      free_[i++] = above;
    } else {
      erase_free(i);
    }
  }
}

bool FrameAllocator::insert_free(usize at, Range r) {
  if (free_count_ == kMaxFree) return false;
  for (usize j = free_count_; j > at; --j) free_[j] = free_[j - 1];
  free_[at] = r;
  ++free_count_;
  return true;
}

void FrameAllocator::erase_free(usize at) {
  for (usize j = at; j + 1 < free_count_; ++j) free_[j] = free_[j + 1];
  --free_count_;
}

void FrameAllocator::record(u64 start, u64 end, Purpose p) {
  usize k = 0;
  while (k < run_count_ && runs_[k].start < start) ++k;
  bool joins_prev = k > 0 && runs_[k - 1].end == start && runs_[k - 1].purpose == p;
  bool joins_next = k < run_count_ && runs_[k].start == end && runs_[k].purpose == p;
  if (joins_prev && joins_next) {
    runs_[k - 1].end = runs_[k].end;
    for (usize j = k; j + 1 < run_count_; ++j) runs_[j] = runs_[j + 1];
    --run_count_;
  } else if (joins_prev) {
    runs_[k - 1].end = end;
  } else if (joins_next) {
    runs_[k].start = start;
  } else if (run_count_ < kMaxRuns) {
    for (usize j = run_count_; j > k; --j) runs_[j] = runs_[j - 1];
    runs_[k] = Run{start, end, p};
    ++run_count_;
  } else {
    unlisted_ += end - start;
  }
}

}  // namespace mm
