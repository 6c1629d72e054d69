// The debugger's portable parts: unwinding by the call-frame table at every kind of stop
// point (entry, prologue, body, epilogue, across a trap frame to another stack), bounded by
// a CPU's stacks whatever the memory holds; and the DR7 encoding and request checks.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "debug/backtrace.hpp"
#include "debug/dr.hpp"

namespace {

using debug::UnwindEntry;

struct Mem {
  std::map<u64, u64> q;
  static bool read(u64 addr, u64* out, void* ctx) {
    auto& m = static_cast<Mem*>(ctx)->q;
    auto it = m.find(addr);
    *out = it == m.end() ? 0 : it->second;
    return true;
  }
};

constexpr u64 kBase = 0xffffffff80000000;
constexpr u64 kLo = 0xffffff8000002000, kHi = 0xffffff8000006000;        // the kernel stack
constexpr u64 kIstLo = 0xffffff8000007000, kIstHi = 0xffffff8000008000;  // an IST stack
const debug::StackRange kStacks[] = {{kLo, kHi}, {kIstLo, kIstHi}};

// Rows as clang's CFI gives them for `push rbp; mov rbp, rsp; ...; pop rbp; ret` at f.
constexpr UnwindEntry row(u64 pc, i16 cfa, u8 flags, i16 rbp = 0, i16 ra = -8, i8 rsp8 = 0) {
  return UnwindEntry{static_cast<u32>(pc - kBase), cfa, ra, rbp, rsp8, flags};
}
constexpr u64 kF = 0xffffffff80201000, kG = 0xffffffff80202000, kH = 0xffffffff80203000, kIsr = 0xffffffff80204000;
constexpr i64 kTfSize = 176, kTfRip = 136, kTfRsp = 160, kTfRbp = 64;  // arch::TrapFrame
const UnwindEntry kRows[] = {
    row(kF, 8, 0),                                                // f+0: entry
    row(kF + 1, 16, debug::kUwRbpSaved, -16),                     // f+1: after push rbp
    row(kF + 4, 16, debug::kUwCfaRbp | debug::kUwRbpSaved, -16),  // body
    row(kF + 0x40, 8, debug::kUwRbpSaved, -16),                   // f+0x40: ret, after pop rbp
    row(kF + 0x41, 0, debug::kUwNoInfo),                          // padding
    row(kG, 8, 0),
    row(kG + 1, 16, debug::kUwRbpSaved, -16),
    row(kG + 4, 16, debug::kUwCfaRbp | debug::kUwRbpSaved, -16),
    row(kG + 0x80, 0, debug::kUwNoInfo),
    row(kH, 0, debug::kUwEnd),  // an entry point: the outermost frame
    row(kH + 0x20, 0, debug::kUwNoInfo),
    // A trap frame at rsp: the interrupted rip, rsp and rbp are saved in it.
    row(kIsr, static_cast<i16>(kTfSize), debug::kUwSignal | debug::kUwRbpSaved | debug::kUwRspSaved,
        static_cast<i16>(kTfRbp - kTfSize), static_cast<i16>(kTfRip - kTfSize),
        static_cast<i8>((kTfRsp - kTfSize) / 8)),
    row(kIsr + 0x40, 0, debug::kUwNoInfo),
};
const debug::UnwindTable kTable{kRows, sizeof kRows / sizeof kRows[0], kBase};

debug::Frames run(Mem& m, u64 rip, u64 rsp, u64 rbp) {
  debug::Frames f;
  debug::unwind(kTable, {rip, rsp, rbp}, kStacks, 2, Mem::read, &m, &f);
  return f;
}

}  // namespace

TEST(Unwind, FindsTheRowCoveringAPc) {
  EXPECT_EQ(debug::find_unwind_entry(kTable, kF - 1), nullptr);
  EXPECT_EQ(debug::find_unwind_entry(kTable, kF), &kRows[0]);
  EXPECT_EQ(debug::find_unwind_entry(kTable, kF + 3), &kRows[1]);
  EXPECT_EQ(debug::find_unwind_entry(kTable, kF + 0x3f), &kRows[2]);
  EXPECT_EQ(debug::find_unwind_entry(kTable, kIsr + 0x1000), &kRows[12]);  // past the end: no info
  EXPECT_EQ(debug::find_unwind_entry(kTable, 0x1000), nullptr);
  EXPECT_EQ(debug::find_unwind_entry(debug::UnwindTable{nullptr, 0, kBase}, kF), nullptr);
}

// h (outermost) calls g at h+0x10, g calls f at g+0x30; f's frame is where it stopped.
struct Chain {
  Mem m;
  u64 g_rbp = kLo + 0x3f0;  // g's frame: [rbp] = h's rbp, [rbp + 8] = return into h
  Chain() {
    m.q[g_rbp] = 0;
    m.q[g_rbp + 8] = kH + 0x10;
  }
};

TEST(Unwind, InTheBodyFollowsTheFramePointers) {
  Chain c;
  u64 f_rbp = kLo + 0x300;
  c.m.q[f_rbp] = c.g_rbp;
  c.m.q[f_rbp + 8] = kG + 0x35;
  debug::Frames f = run(c.m, kF + 0x20, f_rbp - 0x20, f_rbp);
  ASSERT_EQ(f.count, 3u);
  EXPECT_EQ(f.pc[1], kG + 0x35);
  EXPECT_EQ(f.pc[2], kH + 0x10);
  EXPECT_TRUE(f.exact[0]);
  EXPECT_FALSE(f.exact[1]);
  EXPECT_EQ(debug::symbol_pc(f, 1), kG + 0x34);  // looked up at the call
  EXPECT_STREQ(f.end, "end of the call chain");
}

TEST(Unwind, AtTheFirstInstructionTheCallerIsNotLost) {
  // Before `push rbp`, rbp is still g's and the return address is at [rsp]: a frame-pointer
  // walk would skip g; the CFI does not.
  Chain c;
  u64 sp = kLo + 0x2f8;
  c.m.q[sp] = kG + 0x35;
  debug::Frames f = run(c.m, kF, sp, c.g_rbp);
  ASSERT_EQ(f.count, 3u) << f.end;
  EXPECT_EQ(f.pc[1], kG + 0x35);
  EXPECT_EQ(f.pc[2], kH + 0x10);
  // Mid-prologue: rbp pushed, not yet moved.
  c.m.q[sp - 8] = c.g_rbp;
  f = run(c.m, kF + 1, sp - 8, c.g_rbp);
  ASSERT_EQ(f.count, 3u) << f.end;
  EXPECT_EQ(f.pc[1], kG + 0x35);
}

TEST(Unwind, AtRetAPoppedSlotIsNotRead) {
  // `pop rbp` ran: rbp is g's again, and the slot below rsp was overwritten (here with
  // junk, as an exception frame pushed on this stack would).
  Chain c;
  u64 sp = kLo + 0x2f8;
  c.m.q[sp] = kG + 0x35;
  c.m.q[sp - 8] = 0xdeadbeef;
  debug::Frames f = run(c.m, kF + 0x40, sp, c.g_rbp);
  ASSERT_EQ(f.count, 3u) << f.end;
  EXPECT_EQ(f.pc[2], kH + 0x10);
}

TEST(Unwind, ATrapFrameLeadsToTheInterruptedCodeOnItsStack) {
  // isr_common called g (on the IST stack) after an NMI interrupted f on the kernel stack.
  Chain c;
  u64 f_rbp = kLo + 0x300;
  c.m.q[f_rbp] = c.g_rbp;
  c.m.q[f_rbp + 8] = kG + 0x35;
  u64 tf = kIstHi - static_cast<u64>(kTfSize);  // the trap frame at the top of the IST stack
  c.m.q[tf + kTfRip] = kF;                      // interrupted at f's first instruction: an exact pc
  c.m.q[tf + kTfRsp] = f_rbp + 8;
  c.m.q[tf + kTfRbp] = c.g_rbp;
  c.m.q[f_rbp + 8] = kG + 0x35;  // f's return address at its rsp
  u64 g2_rbp = tf - 0x10;        // the handler's frame below the trap frame
  c.m.q[g2_rbp] = 0;
  c.m.q[g2_rbp + 8] = kIsr + 0x2e;  // return into isr_common
  debug::Frames f = run(c.m, kG + 0x50, g2_rbp - 0x20, g2_rbp);
  ASSERT_EQ(f.count, 5u) << f.end;
  EXPECT_EQ(f.pc[1], kIsr + 0x2e);
  EXPECT_EQ(f.pc[2], kF);
  EXPECT_TRUE(f.exact[2]);  // not a return address: looked up at f itself, not f - 1
  EXPECT_EQ(debug::symbol_pc(f, 2), kF);
  EXPECT_EQ(f.pc[3], kG + 0x35);
  EXPECT_EQ(f.pc[4], kH + 0x10);
}

TEST(Unwind, StopsWithAReason) {
  Mem m;
  EXPECT_STREQ(run(m, kF + 0x20, 0xffff800000001000, 0).end, "stack pointer outside this CPU's stacks");
  EXPECT_STREQ(run(m, 0x1234, kLo + 0x100, 0).end, "no call-frame information for this pc");
  EXPECT_STREQ(run(m, kF + 0x41, kLo + 0x100, 0).end, "no call-frame information for this pc");
  EXPECT_STREQ(run(m, kH + 4, kLo + 0x100, 0).end, "end of the call chain");
  // rbp outside the stacks: the return-address slot is not read.
  EXPECT_STREQ(run(m, kF + 0x20, kLo + 0x100, 0xffff800000001000).end, "return address outside the stack");
  // A frame whose caller's frame is below it on the stack.
  u64 rbp = kLo + 0x300;
  m.q[rbp] = kLo + 0x200;
  m.q[rbp + 8] = kG + 0x35;
  m.q[kLo + 0x200 + 8] = kG + 0x35;
  debug::Frames f = run(m, kF + 0x20, rbp - 0x10, rbp);
  EXPECT_EQ(f.count, 2u);
  EXPECT_STREQ(f.end, "stack pointer did not move up");
  // Recursion deeper than the frame limit.
  Mem r;
  for (u64 a = kLo + 0x100; a < kHi - 0x20; a += 0x10) {
    r.q[a] = a + 0x10;
    r.q[a + 8] = kG + 0x35;
  }
  f = run(r, kG + 0x20, kLo + 0xf0, kLo + 0x100);
  EXPECT_EQ(f.count, debug::kMaxFrames);
  EXPECT_STREQ(f.end, "frame limit reached");
}

TEST(Unwind, RandomStacksNeverReadOutsideThem) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 3000; ++iter) {
    Mem m;
    const u64 pcs[] = {kF, kF + 1, kF + 0x20, kF + 0x40, kG + 0x10, kH + 1, kIsr + 2, 0x42};
    for (int k = 0; k < 64; ++k) {
      bool ist = rng() % 4 == 0;
      u64 lo = ist ? kIstLo : kLo, hi = ist ? kIstHi : kHi;
      u64 a = lo + (rng() % ((hi - lo) / 8)) * 8;
      u64 v = rng() % 3 == 0 ? pcs[rng() % 8] : rng() % 3 ? lo + (rng() % (hi - lo)) : rng();
      m.q[a] = v;
    }
    struct Ctx {
      Mem* m;
      bool bad;
    } ctx{&m, false};
    auto read = [](u64 addr, u64* out, void* c) {
      auto* x = static_cast<Ctx*>(c);
      bool in = (addr >= kLo && addr + 8 <= kHi) || (addr >= kIstLo && addr + 8 <= kIstHi);
      if (!in) x->bad = true;
      return Mem::read(addr, out, x->m);
    };
    debug::Frames f;
    u64 sp = (rng() % 2 ? kLo : kIstLo) + (rng() % 0x1000);
    debug::unwind(kTable, {pcs[rng() % 8], sp, kLo + (rng() % (kHi - kLo))}, kStacks, 2, read, &ctx, &f);
    EXPECT_FALSE(ctx.bad);
    EXPECT_GE(f.count, 1u);
    EXPECT_LE(f.count, debug::kMaxFrames);
    EXPECT_NE(f.end, nullptr);
  }
}

TEST(DebugRegisters, Dr7Encoding) {
  debug::BpSlot s[4] = {};
  EXPECT_EQ(debug::dr7_for(s), 0x400u);  // bit 10 only
  s[0] = {true, debug::BpKind::Exec, 1, 0xffffffff80200000};
  EXPECT_EQ(debug::dr7_for(s), 0x401u);  // L0, R/W0 = 00, LEN0 = 00
  s[2] = {true, debug::BpKind::Write, 8, 0xffffff8000000040};
  // L2 (bit 4), R/W2 = 01 at bits 24-25, LEN2 = 10 (8 bytes) at bits 26-27.
  EXPECT_EQ(debug::dr7_for(s), 0x401u | 0x10u | (1u << 24) | (2u << 26));
  s[3] = {true, debug::BpKind::ReadWrite, 4, 0x1000};
  EXPECT_EQ(debug::dr7_for(s) >> 28, 0x3u | (0x3u << 2));  // R/W3 = 11, LEN3 = 11
  s[1] = {true, debug::BpKind::Write, 2, 0x1000};
  EXPECT_EQ((debug::dr7_for(s) >> 20) & 0xf, 0x1u | (0x1u << 2));  // R/W1 = 01, LEN1 = 01
}

TEST(DebugRegisters, RequestChecks) {
  using debug::BpKind;
  EXPECT_EQ(debug::check_request(BpKind::Exec, 0xffffffff80200000, 1), nullptr);
  EXPECT_NE(debug::check_request(BpKind::Exec, 0x0000800000000000, 1), nullptr);  // not canonical
  EXPECT_NE(debug::check_request(BpKind::Exec, 0xffffffff80200000, 4), nullptr);
  EXPECT_EQ(debug::check_request(BpKind::Write, 0x1008, 8), nullptr);
  EXPECT_NE(debug::check_request(BpKind::Write, 0x1004, 8), nullptr);  // misaligned
  EXPECT_NE(debug::check_request(BpKind::ReadWrite, 0x1000, 3), nullptr);
  EXPECT_NE(debug::check_request(BpKind::Write, 0x1000, 0), nullptr);
}
