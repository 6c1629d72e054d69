// Backtraces from the compiler's call-frame information, right at every instruction
// (portable: host-tested with synthetic tables and corrupt stacks).
//
// The build turns every FDE of the kernel's .debug_frame (clang's CFI for the C++, the
// hand-written CFI of arch/cfi.inc for the NASM) into a compact table sorted by address
// (scripts/gen_unwind.py, in the spirit of Linux's ORC): for each address range, how to
// find the CFA (rsp or rbp plus an offset), where the return address, the caller's rbp and
// (for a trap frame) the interrupted rsp are saved relative to it. A function's entry, its
// prologue, its epilogue and code interrupted anywhere unwind alike; a trap frame (an
// interrupt or exception stub, or the copy a shell runs under) leads to the interrupted
// code on whatever stack it was, and its pc is an exact instruction pointer, not a return
// address. Every read is bounded by the stacks the CPU owns; anything else ends the walk
// with a reason, never a fault.
#pragma once
#include "lib/types.hpp"

namespace debug {

// One row of the table (gen_unwind.py writes exactly this layout).
struct __attribute__((packed)) UnwindEntry {
  u32 pc_offset;   // from UnwindTable::base: the row holds from here to the next row
  i16 cfa_offset;  // CFA = (rbp if kUwCfaRbp, else rsp) + cfa_offset
  i16 ra_offset;   // the return address (or interrupted rip) is at [CFA + ra_offset]
  i16 rbp_offset;  // the caller's rbp is at [CFA + rbp_offset] if kUwRbpSaved, else rbp itself
  i8 rsp_offset8;  // the caller's rsp is at [CFA + 8 * rsp_offset8] if kUwRspSaved, else the CFA
  u8 flags;
};
static_assert(sizeof(UnwindEntry) == 12);
constexpr u8 kUwCfaRbp = 1 << 0;
constexpr u8 kUwRbpSaved = 1 << 1;
constexpr u8 kUwRspSaved = 1 << 2;
constexpr u8 kUwSignal = 1 << 3;  // a trap frame: the frame above it has an exact pc
constexpr u8 kUwEnd = 1 << 4;     // the return address is undefined: the outermost frame
constexpr u8 kUwNoInfo = 1 << 5;  // no FDE covers this range

struct UnwindTable {
  const UnwindEntry* entries;  // sorted by pc_offset
  usize count;
  u64 base;
};
// The row covering pc, or nullptr (before the first row, past the table's end).
const UnwindEntry* find_unwind_entry(const UnwindTable& t, u64 pc);

constexpr usize kMaxFrames = 32;
constexpr usize kMaxStackRanges = 6;  // kernel stack, three IST stacks, the shell's, the boot stack

struct StackRange {
  u64 lo, hi;  // [lo, hi)
};

struct Frames {
  u64 pc[kMaxFrames];
  // True where pc is an exact instruction pointer (frame 0; the frame a trap frame
  // interrupted), false for a return address, whose call is at pc - 1: symbols are looked
  // up there, as gdb does, so a call that ends a function names that function.
  bool exact[kMaxFrames];
  usize count;
  const char* end;  // why the walk stopped
};

// read64(addr, &v, ctx) reads a qword the caller knows is inside one of `ranges`.
using Read64 = bool (*)(u64 addr, u64* out, void* ctx);

struct FrameRegs {
  u64 rip, rsp, rbp;
};

void unwind(const UnwindTable& table, FrameRegs start, const StackRange* ranges, usize nranges, Read64 read, void* ctx,
            Frames* out);

// The address to look a frame's symbol up at.
inline u64 symbol_pc(const Frames& f, usize k) { return f.exact[k] ? f.pc[k] : f.pc[k] - 1; }

}  // namespace debug
