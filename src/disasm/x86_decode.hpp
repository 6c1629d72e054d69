// x86 instruction decoder and AT&T formatter: portable, no allocation, no libc.
// The text is what LLVM 14's `llvm-objdump -d` prints for the instruction (mnemonic, a
// tab, the operands; prefix pseudo-instructions such as "rep\t\tmovsb"), minus its
// trailing "# comment" and "<symbol>" annotations, so test/host/disasm_test.cpp compares
// strings directly. Branch targets and RIP-relative addresses are handed back as
// numbers (Insn::ref) so the caller can append "<symbol+off>" itself.
// Opcode maps: Intel SDM Vol. 2D, Appendix A ("Opcode Map").
#pragma once
#include "lib/types.hpp"

namespace disasm {

// The processor mode the bytes run in: selects default operand and address sizes
// (SDM Vol. 1 3.6 "Operand-size and address-size attributes") and whether 40-4F are REX.
enum class Mode : u8 { Real16, Prot32, Long64 };

// What Insn::ref holds.
enum class Ref : u8 {
  None,
  Branch,  // target of a relative jmp/jcc/call/loop (printed as "0x..." in text)
  Memory,  // RIP-relative memory operand address ("disp(%rip)" in text)
};

// The architectural limit (SDM Vol. 2A 2.3.11 "AVX Instruction Length"): longer is #UD.
constexpr usize kMaxInsnBytes = 15;
constexpr usize kTextBytes = 96;

struct Insn {
  u8 len = 0;              // bytes consumed; 1 when bad, so a caller always makes progress
  bool bad = false;        // undecodable or truncated: text is "(bad)"
  bool truncated = false;  // ran out of the `avail` bytes before the instruction ended
  Ref ref_kind = Ref::None;
  u64 ref = 0;  // branch target or RIP-relative address (see Ref)
  char text[kTextBytes] = {};
};

// Decodes one instruction at `bytes` (which the CPU would fetch at `addr`), reading at
// most `avail` bytes. Returns !out->bad.
bool decode(const u8* bytes, usize avail, u64 addr, Mode mode, Insn* out);

}  // namespace disasm
