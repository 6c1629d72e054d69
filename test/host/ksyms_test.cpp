// Symbol lookup both ways (kernel/ksyms.cpp) over a table laid out as
// scripts/gen_ksyms.py emits it: sorted by address, sized symbols first at an address,
// demangled names. The kernel's table is the same code over the .ksyms section.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "kernel/ksyms.hpp"

struct KsymEntry {
  u64 addr;
  u32 size;
  u32 name_offset;
};

// The table (strong definitions: the kernel's declarations are weak).
#define NAMES                                                          \
  X("_start\0")                                                        \
  X("kernel_main(unsigned int, unsigned int)\0")                       \
  X("smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)\0") \
  X("smp::xcall(unsigned long)\0")                                     \
  X("(anonymous namespace)::wedge(void*)\0")                           \
  X("smp::(anonymous namespace)::on_cross_call(arch::TrapFrame*)\0")   \
  X("isr_common\0")                                                    \
  X("smp::g_cpus\0")
#define X(s) s
extern "C" const char ksyms_names[] = NAMES;
#undef X
namespace {
constexpr u32 off(int k) {
  const char* p = ksyms_names;
  for (int i = 0; i < k; ++i) p += std::char_traits<char>::length(p) + 1;
  return static_cast<u32>(p - ksyms_names);
}
}  // namespace
extern "C" const KsymEntry ksyms_table[] = {
    {0x200000, 0, off(0)},                 // _start: a label
    {0xffffffff80201000, 0x100, off(1)},   // kernel_main
    {0xffffffff80202000, 0x52, off(2)},    // smp::xcall_handle
    {0xffffffff80202100, 0x200, off(3)},   // smp::xcall
    {0xffffffff80203000, 0x40, off(4)},    // wedge
    {0xffffffff80203040, 0x30, off(5)},    // on_cross_call
    {0xffffffff80204000, 0, off(6)},       // isr_common: a label
    {0xffffffff80250000, 0x2000, off(7)},  // smp::g_cpus (data)
};
extern "C" const u64 ksyms_count = sizeof ksyms_table / sizeof ksyms_table[0];

using namespace kernel::ksyms;

namespace {
std::string printed(u64 addr) {
  char buf[256];
  lib::BufSink s(buf, sizeof buf);
  print(s, addr);
  return buf;
}
Find find_s(const char* q, Symbol* s) { return find(q, std::strlen(q), s); }
}  // namespace

TEST(Ksyms, AddressToSymbolAndOffset) {
  EXPECT_EQ(printed(0xffffffff80202000), "smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)+0x0");
  EXPECT_EQ(printed(0xffffffff80202051), "smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)+0x51");
  EXPECT_EQ(printed(0xffffffff80202052), "?");                   // past its size, before the next symbol
  EXPECT_EQ(printed(0xffffffff80251fff), "smp::g_cpus+0x1fff");  // data objects too
  EXPECT_EQ(printed(0xffffffff80204010), "isr_common+0x10");     // a label names what follows
  EXPECT_EQ(printed(0xffffffff80000000), "?");
  u64 o = 0;
  EXPECT_EQ(lookup(0x1000, &o), nullptr);
  // nearest: objdump's rule, the closest symbol at or below.
  const char* n = nearest(0xffffffff80202060, &o);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(std::string(n).substr(0, 17), "smp::xcall_handle");
  EXPECT_EQ(o, 0x60u);
}

TEST(Ksyms, NameToAddressExactPrefixAndAnonymousNamespaces) {
  Symbol s{};
  ASSERT_EQ(find_s("smp::xcall_handle", &s), Find::Found);  // parameter list left out
  EXPECT_EQ(s.addr, 0xffffffff80202000u);
  EXPECT_EQ(s.size, 0x52u);
  ASSERT_EQ(find_s("smp::xcall", &s), Find::Found);  // exact beats the prefix of xcall_handle
  EXPECT_EQ(s.addr, 0xffffffff80202100u);
  ASSERT_EQ(find_s("wedge", &s), Find::Found);  // "(anonymous namespace)::" left out
  EXPECT_EQ(s.addr, 0xffffffff80203000u);
  ASSERT_EQ(find_s("smp::on_cross", &s), Find::Found);  // a unique prefix, anonymous part left out
  EXPECT_EQ(s.addr, 0xffffffff80203040u);
  EXPECT_EQ(find_s("smp::xc", &s), Find::Ambiguous);  // xcall and xcall_handle
  EXPECT_EQ(find_s("nosuch", &s), Find::Unknown);
  EXPECT_EQ(find_s("", &s), Find::Unknown);  // an empty name names nothing
  ASSERT_EQ(find_s("smp::g_cpus", &s), Find::Found);
  EXPECT_EQ(s.size, 0x2000u);
}

TEST(Ksyms, ResolverErrorsAreOneLine) {
  char buf[512];
  lib::BufSink err(buf, sizeof buf);
  u64 a = 0;
  EXPECT_TRUE(resolve("kernel_main", 11, &a, &err));
  EXPECT_EQ(a, 0xffffffff80201000u);
  EXPECT_FALSE(resolve("smp::xc", 7, &a, &err));
  std::string e = buf;
  EXPECT_EQ(e.rfind("error: ", 0), 0u) << e;
  EXPECT_EQ(e.find('\n'), e.size() - 1) << e;  // one line
  err.clear();
  EXPECT_FALSE(resolve("zzz", 3, &a, &err));
  EXPECT_EQ(std::string(buf).rfind("error: ", 0), 0u);
}
