// Disassembly lines (disasm/format): the address, the containing symbol, the bytes, the
// decoder's text and llvm-objdump's annotations (branch target, RIP-relative address,
// large immediate), from decoded bytes, with and without symbols.
#include "disasm/format.hpp"
#include "fake_symbols.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

class StrSink final : public lib::Sink {
 public:
  void write(const char* s, usize n) override { data.append(s, n); }
  std::string data;
};

const auto& kSyms = test::kFakeSymbols;
const disasm::Symbols kNoSyms{nullptr, nullptr};

// The line for the instruction at the start of `bytes`, fetched at addr.
std::string line(u64 addr, const std::vector<u8>& bytes, const disasm::Symbols& syms,
                 disasm::Mode mode = disasm::Mode::Long64) {
  disasm::Insn insn;
  disasm::decode(bytes.data(), bytes.size(), addr, mode, &insn);
  StrSink out;
  disasm::format_insn(out, addr, bytes.data(), insn, syms);
  return out.data;
}

TEST(FormatInsn, PrefixBytesAndText) {
  EXPECT_EQ(line(0x1000, {0x55}, kSyms), "0x0000000000001000 func+0x0: 55  pushq\t%rbp\n");
  EXPECT_EQ(line(0x1000, {0x55}, kNoSyms), "0x0000000000001000: 55  pushq\t%rbp\n");
  EXPECT_EQ(line(0x7c00, {0xfa}, kNoSyms, disasm::Mode::Real16), "0x0000000000007c00: fa  cli\n");
}

TEST(FormatInsn, BranchTargetAndRipOperandNamedByNearest) {
  EXPECT_EQ(line(0x1001, {0xe8, 0xfa, 0xff, 0xff, 0xff}, kSyms),
            "0x0000000000001001 func+0x1: e8 fa ff ff ff  callq\t0x1000 <func>\n");
  EXPECT_EQ(line(0x1006, {0x48, 0x8b, 0x05, 0xf3, 0x0f, 0x00, 0x00}, kSyms),
            "0x0000000000001006 func+0x6: 48 8b 05 f3 0f 00 00  movq\t4083(%rip), %rax # 0x2000 <ns::g_data>\n");
  // Outside every symbol: the target as a number only; the RIP comment without a name.
  EXPECT_EQ(line(0x9000, {0xe9, 0x00, 0x10, 0x00, 0x00}, kSyms), "0x0000000000009000: e9 00 10 00 00  jmp\t0xa005\n");
  EXPECT_EQ(line(0x9000, {0x48, 0x8b, 0x05, 0x00, 0x00, 0x00, 0x00}, kSyms),
            "0x0000000000009000: 48 8b 05 00 00 00 00  movq\t(%rip), %rax # 0x9007\n");
}

TEST(FormatInsn, ImmCommentReplacesTheRipComment) {
  // movq $-2145274889, 0x10(%rip): objdump prints "# imm = 0x8021B3F7" and no target.
  EXPECT_EQ(line(0x1000, {0x48, 0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0xf7, 0xb3, 0x21, 0x80}, kSyms),
            "0x0000000000001000 func+0x0: 48 c7 05 10 00 00 00 f7 b3 21 80  movq\t$-2145274889, 16(%rip) # imm = "
            "0x8021B3F7\n");
  EXPECT_EQ(line(0x100b, {0x66, 0x81, 0xc0, 0x00, 0xf0}, kSyms),
            "0x000000000000100b func+0xb: 66 81 c0 00 f0  addw\t$61440, %ax # imm = 0xF000\n");
  // At most 255 (and -256): no comment.
  EXPECT_EQ(line(0x1000, {0x48, 0x83, 0xec, 0x20}, kSyms),
            "0x0000000000001000 func+0x0: 48 83 ec 20  subq\t$32, %rsp\n");
}

TEST(FormatInsn, TextIsTheLineAfterTheBytes) {
  std::vector<u8> b = {0xe8, 0xfa, 0xff, 0xff, 0xff};
  disasm::Insn insn;
  disasm::decode(b.data(), b.size(), 0x1001, disasm::Mode::Long64, &insn);
  StrSink text;
  disasm::format_insn_text(text, insn, kSyms);
  EXPECT_EQ(text.data, "callq\t0x1000 <func>");
  EXPECT_EQ(line(0x1001, b, kSyms), "0x0000000000001001 func+0x1: e8 fa ff ff ff  " + text.data + "\n");
}

TEST(FormatInsn, BadBytesGetNoAnnotation) {
  // A lone 0xff (its ModRM cut off) is "(bad)" of length 1.
  std::vector<u8> b = {0xff};
  disasm::Insn insn;
  disasm::decode(b.data(), b.size(), 0x1000, disasm::Mode::Long64, &insn);
  ASSERT_TRUE(insn.bad);
  EXPECT_EQ(line(0x1000, b, kSyms), "0x0000000000001000 func+0x0: ff  (bad)\n");
}

TEST(PutSymbol, NameOffsetOrNothing) {
  StrSink out;
  disasm::put_symbol(out, test::fake_containing, 0x1000, " <", ">");
  disasm::put_symbol(out, test::fake_containing, 0x2012, " <", ">");
  disasm::put_symbol(out, test::fake_containing, 0x9000, " <", ">");
  disasm::put_symbol(out, nullptr, 0x1000, " <", ">");
  EXPECT_EQ(out.data, " <func> <ns::g_data+0x12>");
}

}  // namespace
