#include "lib/log_ring.hpp"

namespace lib {
namespace {

// How long a commit waits for the appends before it (each pause is tens of cycles:
// milliseconds in all). Reached only when an earlier writer never finishes.
constexpr u64 kCommitSpins = u64{1} << 20;

inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

// Bytes are stored and loaded one at a time with relaxed atomics: a reader may race
// with a writer overwriting the oldest bytes, and finds out by re-reading the head.
void LogRing::append(const char* s, usize n) {
  if (n == 0) return;
  u64 pos = head_.fetch_add(n, __ATOMIC_SEQ_CST);
  // Pairs with the reader's acquire fence: a reader that sees one of these bytes sees
  // the head that reserved them, so it knows what they overwrote.
  __atomic_thread_fence(__ATOMIC_RELEASE);
  usize skip = n > capacity() ? n - capacity() : 0;  // only the last capacity bytes survive
  for (usize i = skip; i < n; ++i) __atomic_store_n(&buf_[(pos + i) & mask_], s[i], __ATOMIC_RELAXED);
  // Publish in order, so that `committed` never covers a reservation still being copied.
  for (u64 spin = 0; spin < kCommitSpins && committed_.load() < pos; ++spin) {
    if (relax_ != nullptr)
      relax_();
    else
      cpu_relax();
  }
  u64 c = committed_.load(__ATOMIC_RELAXED);
  while (c < pos + n && !committed_.compare_exchange(c, pos + n)) {
  }
}

u64 LogRing::head() const { return head_.load(); }
u64 LogRing::committed() const { return committed_.load(); }

char LogRing::byte_at(u64 pos) const { return __atomic_load_n(&buf_[pos & mask_], __ATOMIC_RELAXED); }

u64 LogRing::oldest() const {
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  u64 h = head();
  return h > capacity() ? h - capacity() : 0;
}

LogRing::Cursor LogRing::lines(usize last_lines) const {
  u64 end = committed();
  u64 start = oldest();
  if (start >= end) return Cursor{end, end, false, 0};
  Cursor all{start, end, start != 0, 0};
  if (last_lines == 0) return all;
  // Back from the end: the last line's own "\n" does not start it; each "\n" before
  // it starts one more line.
  u64 p = end;
  if (byte_at(p - 1) == '\n') --p;
  usize lines = 1;
  for (; p > start; --p) {
    if (byte_at(p - 1) != '\n') continue;
    if (lines == last_lines) break;
    ++lines;
  }
  // p - 1 holds the "\n" before the first line: it must still be there after the scan.
  if (p == start || p - 1 < oldest()) return all;  // fewer lines than asked (or overwritten meanwhile)
  return Cursor{p, end, false, 0};
}

usize LogRing::next(Cursor* c, char* out, usize cap) const {
  if (cap == 0) return 0;
  for (;;) {
    if (c->pos >= c->end) return 0;
    u64 p = c->pos;
    if (c->skip) {
      while (p < c->end && byte_at(p++) != '\n') {
      }
      if (p - 1 < oldest()) {
        // The "\n" that seemed to end it is newer text: try again from the oldest byte.
        c->pos = oldest();
        ++c->resyncs;
        continue;
      }
      c->pos = p;
      c->skip = false;
      continue;
    }
    usize n = 0;
    while (p < c->end && n < cap) {
      char ch = byte_at(p++);
      out[n++] = ch;
      if (ch == '\n') break;
    }
    if (c->pos < oldest()) {
      // Overwritten while we copied it: go on from the oldest whole line.
      c->pos = oldest();
      c->skip = true;
      ++c->resyncs;
      continue;
    }
    c->pos = p;
    return n;
  }
}

}  // namespace lib
