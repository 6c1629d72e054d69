// The examine formats (monitor/examine): spec parsing, every value format and unit,
// strings, the plain byte dump, disassembly runs (the line format itself:
// disasm_format_test), refusals at the edge of readable memory (one error line, never a
// read past it), and the -j views' JSON of the same data.
#include "monitor/examine.hpp"
#include "fake_symbols.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace monitor;

namespace {

class StrSink final : public lib::Sink {
 public:
  void write(const char* s, usize n) override { data.append(s, n); }
  std::string data;
};

// Readable bytes [base, base + bytes.size()); everything else is refused.
class FakeMemory final : public ExMemory {
 public:
  FakeMemory(u64 base, std::vector<u8> bytes) : base_(base), bytes_(std::move(bytes)) { why = "is not mapped"; }
  usize read(u64 addr, u8* buf, usize n) override {
    usize got = 0;
    while (got < n && addr + got >= base_ && addr + got < base_ + bytes_.size()) {
      buf[got] = bytes_[addr + got - base_];
      ++got;
    }
    if (got != 0) max_read_end = std::max<u64>(max_read_end, addr + got);
    return got;
  }
  u64 max_read_end = 0;

 private:
  u64 base_;
  std::vector<u8> bytes_;
};

const auto& kSyms = test::kFakeSymbols;

ExSpec spec(const char* s) {
  ExSpec sp;
  EXPECT_TRUE(parse_ex_spec(s, &sp)) << s;
  return sp;
}

TEST(ExSpec, UnitsFormatsAndDefaults) {
  ExSpec s = spec("");
  EXPECT_EQ(s.unit, 4);
  EXPECT_EQ(s.format, ExFormat::Hex);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(spec("g").unit, 8);
  EXPECT_EQ(spec("gx").unit, 8);
  EXPECT_EQ(spec("xg").unit, 8);
  EXPECT_EQ(spec("bd").format, ExFormat::Signed);
  EXPECT_EQ(spec("hu").unit, 2);
  EXPECT_EQ(spec("hu").format, ExFormat::Unsigned);
  EXPECT_EQ(spec("c").unit, 1);
  EXPECT_EQ(spec("bc").format, ExFormat::Char);
  EXPECT_EQ(spec("s").format, ExFormat::String);
  EXPECT_EQ(spec("a").unit, 8);
  EXPECT_EQ(spec("ga").format, ExFormat::Address);
  s = spec("8gx");
  EXPECT_EQ(s.count, 8u);
  EXPECT_EQ(s.unit, 8);
  EXPECT_EQ(spec("i").format, ExFormat::Insn);
  EXPECT_EQ(spec("i").mode, disasm::Mode::Long64);
  EXPECT_EQ(spec("i16").mode, disasm::Mode::Real16);
  EXPECT_EQ(spec("i32").mode, disasm::Mode::Prot32);
  EXPECT_EQ(spec("i64").mode, disasm::Mode::Long64);
  EXPECT_EQ(spec("4i16").count, 4u);
  EXPECT_TRUE(spec("4i16").has_count);
  EXPECT_FALSE(spec("gx").has_count);
}

TEST(ExSpec, AnyCountParsesAndIsRangeCheckedByTheCaller) {
  // x/0gx and x/100000gx are well-formed: their count is out of range, which the command
  // reports exactly as for `x/gx <addr> 100000`.
  ExSpec s = spec("0x");
  EXPECT_TRUE(s.has_count);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(spec("100000gx").count, 100000u);
  EXPECT_EQ(spec("99999999999999999999999x").count, kCountSaturated);
  EXPECT_EQ(spec("18446744073709551615x").count, kCountSaturated);
  EXPECT_EQ(spec("18446744073709551614x").count, 18446744073709551614u);
}

TEST(ExSpec, Refused) {
  ExSpec s;
  for (const char* bad : {"q", "gg", "xx", "gb", "xd", "gc", "wa", "gs", "gi", "i8", "i1", "g4", "x ", "ii", "i16i"}) {
    EXPECT_FALSE(parse_ex_spec(bad, &s)) << bad;
  }
}

std::string run(FakeMemory& mem, u64 addr, const char* sp, u64 count) {
  StrSink out;
  examine(out, mem, addr, spec(sp), count, kSyms);
  return out.data;
}

std::vector<u8> iota(usize n) {
  std::vector<u8> v(n);
  for (usize i = 0; i < n; ++i) v[i] = static_cast<u8>(i);
  return v;
}

TEST(Examine, HexEveryUnit) {
  FakeMemory mem(0xffffffff80200000ULL, iota(64));
  EXPECT_EQ(run(mem, 0xffffffff80200000ULL, "bx", 3), "0xffffffff80200000: 0x00 0x01 0x02\n");
  EXPECT_EQ(run(mem, 0xffffffff80200000ULL, "hx", 2), "0xffffffff80200000: 0x0100 0x0302\n");
  EXPECT_EQ(run(mem, 0xffffffff80200000ULL, "wx", 1), "0xffffffff80200000: 0x03020100\n");
  EXPECT_EQ(run(mem, 0xffffffff80200000ULL, "gx", 3),
            "0xffffffff80200000: 0x0706050403020100 0x0f0e0d0c0b0a0908\n"
            "0xffffffff80200010: 0x1716151413121110\n");
  // 16 bytes a line.
  std::string b = run(mem, 0xffffffff80200000ULL, "bx", 17);
  EXPECT_EQ(b.substr(0, b.find('\n')),
            "0xffffffff80200000: 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 0x09 0x0a 0x0b 0x0c 0x0d 0x0e 0x0f");
  EXPECT_EQ(b.substr(b.find('\n') + 1), "0xffffffff80200010: 0x10\n");
}

TEST(Examine, SignedUnsignedChar) {
  FakeMemory mem(0x100, {0xff, 0xfe, 0x80, 0x7f, 'A', '\n', '\'', 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(run(mem, 0x100, "bd", 4), "0x0000000000000100: -1 -2 -128 127\n");
  EXPECT_EQ(run(mem, 0x100, "bu", 4), "0x0000000000000100: 255 254 128 127\n");
  EXPECT_EQ(run(mem, 0x100, "hd", 2), "0x0000000000000100: -257 32640\n");
  EXPECT_EQ(run(mem, 0x100, "wd", 1), "0x0000000000000100: 2139160319\n");
  EXPECT_EQ(run(mem, 0x108, "gd", 1), "0x0000000000000108: -1\n");
  EXPECT_EQ(run(mem, 0x108, "gu", 1), "0x0000000000000108: 18446744073709551615\n");
  EXPECT_EQ(run(mem, 0x100, "c", 8), "0x0000000000000100: '\\xff' '\\xfe' '\\x80' '\\x7f' 'A' '\\n' '\\'' '\\x00'\n");
}

TEST(Examine, Address) {
  std::vector<u8> v(16);
  u64 a = 0x1004, b = 0x5000;
  memcpy(v.data(), &a, 8);
  memcpy(v.data() + 8, &b, 8);
  FakeMemory mem(0x2000, v);
  EXPECT_EQ(run(mem, 0x2000, "a", 2),
            "0x0000000000002000: 0x0000000000001004 <func+0x4>\n0x0000000000002008: 0x0000000000005000\n");
}

TEST(Examine, Strings) {
  std::vector<u8> v = {'h', 'i', 0, 'a', '"', '\\', '\t', 1, 0, 'x', 'y'};
  FakeMemory mem(0x3000, v);
  EXPECT_EQ(run(mem, 0x3000, "s", 2), "0x0000000000003000: \"hi\"\n0x0000000000003003: \"a\\\"\\\\\\t\\x01\"\n");
  // Runs off the readable end: what it read, then one error line.
  EXPECT_EQ(run(mem, 0x3009, "s", 1), "0x0000000000003009: \"xy\"\nerror: 0x000000000000300b is not mapped\n");
  EXPECT_EQ(run(mem, 0x4000, "s", 1), "error: 0x0000000000004000 is not mapped\n");
  EXPECT_EQ(mem.max_read_end, 0x300bu);
  // A string without an end stops at the limit.
  FakeMemory big(0x10000, std::vector<u8>(kMaxStringBytes + 10, 'z'));
  std::string s = run(big, 0x10000, "s", 1);
  EXPECT_EQ(s.size(), strlen("0x0000000000010000: \"") + kMaxStringBytes + strlen("\"...\n"));
}

TEST(Examine, RefusesPartlyUnreadableRangesWithOneLine) {
  FakeMemory mem(0x1000, iota(20));
  EXPECT_EQ(run(mem, 0x1000, "gx", 3), "error: 0x0000000000001014 is not mapped\n");
  EXPECT_EQ(run(mem, 0xff8, "gx", 1), "error: 0x0000000000000ff8 is not mapped\n");
  EXPECT_LE(mem.max_read_end, 0x1014u);
  EXPECT_EQ(run(mem, 0x1010, "wx", 1), "0x0000000000001010: 0x13121110\n");
}

TEST(Examine, HexdumpMatchesX) {
  std::vector<u8> v = iota(20);
  v[0] = 'K';
  FakeMemory mem(0xffff800000001000ULL, v);
  StrSink out;
  hexdump(out, mem, 0xffff800000001000ULL, 20);
  EXPECT_EQ(out.data,
            "0xffff800000001000: 4b 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |K...............|\n"
            "0xffff800000001010: 10 11 12 13                                      |....|\n");
}

TEST(Examine, InsnLines) {
  // call rel32 to 0x1000 from 0x1005 (e8 f6 ff ff ff), mov 0xff5(%rip),%rax -> 0x2000+...
  std::vector<u8> code = {0x55,                                      // 0x1000 pushq %rbp
                          0xe8, 0xfa, 0xff, 0xff, 0xff,              // 0x1001 callq 0x1000
                          0x48, 0x8b, 0x05, 0xf3, 0x0f, 0x00, 0x00,  // 0x1006 movq 0xff3(%rip) -> 0x2000
                          0xe9, 0x00, 0x10, 0x00, 0x00,              // 0x100d jmp 0x2012
                          0x0f, 0x0b,                                // 0x1012 ud2
                          0xff};                                     // 0x1014 truncated
  FakeMemory mem(0x1000, code);
  StrSink out;
  EXPECT_EQ(examine_insns(out, mem, 0x1000, disasm::Mode::Long64, 5, 0, kSyms), 0);
  EXPECT_EQ(out.data,
            "0x0000000000001000 func+0x0: 55  pushq\t%rbp\n"
            "0x0000000000001001 func+0x1: e8 fa ff ff ff  callq\t0x1000 <func>\n"
            "0x0000000000001006 func+0x6: 48 8b 05 f3 0f 00 00  movq\t4083(%rip), %rax # 0x2000 <ns::g_data>\n"
            "0x000000000000100d func+0xd: e9 00 10 00 00  jmp\t0x2012 <ns::g_data+0x12>\n"
            "0x0000000000001012: 0f 0b  ud2\n");
  // The last byte starts an instruction that runs off the readable end.
  out.data.clear();
  EXPECT_EQ(examine_insns(out, mem, 0x1012, disasm::Mode::Long64, 5, 0, kSyms), 1);
  EXPECT_EQ(out.data,
            "0x0000000000001012: 0f 0b  ud2\n"
            "error: the instruction at 0x0000000000001014 runs into 0x0000000000001015, which is not mapped\n");
  EXPECT_EQ(mem.max_read_end, 0x1015u);
  // Unreadable start.
  out.data.clear();
  EXPECT_EQ(examine_insns(out, mem, 0x9000, disasm::Mode::Long64, 1, 0, kSyms), 1);
  EXPECT_EQ(out.data, "error: 0x0000000000009000 is not mapped\n");
  // An end address (dis): every instruction starting before it.
  out.data.clear();
  EXPECT_EQ(examine_insns(out, mem, 0x1000, disasm::Mode::Long64, 0, 0x1002, kSyms), 0);
  EXPECT_EQ(std::count(out.data.begin(), out.data.end(), '\n'), 2);
}

TEST(Examine, Insn16) {
  FakeMemory mem(0x7c00, {0xfa, 0xeb, 0xfe});
  StrSink out;
  EXPECT_EQ(examine_insns(out, mem, 0x7c00, disasm::Mode::Real16, 2, 0, ExSymbols{nullptr, nullptr}), 0);
  EXPECT_EQ(out.data, "0x0000000000007c00: fa  cli\n0x0000000000007c01: eb fe  jmp\t0x7c01\n");
}

// -j: a document {"units": <the array>} as the commands build it.
std::string json_units(FakeMemory& mem, u64 addr, const char* sp, u64 count) {
  StrSink out;
  lib::Json j(out);
  j.begin_object().key("units");
  examine_json(j, mem, addr, spec(sp), count, kSyms);
  j.end_object();
  EXPECT_TRUE(j.finish());
  return out.data;
}

TEST(ExamineJson, FormatNames) {
  for (const char* f : {"x", "d", "u", "c", "s", "a", "i", "i16", "i32"}) EXPECT_STREQ(ex_format_name(spec(f)), f);
  EXPECT_STREQ(ex_format_name(spec("8gx")), "x");
  EXPECT_STREQ(ex_format_name(spec("i64")), "i");
}

TEST(ExamineJson, ValuesEveryFormat) {
  FakeMemory mem(0x100, {0xff, 0xfe, 0x80, 0x7f, 'A', '\n', '"', 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(json_units(mem, 0x100, "bx", 2),
            "{\"units\":[{\"address\":\"0x0000000000000100\",\"value\":\"0xff\"},"
            "{\"address\":\"0x0000000000000101\",\"value\":\"0xfe\"}]}\n");
  EXPECT_EQ(json_units(mem, 0x100, "wx", 1),
            "{\"units\":[{\"address\":\"0x0000000000000100\",\"value\":\"0x7f80feff\"}]}\n");
  EXPECT_EQ(json_units(mem, 0x108, "gx", 1),
            "{\"units\":[{\"address\":\"0x0000000000000108\",\"value\":\"0xffffffffffffffff\"}]}\n");
  EXPECT_EQ(json_units(mem, 0x100, "hd", 2),
            "{\"units\":[{\"address\":\"0x0000000000000100\",\"value\":-257},"
            "{\"address\":\"0x0000000000000102\",\"value\":32640}]}\n");
  EXPECT_EQ(json_units(mem, 0x108, "gu", 1),
            "{\"units\":[{\"address\":\"0x0000000000000108\",\"value\":18446744073709551615}]}\n");
  EXPECT_EQ(json_units(mem, 0x104, "c", 4),
            "{\"units\":[{\"address\":\"0x0000000000000104\",\"value\":\"A\"},"
            "{\"address\":\"0x0000000000000105\",\"value\":\"\\n\"},"
            "{\"address\":\"0x0000000000000106\",\"value\":\"\\\"\"},"
            "{\"address\":\"0x0000000000000107\",\"value\":\"\\u0000\"}]}\n");
}

TEST(ExamineJson, AddressesWithTheirSymbols) {
  std::vector<u8> v(16);
  u64 a = 0x1004, b = 0x5000;
  memcpy(v.data(), &a, 8);
  memcpy(v.data() + 8, &b, 8);
  FakeMemory mem(0x2000, v);
  EXPECT_EQ(json_units(mem, 0x2000, "a", 2),
            "{\"units\":[{\"address\":\"0x0000000000002000\",\"value\":\"0x0000000000001004\",\"symbol\":\"func\","
            "\"offset\":4},{\"address\":\"0x0000000000002008\",\"value\":\"0x0000000000005000\",\"symbol\":null,"
            "\"offset\":null}]}\n");
}

TEST(ExamineJson, StringsAsTheTextCutsThem) {
  FakeMemory mem(0x3000, {'h', 'i', 0, 'a', '"', '\\', '\t', 1, 0});
  EXPECT_EQ(json_units(mem, 0x3000, "s", 2),
            "{\"units\":[{\"address\":\"0x0000000000003000\",\"value\":\"hi\",\"truncated\":false},"
            "{\"address\":\"0x0000000000003003\",\"value\":\"a\\\"\\\\\\t\\u0001\",\"truncated\":false}]}\n");
  // Longer than the limit: the first kMaxStringBytes characters, truncated, and no more
  // strings (the text's "..." line is its last).
  FakeMemory big(0x10000, std::vector<u8>(kMaxStringBytes + 10, 'z'));
  std::string s = json_units(big, 0x10000, "s", 3);
  EXPECT_EQ(s, "{\"units\":[{\"address\":\"0x0000000000010000\",\"value\":\"" + std::string(kMaxStringBytes, 'z') +
                   "\",\"truncated\":true}]}\n");
  // Exactly the limit, then a NUL: complete.
  std::vector<u8> exact(kMaxStringBytes + 1, 'y');
  exact.back() = 0;
  FakeMemory fits(0x20000, exact);
  EXPECT_NE(json_units(fits, 0x20000, "s", 1).find("\"truncated\":false"), std::string::npos);
}

TEST(ExamineJson, Instructions) {
  std::vector<u8> code = {0x55,                          // 0x1000 pushq %rbp
                          0xe8, 0xfa, 0xff, 0xff, 0xff,  // 0x1001 callq 0x1000
                          0x0f, 0x0b};                   // 0x1006 ud2
  FakeMemory mem(0x1000, code);
  StrSink out;
  lib::Json j(out);
  j.begin_object().key("units");
  examine_insns_json(j, mem, 0x1000, disasm::Mode::Long64, 3, 0, kSyms);
  j.end_object();
  ASSERT_TRUE(j.finish());
  EXPECT_EQ(out.data,
            "{\"units\":[{\"address\":\"0x0000000000001000\",\"symbol\":\"func\",\"offset\":0,\"bytes\":\"55\","
            "\"text\":\"pushq\\t%rbp\"},"
            "{\"address\":\"0x0000000000001001\",\"symbol\":\"func\",\"offset\":1,\"bytes\":\"e8faffffff\","
            "\"text\":\"callq\\t0x1000 <func>\"},"
            "{\"address\":\"0x0000000000001006\",\"symbol\":\"func\",\"offset\":6,\"bytes\":\"0f0b\","
            "\"text\":\"ud2\"}]}\n");
  // Without symbols (xp/i), and with an end address (dis): what starts before it.
  out.data.clear();
  lib::Json k(out);
  k.begin_object().key("units");
  examine_insns_json(k, mem, 0x1000, disasm::Mode::Long64, 0, 0x1002, ExSymbols{nullptr, nullptr});
  k.end_object();
  ASSERT_TRUE(k.finish());
  EXPECT_EQ(out.data,
            "{\"units\":[{\"address\":\"0x0000000000001000\",\"symbol\":null,\"offset\":null,\"bytes\":\"55\","
            "\"text\":\"pushq\\t%rbp\"},"
            "{\"address\":\"0x0000000000001001\",\"symbol\":null,\"offset\":null,\"bytes\":\"e8faffffff\","
            "\"text\":\"callq\\t0x1000\"}]}\n");
}

TEST(ExamineJson, HexdumpLines) {
  std::vector<u8> v = iota(20);
  v[0] = 'K';
  FakeMemory mem(0xffff800000001000ULL, v);
  StrSink out;
  lib::Json j(out);
  j.begin_object().key("lines");
  hexdump_json(j, mem, 0xffff800000001000ULL, 20);
  j.end_object();
  ASSERT_TRUE(j.finish());
  EXPECT_EQ(out.data,
            "{\"lines\":[{\"address\":\"0xffff800000001000\",\"bytes\":\"4b0102030405060708090a0b0c0d0e0f\","
            "\"ascii\":\"K...............\"},"
            "{\"address\":\"0xffff800000001010\",\"bytes\":\"10111213\",\"ascii\":\"....\"}]}\n");
}

TEST(ErrorLine, TheLastLineWithoutItsPrefix) {
  ErrorLine e;
  lib::format(e, "error: invalid address '%s'\r\n", "zz");
  EXPECT_STREQ(e.message(), "invalid address 'zz'");
  // examine's error comes last, after what it printed of a string.
  FakeMemory mem(0x3000, {'x', 'y'});
  ErrorLine s;
  EXPECT_EQ(examine(s, mem, 0x3000, spec("s"), 1, kSyms), 1);
  EXPECT_STREQ(s.message(), "0x0000000000003002 is not mapped");
  ErrorLine i;
  FakeMemory code(0x1000, {0x90, 0xff});
  EXPECT_EQ(examine_insns(i, code, 0x1000, disasm::Mode::Long64, 5, 0, kSyms), 1);
  EXPECT_STREQ(i.message(), "the instruction at 0x0000000000001001 runs into 0x0000000000001002, which is not mapped");
  // Long lines are cut, never overrun.
  ErrorLine l;
  std::string big(2 * ErrorLine::kMaxErrorLine, 'q');
  lib::format(l, "error: %s\n", big.c_str());
  EXPECT_EQ(strlen(l.message()), ErrorLine::kMaxErrorLine - 1 - strlen("error: "));
}

}  // namespace
