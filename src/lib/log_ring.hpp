// The kernel log: a byte ring that keeps the newest `capacity` bytes of everything the
// console printed (lines end in "\n"), readable line by line, oldest first.
//
// Writers never block on each other and never take a lock, so the NMI and panic paths
// can log: append() reserves its bytes with one atomic fetch_add on a 64-bit head (the
// count of bytes ever logged, which never wraps), copies them into the ring, then
// publishes them by moving `committed` past them in order. What it promises:
//  - the bytes of one append() are contiguous in the log: appends never interleave
//    inside each other (a line printed in several appends by CPUs that do not hold the
//    console lock, i.e. the panic path, can interleave at append boundaries);
//  - a reader sees only committed bytes, and only whole lines: it skips the oldest line
//    once the ring has wrapped (its start may be overwritten), and a line overwritten
//    while it was being copied is dropped (checked against the head after the copy);
//  - committing waits for earlier appends, bounded: a writer stopped for good in the
//    middle of its copy (a CPU halted by the panic NMI) delays the next append once and
//    its unwritten bytes may then read as older text.
// Lines longer than the reader's buffer come back in pieces; if the rest of such a line is
// overwritten before it is read, the cursor's `resyncs` goes up and the next piece starts
// a line (the caller drops the part it holds).
#pragma once
#include "lib/atomic.hpp"
#include "lib/types.hpp"

namespace lib {

class LogRing {
 public:
  // capacity_bytes: a power of two. relax: what a commit does while it waits for an
  // earlier append (default: the pause instruction; a host test yields its thread, as a
  // preempted writer is only a thing there).
  constexpr LogRing(char* buf, usize capacity_bytes, void (*relax)() = nullptr)
      : buf_(buf), mask_(capacity_bytes - 1), relax_(relax) {}
  LogRing(const LogRing&) = delete;
  LogRing& operator=(const LogRing&) = delete;

  void append(const char* s, usize n);

  usize capacity() const { return mask_ + 1; }
  u64 head() const;       // bytes ever reserved
  u64 committed() const;  // every byte before this position is written

  struct Cursor {
    u64 pos;      // next byte to read
    u64 end;      // committed when the cursor was made: later output is not read
    bool skip;    // pos may be inside a line: skip to the next line first
    u64 resyncs;  // times text was overwritten under the reader and skipped
  };
  // A cursor over the whole log (last_lines 0) or its last `last_lines` lines. The last
  // line may lack its "\n" (output not finished with one).
  Cursor lines(usize last_lines) const;
  // Copies the next line (its "\n" included) or, if it is longer than cap, the next
  // piece of it into out; returns the bytes copied, 0 at the end.
  usize next(Cursor* c, char* out, usize cap) const;

 private:
  char byte_at(u64 pos) const;
  // The oldest position still in the ring.
  u64 oldest() const;

  char* buf_;
  u64 mask_;
  void (*relax_)();
  Atomic<u64> head_;       // bytes ever reserved
  Atomic<u64> committed_;  // every byte before it is written
};

}  // namespace lib
