#include "debug/backtrace.hpp"

namespace debug {
namespace {
const StackRange* range_of(u64 addr, u64 len, const StackRange* ranges, usize n) {
  for (usize i = 0; i < n; ++i)
    if (addr >= ranges[i].lo && addr < ranges[i].hi && len <= ranges[i].hi - addr) return &ranges[i];
  return nullptr;
}
}  // namespace

void walk_frames(u64 rip, u64 rbp, const StackRange* ranges, usize nranges, Read64 read, void* ctx, Frames* out) {
  out->count = 0;
  out->end = "no frames";
  out->pc[out->count++] = rip;
  const StackRange* stack = nullptr;
  for (;;) {
    if (out->count == kMaxFrames) {
      out->end = "frame limit reached";
      return;
    }
    if (rbp == 0) {
      out->end = "end of the frame chain";
      return;
    }
    if ((rbp & 7) != 0) {
      out->end = "frame pointer not aligned";
      return;
    }
    // [rbp] and [rbp + 8] must both be inside one of this CPU's stacks, and a chain
    // that started on one stack stays on it (frames of one call chain share a stack).
    const StackRange* r = range_of(rbp, 16, ranges, nranges);
    if (r == nullptr) {
      out->end = "frame pointer outside this CPU's stacks";
      return;
    }
    if (stack != nullptr && r != stack) {
      out->end = "frame pointer left the stack";
      return;
    }
    stack = r;
    u64 next = 0, ret = 0;
    if (!read(rbp, &next, ctx) || !read(rbp + 8, &ret, ctx)) {
      out->end = "frame unreadable";
      return;
    }
    if (ret == 0) {
      out->end = "end of the frame chain";  // the zero return address entry code pushes
      return;
    }
    out->pc[out->count++] = ret;
    if (next != 0 && next <= rbp) {
      out->end = "frame pointer did not move up the stack";
      return;
    }
    rbp = next;
  }
}

}  // namespace debug
