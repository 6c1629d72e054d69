// The debug registers (SDM Vol. 3A 18.2, Figures 18-1 and 18-2), portable so the DR7
// encoding and the checks on a breakpoint request are host-tested.
#pragma once
#include "lib/bits.hpp"

namespace debug {

constexpr unsigned kDebugRegs = 4;  // DR0-DR3

enum class BpKind : u8 { Exec, Write, ReadWrite };

struct BpSlot {
  bool used;
  BpKind kind;
  u8 len;  // 1, 2, 4 or 8 bytes (Exec: 1)
  u64 addr;
};

// DR7 (Figure 18-2): Ln (local enable) at bit 2n, R/Wn at 16 + 4n, LENn at 18 + 4n.
constexpr u64 dr7_local_enable(unsigned n) { return u64{1} << (2 * n); }
constexpr unsigned dr7_rw_shift(unsigned n) { return 16 + 4 * n; }
constexpr unsigned dr7_len_shift(unsigned n) { return 18 + 4 * n; }
constexpr u64 kDr7Reserved1 = u64{1} << 10;  // bit 10 reads as 1
// R/W encodings (18.2.4): 00 execution, 01 data writes, 11 data reads or writes.
constexpr u64 kRwExec = 0, kRwWrite = 1, kRwReadWrite = 3;
// LEN encodings (18.2.5): 00 1 byte, 01 2 bytes, 11 4 bytes, 10 8 bytes.
constexpr u64 len_code(u8 len) { return len == 2 ? 1 : len == 4 ? 3 : len == 8 ? 2 : 0; }

// DR6 (Figure 18-1): Bn (bit n) = breakpoint n met, BS (bit 14) = single step.
constexpr u64 kDr6Bs = u64{1} << 14;
constexpr u64 dr6_hit(unsigned n) { return u64{1} << n; }
constexpr u64 kDr6Clear = 0xffff0ff0;  // the value that clears every status bit

// RFLAGS bits used by single-step and resuming past a breakpoint (SDM Vol. 3A 2.3).
constexpr u64 kRflagsTf = u64{1} << 8;   // trap after each instruction
constexpr u64 kRflagsRf = u64{1} << 16;  // suppress instruction breakpoints for one instruction

constexpr u64 dr7_for(const BpSlot* slots) {
  u64 v = kDr7Reserved1;
  for (unsigned n = 0; n < kDebugRegs; ++n) {
    if (!slots[n].used) continue;
    u64 rw = slots[n].kind == BpKind::Exec ? kRwExec : slots[n].kind == BpKind::Write ? kRwWrite : kRwReadWrite;
    u64 len = slots[n].kind == BpKind::Exec ? 0 : len_code(slots[n].len);
    v |= dr7_local_enable(n) | (rw << dr7_rw_shift(n)) | (len << dr7_len_shift(n));
  }
  return v;
}

// Why a request cannot be a breakpoint, or nullptr if it can: the address must be
// canonical, an execution breakpoint has length 1, a data breakpoint 1, 2, 4 or 8 bytes
// aligned to its length (18.2.5: the CPU ignores low address bits otherwise).
constexpr const char* check_request(BpKind kind, u64 addr, u8 len) {
  u64 top = addr >> 47;
  if (top != 0 && top != 0x1ffff) return "address is not canonical";
  if (kind == BpKind::Exec) return len == 1 ? nullptr : "an execution breakpoint has no length";
  if (len != 1 && len != 2 && len != 4 && len != 8) return "length must be 1, 2, 4 or 8";
  if ((addr & (len - 1)) != 0) return "address must be aligned to the length";
  return nullptr;
}

}  // namespace debug
