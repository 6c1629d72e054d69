// The debugger's portable parts: frame-pointer walks bounded by a CPU's stacks (good,
// corrupt, looping and escaping chains) and the DR7 encoding and request checks.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "debug/backtrace.hpp"
#include "debug/dr.hpp"

namespace {

struct Mem {
  std::map<u64, u64> q;
  static bool read(u64 addr, u64* out, void* ctx) {
    auto& m = static_cast<Mem*>(ctx)->q;
    auto it = m.find(addr);
    *out = it == m.end() ? 0 : it->second;
    return true;
  }
};

constexpr u64 kLo = 0xffffff8000002000, kHi = 0xffffff8000006000;
const debug::StackRange kStack[] = {{kLo, kHi}, {0xffffff8000007000, 0xffffff8000008000}};

}  // namespace

TEST(Backtrace, FollowsAGoodChainToTheZeroReturnAddress) {
  Mem m;
  // Three frames going up the stack, the outermost with a zero return address.
  m.q[kLo + 0x100] = kLo + 0x200;
  m.q[kLo + 0x108] = 0xffffffff80201111;
  m.q[kLo + 0x200] = kLo + 0x300;
  m.q[kLo + 0x208] = 0xffffffff80202222;
  m.q[kLo + 0x300] = 0;
  m.q[kLo + 0x308] = 0;
  debug::Frames f;
  debug::walk_frames(0xffffffff80200000, kLo + 0x100, kStack, 2, Mem::read, &m, &f);
  ASSERT_EQ(f.count, 3u);
  EXPECT_EQ(f.pc[0], 0xffffffff80200000u);
  EXPECT_EQ(f.pc[1], 0xffffffff80201111u);
  EXPECT_EQ(f.pc[2], 0xffffffff80202222u);
  EXPECT_STREQ(f.end, "end of the frame chain");
}

TEST(Backtrace, StopsAtFramesOutsideTheStacksLoopsAndMisalignment) {
  Mem m;
  debug::Frames f;
  debug::walk_frames(1, 0xffff800000001000, kStack, 2, Mem::read, &m, &f);  // the direct map, not a stack
  EXPECT_EQ(f.count, 1u);
  EXPECT_STREQ(f.end, "frame pointer outside this CPU's stacks");
  debug::walk_frames(1, kLo + 0x101, kStack, 2, Mem::read, &m, &f);
  EXPECT_STREQ(f.end, "frame pointer not aligned");
  debug::walk_frames(1, kHi - 8, kStack, 2, Mem::read, &m, &f);  // [rbp+8] past the top
  EXPECT_STREQ(f.end, "frame pointer outside this CPU's stacks");
  m.q[kLo + 0x100] = kLo + 0x100;  // points at itself
  m.q[kLo + 0x108] = 0x1234;
  debug::walk_frames(1, kLo + 0x100, kStack, 2, Mem::read, &m, &f);
  EXPECT_EQ(f.count, 2u);
  EXPECT_STREQ(f.end, "frame pointer did not move up the stack");
  m.q[kLo + 0x100] = 0xffffff8000007100;  // jumps to the IST stack
  debug::walk_frames(1, kLo + 0x100, kStack, 2, Mem::read, &m, &f);
  EXPECT_STREQ(f.end, "frame pointer left the stack");
}

TEST(Backtrace, RandomChainsNeverReadOutsideTheStacks) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    Mem m;
    for (int k = 0; k < 64; ++k) {
      u64 a = kLo + (rng() % ((kHi - kLo) / 8)) * 8;
      m.q[a] = rng() % 3 ? kLo + (rng() % (kHi - kLo)) : rng();
    }
    struct Ctx {
      Mem* m;
      bool bad;
    } ctx{&m, false};
    auto read = [](u64 addr, u64* out, void* c) {
      auto* x = static_cast<Ctx*>(c);
      if (addr < kLo || addr + 8 > kHi) x->bad = true;
      return Mem::read(addr, out, x->m);
    };
    debug::Frames f;
    debug::walk_frames(rng(), kLo + (rng() % (kHi - kLo)), kStack, 1, read, &ctx, &f);
    EXPECT_FALSE(ctx.bad);
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
