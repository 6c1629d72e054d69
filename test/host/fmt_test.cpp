#include <gtest/gtest.h>

#include "lib/fmt.hpp"
#include "lib/string.hpp"

TEST(Fmt, Basics) {
  char buf[128];
  lib::snformat(buf, sizeof buf, "%016lx %d %u %s %c %#x|%-4s|%4d", 0xabcUL, -5, 7u, "hi", 'z', 0x1f, "ab", 42);
  EXPECT_STREQ(buf, "0000000000000abc -5 7 hi z 0x1f|ab  |  42");
}

TEST(Fmt, Truncates) {
  char buf[8];
  lib::BufSink s(buf, sizeof buf);
  lib::format(s, "%s", "0123456789");
  EXPECT_STREQ(buf, "0123456");
  EXPECT_TRUE(s.truncated());
}

TEST(Fmt, ParseU64) {
  u64 v = 0;
  EXPECT_TRUE(lib::parse_u64("0xffff800000000000", &v));
  EXPECT_EQ(v, 0xffff800000000000ULL);
  EXPECT_TRUE(lib::parse_u64("ffff8000", &v, true));
  EXPECT_EQ(v, 0xffff8000ULL);
  EXPECT_TRUE(lib::parse_u64("42", &v));
  EXPECT_EQ(v, 42u);
  EXPECT_FALSE(lib::parse_u64("", &v));
  EXPECT_FALSE(lib::parse_u64("0x", &v));
  EXPECT_FALSE(lib::parse_u64("12z", &v));
  EXPECT_FALSE(lib::parse_u64("0x1ffffffffffffffff", &v));
  EXPECT_FALSE(lib::parse_u64("ff", &v));
}
