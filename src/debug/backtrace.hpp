// Frame-pointer backtraces bounded by the stacks a CPU owns (portable: host-tested with
// corrupt chains). Every kernel function keeps rbp as its frame pointer
// (-fno-omit-frame-pointer), so [rbp] is the caller's rbp and [rbp + 8] the return
// address. A frame is followed only while it lies inside one of the CPU's stacks and the
// chain moves up that stack; anything else ends the walk with a reason, never a fault.
#pragma once
#include "lib/types.hpp"

namespace debug {

constexpr usize kMaxFrames = 32;
constexpr usize kMaxStackRanges = 4;  // kernel stack and the three IST stacks

struct StackRange {
  u64 lo, hi;  // [lo, hi)
};

struct Frames {
  u64 pc[kMaxFrames];  // pc[0]: where the CPU was; then return addresses
  usize count;
  const char* end;  // why the walk stopped
};

// read64(addr, &v, ctx) reads a qword the caller knows is inside one of `ranges`.
using Read64 = bool (*)(u64 addr, u64* out, void* ctx);

void walk_frames(u64 rip, u64 rbp, const StackRange* ranges, usize nranges, Read64 read, void* ctx, Frames* out);

}  // namespace debug
