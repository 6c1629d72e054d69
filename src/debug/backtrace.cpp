#include "debug/backtrace.hpp"

namespace debug {
namespace {

// The stack a stack pointer is on: a full stack's rsp equals its top, which belongs to it.
const StackRange* stack_of(u64 sp, const StackRange* ranges, usize n) {
  for (usize i = 0; i < n; ++i)
    if (sp > ranges[i].lo && sp <= ranges[i].hi) return &ranges[i];
  return nullptr;
}

bool inside(const StackRange* r, u64 addr, u64 len) { return addr >= r->lo && addr <= r->hi - len; }

}  // namespace

const UnwindEntry* find_unwind_entry(const UnwindTable& t, u64 pc) {
  if (t.count == 0 || pc < t.base || pc - t.base > 0xffffffffu) return nullptr;
  u32 off = static_cast<u32>(pc - t.base);
  usize lo = 0, hi = t.count;  // the first row with pc_offset > off is at lo
  while (lo < hi) {
    usize mid = lo + (hi - lo) / 2;
    if (t.entries[mid].pc_offset <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo == 0 ? nullptr : &t.entries[lo - 1];
}

void unwind(const UnwindTable& table, FrameRegs start, const StackRange* ranges, usize nranges, Read64 read, void* ctx,
            Frames* out) {
  out->count = 0;
  u64 pc = start.rip, sp = start.rsp, bp = start.rbp;
  bool exact = true;
  out->pc[0] = pc;
  out->exact[0] = true;
  out->count = 1;
  const StackRange* stack = stack_of(sp, ranges, nranges);
  if (stack == nullptr) {
    out->end = "stack pointer outside this CPU's stacks";
    return;
  }
  for (;;) {
    if (out->count == kMaxFrames) {
      out->end = "frame limit reached";
      return;
    }
    const UnwindEntry* e = find_unwind_entry(table, exact ? pc : pc - 1);
    if (e == nullptr || (e->flags & kUwNoInfo) != 0) {
      out->end = "no call-frame information for this pc";
      return;
    }
    if ((e->flags & kUwEnd) != 0) {
      out->end = "end of the call chain";
      return;
    }
    u64 cfa = ((e->flags & kUwCfaRbp) != 0 ? bp : sp) + static_cast<u64>(static_cast<i64>(e->cfa_offset));
    // Every slot of this frame lies on the stack its stack pointer is on.
    u64 ra_at = cfa + static_cast<u64>(static_cast<i64>(e->ra_offset));
    u64 ra = 0;
    if (!inside(stack, ra_at, 8)) {
      out->end = "return address outside the stack";
      return;
    }
    if (!read(ra_at, &ra, ctx)) {
      out->end = "stack unreadable";
      return;
    }
    u64 next_bp = bp;
    if ((e->flags & kUwRbpSaved) != 0) {
      u64 at = cfa + static_cast<u64>(static_cast<i64>(e->rbp_offset));
      // A slot below the stack pointer has been popped already (an epilogue's `ret` after
      // `pop rbp`): rbp holds the caller's value again, and the slot may have been
      // overwritten since (an exception frame pushed on the same stack).
      if (at >= sp) {
        if (!inside(stack, at, 8) || !read(at, &next_bp, ctx)) {
          out->end = "saved frame pointer outside the stack";
          return;
        }
      }
    }
    u64 next_sp = cfa;
    if ((e->flags & kUwRspSaved) != 0) {
      u64 at = cfa + static_cast<u64>(static_cast<i64>(e->rsp_offset8) * 8);
      if (!inside(stack, at, 8) || !read(at, &next_sp, ctx)) {
        out->end = "saved stack pointer outside the stack";
        return;
      }
    }
    if (ra == 0) {
      out->end = "end of the call chain";  // the zero return address entry code pushes
      return;
    }
    bool signal = (e->flags & kUwSignal) != 0;
    const StackRange* next_stack = stack_of(next_sp, ranges, nranges);
    if (!signal) {
      // A call's frame is above its callee's, on the same stack.
      if (next_sp <= sp || next_stack != stack) {
        out->end = next_sp <= sp ? "stack pointer did not move up" : "frame left the stack";
        return;
      }
    }
    out->pc[out->count] = ra;
    out->exact[out->count] = signal;
    ++out->count;
    if (next_stack == nullptr) {
      out->end = "interrupted on a stack this CPU does not own";
      return;
    }
    pc = ra;
    sp = next_sp;
    bp = next_bp;
    exact = signal;
    stack = next_stack;
  }
}

}  // namespace debug
