#include "monitor/parse.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace monitor;

namespace {

std::vector<std::string> toks(const std::string& s, TokError* err = nullptr) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s", s.c_str());
  Args a{};
  TokError e = tokenize(buf, &a);
  if (err != nullptr) *err = e;
  std::vector<std::string> v;
  for (usize i = 0; i < a.argc; ++i) v.emplace_back(a.argv[i]);
  return v;
}

using V = std::vector<std::string>;

TEST(Tokenize, SplitsOnSpacesAndTabs) {
  TokError e;
  EXPECT_EQ(toks("x ffff8000 16", &e), (V{"x", "ffff8000", "16"}));
  EXPECT_EQ(e, TokError::None);
  EXPECT_EQ(toks("  \tpercpu\t\t all  "), (V{"percpu", "all"}));
  EXPECT_EQ(toks("help"), (V{"help"}));
}

TEST(Tokenize, EmptyAndWhitespaceOnly) {
  TokError e = TokError::TooManyArgs;
  EXPECT_EQ(toks("", &e), V{});
  EXPECT_EQ(e, TokError::None);
  EXPECT_EQ(toks("   \t  \t", &e), V{});
  EXPECT_EQ(e, TokError::None);
}

TEST(Tokenize, Quotes) {
  EXPECT_EQ(toks("echo \"a b\"  c"), (V{"echo", "a b", "c"}));
  EXPECT_EQ(toks("echo \"\" x"), (V{"echo", "", "x"}));
  EXPECT_EQ(toks("a\"b c\"d e"), (V{"ab cd", "e"}));
  EXPECT_EQ(toks("\"\t lead\""), (V{"\t lead"}));
  EXPECT_EQ(toks("\"x\"\"y\""), (V{"xy"}));
  TokError e;
  EXPECT_EQ(toks("echo \"oops", &e), V{});
  EXPECT_EQ(e, TokError::UnterminatedQuote);
  EXPECT_EQ(toks("\"", &e), V{});
  EXPECT_EQ(e, TokError::UnterminatedQuote);
}

TEST(Tokenize, ArgumentLimit) {
  std::string sixteen, seventeen;
  for (int i = 0; i < 16; ++i) sixteen += "a" + std::to_string(i) + " ";
  seventeen = sixteen + "z";
  TokError e;
  EXPECT_EQ(toks(sixteen, &e).size(), kMaxArgs);
  EXPECT_EQ(e, TokError::None);
  EXPECT_EQ(toks(seventeen, &e), V{});
  EXPECT_EQ(e, TokError::TooManyArgs);
  EXPECT_EQ(toks(sixteen + "   ", &e).size(), kMaxArgs);  // trailing blanks are no argument
  EXPECT_EQ(e, TokError::None);
}

TEST(Tokenize, InPlacePointersIntoLine) {
  char buf[] = "walk  0x1000";
  Args a{};
  ASSERT_EQ(tokenize(buf, &a), TokError::None);
  ASSERT_EQ(a.argc, 2u);
  EXPECT_EQ(a.argv[0], buf);
  EXPECT_EQ(a.argv[1], buf + 6);
}

int h(const Args&) { return 0; }
const char* const kPercpuKw[] = {"all", "0", "1", nullptr};
const char* const kCrashKw[] = {"pf", "gp", "ud", "de", "stack", nullptr};

// Deliberately unsorted.
const Command kTable[] = {
    {"pml4", "", "PML4 entries", h, nullptr, true},
    {"percpu", "<n>|all", "per-CPU data", h, kPercpuKw, true},
    {"help", "", "this list", h, nullptr, true},
    {"physmap", "", "physical memory map", h, nullptr, true},
    {"x", "<va> [len]", "hex dump", h, nullptr, true},
    {"xx", "", "test entry", h, nullptr, true},
    {"crash", "<kind> [cpu]", "fault on purpose", h, kCrashKw, false},
    {"cpus", "", "processors", h, nullptr, true},
};
constexpr usize kN = sizeof kTable / sizeof kTable[0];

TEST(Lookup, ExactAndUniquePrefix) {
  LookupError e = LookupError::Unknown;
  EXPECT_EQ(lookup(kTable, kN, "help", &e), &kTable[2]);
  EXPECT_EQ(e, LookupError::None);
  EXPECT_EQ(lookup(kTable, kN, "he", &e), &kTable[2]);
  EXPECT_EQ(lookup(kTable, kN, "pm", &e), &kTable[0]);
  EXPECT_EQ(lookup(kTable, kN, "cr", &e), &kTable[6]);
  EXPECT_EQ(lookup(kTable, kN, "cp", &e), &kTable[7]);
}

TEST(Lookup, ExactWinsOverLongerNames) {
  LookupError e;
  EXPECT_EQ(lookup(kTable, kN, "x", &e), &kTable[4]);  // "xx" also starts with "x"
  EXPECT_EQ(e, LookupError::None);
}

TEST(Lookup, AmbiguousAndUnknown) {
  LookupError e;
  EXPECT_EQ(lookup(kTable, kN, "p", &e), nullptr);
  EXPECT_EQ(e, LookupError::Ambiguous);
  EXPECT_EQ(lookup(kTable, kN, "c", &e), nullptr);
  EXPECT_EQ(e, LookupError::Ambiguous);
  EXPECT_EQ(lookup(kTable, kN, "nope", &e), nullptr);
  EXPECT_EQ(e, LookupError::Unknown);
  EXPECT_EQ(lookup(kTable, kN, "helpme", &e), nullptr);
  EXPECT_EQ(e, LookupError::Unknown);
  EXPECT_EQ(lookup(kTable, kN, "", &e), nullptr);
  EXPECT_EQ(e, LookupError::Unknown);
  EXPECT_EQ(lookup(kTable, 0, "help", &e), nullptr);
  EXPECT_EQ(e, LookupError::Unknown);
  EXPECT_EQ(lookup(kTable, kN, "help", nullptr), &kTable[2]);  // err may be null
}

V complete(const std::string& line, usize cursor = std::string::npos) {
  if (cursor == std::string::npos) cursor = line.size();
  usize ws = cursor;
  while (ws > 0 && line[ws - 1] != ' ') --ws;
  const char* out[16];
  usize n = complete_command(kTable, kN, line.c_str(), ws, cursor, out, 16);
  return V(out, out + n);
}

TEST(Complete, CommandNames) {
  EXPECT_EQ(complete("p"), (V{"pml4", "percpu", "physmap"}));
  EXPECT_EQ(complete("  he"), (V{"help"}));
  EXPECT_EQ(complete("x"), (V{"x", "xx"}));
  EXPECT_EQ(complete("zz"), V{});
  EXPECT_EQ(complete("").size(), kN);
  EXPECT_EQ(complete("he", 1), (V{"help"}));  // only the part before the cursor counts
}

TEST(Complete, Keywords) {
  EXPECT_EQ(complete("percpu a"), (V{"all"}));
  EXPECT_EQ(complete("percpu "), (V{"all", "0", "1"}));
  EXPECT_EQ(complete("perc a"), (V{"all"}));  // unique prefix of the command
  EXPECT_EQ(complete("crash s"), (V{"stack"}));
  EXPECT_EQ(complete("crash  "), (V{"pf", "gp", "ud", "de", "stack"}));
  EXPECT_EQ(complete("crash pf "), V{});  // only the first argument
  EXPECT_EQ(complete("help a"), V{});     // no keywords
  EXPECT_EQ(complete("p a"), V{});        // ambiguous command
  EXPECT_EQ(complete("nope a"), V{});
}

TEST(Complete, RespectsMax) {
  const char* out[2];
  EXPECT_EQ(complete_command(kTable, kN, "", 0, 0, out, 2), 2u);
  EXPECT_EQ(complete_command(kTable, kN, "p", 0, 1, out, 0), 0u);
}

class StrSink final : public lib::Sink {
 public:
  void write(const char* s, usize n) override { data.append(s, n); }
  std::string data;
};

TEST(Complete, TableCompleterDrivesLineEditor) {
  StrSink out;
  TableCompleter comp(kTable, kN);
  LineEditor ed(out, &comp);
  ed.start("kmon> ");
  for (char c : std::string("perc\ta\t")) ed.feed(static_cast<u8>(c));
  EXPECT_STREQ(ed.line(), "percpu all ");
}

TEST(Args, ParseAddress) {
  u64 v = 0;
  EXPECT_TRUE(parse_address("ffff800000000000", &v));
  EXPECT_EQ(v, 0xffff800000000000ULL);
  EXPECT_TRUE(parse_address("0xFFFFFFFF80000000", &v));
  EXPECT_EQ(v, 0xffffffff80000000ULL);
  EXPECT_TRUE(parse_address("1000", &v));
  EXPECT_EQ(v, 0x1000u);
  EXPECT_TRUE(parse_address("ffffffff`80001000", &v));
  EXPECT_EQ(v, 0xffffffff80001000ULL);
  v = 7;
  EXPECT_FALSE(parse_address("", &v));
  EXPECT_FALSE(parse_address("0x", &v));
  EXPECT_FALSE(parse_address("xyz", &v));
  EXPECT_FALSE(parse_address("-1", &v));
  EXPECT_FALSE(parse_address("10000000000000000", &v));  // 65 bits
  EXPECT_FALSE(parse_address(nullptr, &v));
  EXPECT_EQ(v, 7u);
}

TEST(Args, ParseCount) {
  u64 v = 0;
  EXPECT_TRUE(parse_count("16", &v));
  EXPECT_EQ(v, 16u);
  EXPECT_TRUE(parse_count("0x10", &v));
  EXPECT_EQ(v, 16u);
  EXPECT_FALSE(parse_count("10h", &v));
  EXPECT_FALSE(parse_count("ff", &v));
  EXPECT_FALSE(parse_count("", &v));
  EXPECT_FALSE(parse_count("18446744073709551616", &v));
  EXPECT_TRUE(parse_count("18446744073709551615", &v));
  EXPECT_EQ(v, ~0ULL);
}

TEST(Args, ErrorLines) {
  StrSink out;
  u64 v;
  EXPECT_FALSE(parse_address("zz", &v, &out));
  EXPECT_EQ(out.data, "error: invalid address 'zz'\r\n");
  out.data.clear();
  EXPECT_TRUE(parse_address("10", &v, &out));
  EXPECT_EQ(out.data, "");
  EXPECT_FALSE(parse_count("1x", &v, &out));
  EXPECT_EQ(out.data, "error: invalid number '1x'\r\n");
  out.data.clear();
  print_error(out, TokError::UnterminatedQuote);
  print_error(out, TokError::TooManyArgs);
  print_error(out, TokError::None);
  EXPECT_EQ(out.data, "error: unterminated quote\r\nerror: too many arguments (at most 16)\r\n");
  out.data.clear();
  print_lookup_error(out, kTable, kN, "p", LookupError::Ambiguous);
  EXPECT_EQ(out.data, "error: ambiguous command 'p': pml4 percpu physmap\r\n");
  out.data.clear();
  print_lookup_error(out, kTable, kN, "nope", LookupError::Unknown);
  EXPECT_EQ(out.data, "error: unknown command 'nope' (try help)\r\n");
}

TEST(Lookup, SlashFormsNameTheCommandBeforeTheSlash) {
  LookupError e = LookupError::Unknown;
  EXPECT_EQ(lookup(kTable, kN, "x/4gx", &e), &kTable[4]);
  EXPECT_EQ(e, LookupError::None);
  EXPECT_EQ(lookup(kTable, kN, "x/", &e), &kTable[4]);
  EXPECT_EQ(lookup(kTable, kN, "xx/i", &e), &kTable[5]);
  // Exact names only before the slash; nothing before it is no command.
  EXPECT_EQ(lookup(kTable, kN, "he/x", &e), nullptr);
  EXPECT_EQ(e, LookupError::Unknown);
  EXPECT_EQ(lookup(kTable, kN, "/gx", &e), nullptr);
  EXPECT_EQ(e, LookupError::Unknown);
}

TEST(Command, HelpFieldIsOptional) {
  EXPECT_EQ(kTable[0].help, nullptr);
  const Command c{"sym", "<addr>|<name>", "symbols", h, nullptr, true, "long\nhelp"};
  EXPECT_STREQ(c.help, "long\nhelp");
}

// A symbol table for the resolver: name -> address, "dup" is ambiguous.
bool test_resolve(const char* name, usize len, u64* addr, lib::Sink* err) {
  const std::string n(name, len);
  static const std::vector<std::pair<std::string, u64>> table = {
      {"ap_main", 0xffffffff80205000ULL}, {"smp::g_cpus", 0xffffffff80219000ULL}, {"top", ~0ULL - 4}, {"low", 0x10}};
  for (const auto& [k, v] : table) {
    if (k == n) {
      *addr = v;
      return true;
    }
  }
  if (err != nullptr) lib::format(*err, "error: unknown symbol '%s'\r\n", n.c_str());
  return false;
}

TEST(Args, ParseAddressExpressions) {
  u64 v = 0;
  EXPECT_TRUE(parse_address("ap_main", &v, nullptr, test_resolve));
  EXPECT_EQ(v, 0xffffffff80205000ULL);
  EXPECT_TRUE(parse_address("smp::g_cpus+0x40", &v, nullptr, test_resolve));
  EXPECT_EQ(v, 0xffffffff80219040ULL);
  EXPECT_TRUE(parse_address("smp::g_cpus+40", &v, nullptr, test_resolve));  // hex, like every address
  EXPECT_EQ(v, 0xffffffff80219040ULL);
  EXPECT_TRUE(parse_address("ap_main-0x10", &v, nullptr, test_resolve));
  EXPECT_EQ(v, 0xffffffff80204ff0ULL);
  EXPECT_TRUE(parse_address("ap_main+0", &v, nullptr, test_resolve));
  EXPECT_EQ(v, 0xffffffff80205000ULL);
  EXPECT_TRUE(parse_address("1000+0x10", &v, nullptr, test_resolve));  // a number as base
  EXPECT_EQ(v, 0x1010u);
  EXPECT_TRUE(parse_address("0x1000-1000", &v, nullptr, test_resolve));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_address("top+4", &v, nullptr, test_resolve));
  EXPECT_EQ(v, ~0ULL);
  // Numbers stay numbers, with or without a resolver.
  EXPECT_TRUE(parse_address("ffffffff80200000", &v, nullptr, test_resolve));
  EXPECT_EQ(v, 0xffffffff80200000ULL);
  EXPECT_TRUE(parse_address("add", &v, nullptr, test_resolve));
  EXPECT_EQ(v, 0xaddu);
}

TEST(Args, NumbersTooLargeAreSaidSoNotTakenForSymbols) {
  u64 v = 7;
  StrSink out;
  EXPECT_FALSE(parse_address("0x1ffffffffffffffff", &v, &out, test_resolve));
  EXPECT_EQ(out.data, "error: address '0x1ffffffffffffffff' does not fit in 64 bits\r\n");
  out.data.clear();
  EXPECT_FALSE(parse_address("ap_main+10000000000000000", &v, &out, test_resolve));
  EXPECT_EQ(out.data, "error: address 'ap_main+10000000000000000' does not fit in 64 bits\r\n");
  out.data.clear();
  EXPECT_FALSE(parse_address("10000000000000000", &v, &out));  // no resolver at all
  EXPECT_EQ(out.data, "error: address '10000000000000000' does not fit in 64 bits\r\n");
  out.data.clear();
  EXPECT_FALSE(parse_address("nope", &v, &out, test_resolve));  // a name stays a name
  EXPECT_EQ(out.data, "error: unknown symbol 'nope'\r\n");
  EXPECT_EQ(v, 7u);
}

TEST(Args, ParseAddressBadExpressions) {
  u64 v = 7;
  for (const char* bad :
       {"sym+", "+0x10", "-0x10", "foo+zz", "ap_main+zz", "ap_main+", "ap_main-", "ap_main++1", "ap_main+0x", "top+5",
        "top+0x10", "low-0x11", "ap_main+10000000000000000", "nope", "nope+1", "+", "-", "ap main", ""}) {
    SCOPED_TRACE(bad);
    StrSink out;
    EXPECT_FALSE(parse_address(bad, &v, &out, test_resolve));
    EXPECT_EQ(v, 7u);
    // Exactly one error line.
    ASSERT_EQ(out.data.rfind("error: ", 0), 0u) << out.data;
    EXPECT_EQ(out.data.find('\n'), out.data.size() - 1) << out.data;
  }
  // Without a resolver a name is an invalid address, as before.
  StrSink out;
  EXPECT_FALSE(parse_address("ap_main", &v, &out, nullptr));
  EXPECT_EQ(out.data, "error: invalid address 'ap_main'\r\n");
  out.data.clear();
  EXPECT_FALSE(parse_address("ap_main+zz", &v, &out, test_resolve));
  EXPECT_EQ(out.data, "error: invalid offset in 'ap_main+zz'\r\n");
  out.data.clear();
  EXPECT_FALSE(parse_address("top+0x10", &v, &out, test_resolve));
  EXPECT_EQ(out.data, "error: address out of range in 'top+0x10'\r\n");
  out.data.clear();
  EXPECT_FALSE(parse_address("nope+1", &v, &out, test_resolve));
  EXPECT_EQ(out.data, "error: unknown symbol 'nope'\r\n");
  // A very long name is refused without overrunning anything.
  std::string longname(4000, 'a');
  longname += "+1";
  out.data.clear();
  EXPECT_FALSE(parse_address(longname.c_str(), &v, &out, test_resolve));
}

TEST(Args, InstalledResolver) {
  u64 v = 0;
  EXPECT_FALSE(parse_address("ap_main", &v));
  set_symbol_resolver(test_resolve);
  EXPECT_TRUE(parse_address("ap_main+8", &v));
  EXPECT_EQ(v, 0xffffffff80205008ULL);
  set_symbol_resolver(nullptr);
  EXPECT_FALSE(parse_address("ap_main", &v));
}

}  // namespace
