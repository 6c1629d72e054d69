// The arithmetic of calibrating the TSC against a reference counter (lib/calibration.hpp):
// exact 128-bit scaling, counters that wrap (24-bit PM timer, 16-bit PIT counting down,
// 32- and 64-bit HPET), rates given in femtoseconds, and the ppm comparison used by
// `timing sources`.
#include <gtest/gtest.h>

#include <random>

#include "lib/calibration.hpp"

namespace {

using u128 = unsigned __int128;

TEST(MulDiv, ExactAgainstInt128) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    const u64 a = rng() >> (rng() % 64), b = rng() >> (rng() % 64), c = (rng() >> (rng() % 64)) | 1;
    const u128 want = static_cast<u128>(a) * b / c;
    u64 got = 0;
    const bool ok = lib::mul_div(a, b, c, &got);
    if (want > ~u64{0}) {
      EXPECT_FALSE(ok) << a << " " << b << " " << c;
    } else {
      ASSERT_TRUE(ok) << a << " " << b << " " << c;
      EXPECT_EQ(got, static_cast<u64>(want)) << a << " " << b << " " << c;
    }
  }
}

TEST(MulDiv, EdgeCases) {
  u64 q = 7;
  EXPECT_FALSE(lib::mul_div(1, 1, 0, &q));
  EXPECT_EQ(q, 7u);  // untouched on failure
  ASSERT_TRUE(lib::mul_div(~u64{0}, ~u64{0}, ~u64{0}, &q));
  EXPECT_EQ(q, ~u64{0});
  EXPECT_FALSE(lib::mul_div(~u64{0}, 2, 1, &q));  // 2^65 - 2 does not fit
  ASSERT_TRUE(lib::mul_div(0, 12345, 3, &q));
  EXPECT_EQ(q, 0u);
  // 2^127 / (2^63 + 1): the carry out of the 64-bit remainder must count.
  ASSERT_TRUE(lib::mul_div(u64{1} << 63, u64{1} << 63, (u64{1} << 63) + 1, &q));
  EXPECT_EQ(q, static_cast<u64>((static_cast<u128>(1) << 126) / ((u64{1} << 63) + 1)));
}

TEST(CounterTicks, UpCountersWrapAtTheirWidth) {
  // ACPI PM timer, 24 bits (TMR_VAL_EXT clear): 0xfffff0 -> 0x000010 is 0x20 ticks.
  EXPECT_EQ(lib::counter_ticks(0xfffff0, 0x000010, 24, false), 0x20u);
  // Bits above the width (a 24-bit timer read as 32 bits) do not matter.
  EXPECT_EQ(lib::counter_ticks(0xabfffff0, 0x12000010, 24, false), 0x20u);
  EXPECT_EQ(lib::counter_ticks(0xfffffff0u, 0x10u, 32, false), 0x20u);
  EXPECT_EQ(lib::counter_ticks(~u64{0} - 0xf, 0x10, 64, false), 0x20u);
  EXPECT_EQ(lib::counter_ticks(100, 100, 32, false), 0u);
}

TEST(CounterTicks, PitCountsDown) {
  EXPECT_EQ(lib::counter_ticks(0xffff, 0xffff - 11931, 16, true), 11931u);
  // Mode 0 goes on from 0 to 0xffff: 0x0010 -> 0xfff0 is 0x20 ticks down.
  EXPECT_EQ(lib::counter_ticks(0x0010, 0xfff0, 16, true), 0x20u);
}

TEST(Rate, TicksInAWindow) {
  u64 t = 0;
  ASSERT_TRUE(lib::ticks_in_us({1193182, 1}, 10000, &t));
  EXPECT_EQ(t, 11931u);  // the PIT's 10 ms
  ASSERT_TRUE(lib::ticks_in_us({3579545, 1}, 10000, &t));
  EXPECT_EQ(t, 35795u);
  // QEMU's HPET: 10 ns period (10^7 fs), 100 MHz.
  ASSERT_TRUE(lib::ticks_in_us({1000000000000000ULL, 10000000}, 10000, &t));
  EXPECT_EQ(t, 1000000u);
  // A 14.31818 MHz HPET: period 69841279 fs.
  ASSERT_TRUE(lib::ticks_in_us({1000000000000000ULL, 69841279}, 10000, &t));
  EXPECT_EQ(t, 143181u);
  EXPECT_FALSE(lib::ticks_in_us({1, 0}, 10000, &t));
}

TEST(Rate, TscFromEachReference) {
  u64 hz = 0;
  // 2.6 GHz TSC, 10 ms: 26e6 TSC ticks.
  ASSERT_TRUE(lib::rate_hz(26000000, 1000000, {1000000000000000ULL, 10000000}, &hz));
  EXPECT_EQ(hz, 2600000000u);
  ASSERT_TRUE(lib::rate_hz(26000000, 35795, {3579545, 1}, &hz));
  EXPECT_NEAR(static_cast<double>(hz), 26000000.0 * 3579545 / 35795, 1.0);
  ASSERT_TRUE(lib::rate_hz(26000000, 11931, {1193182, 1}, &hz));
  EXPECT_NEAR(static_cast<double>(hz), 26000000.0 * 1193182 / 11931, 1.0);
  // A 14.318 MHz HPET: 143181 ticks of 69841279 fs are 9999.99 us.
  ASSERT_TRUE(lib::rate_hz(26000000, 143181, {1000000000000000ULL, 69841279}, &hz));
  EXPECT_NEAR(static_cast<double>(hz), 26000000.0 / (143181 * 69841279e-15), 2.0);
  EXPECT_FALSE(lib::rate_hz(1, 0, {1, 1}, &hz));
  EXPECT_FALSE(lib::rate_hz(1, ~u64{0}, {1, ~u64{0}}, &hz));  // the denominator overflows
}

TEST(PairedRead, MidpointAndWidth) {
  lib::PairedRead r{1000, 5, 0, 1010};
  EXPECT_EQ(r.width(), 10u);
  EXPECT_EQ(r.mid(), 1005u);
  lib::PairedRead big{~u64{0} - 10, 0, 0, ~u64{0}};
  EXPECT_EQ(big.mid(), ~u64{0} - 5);  // no overflow near the top
}

TEST(Ppm, SignedDifference) {
  EXPECT_EQ(lib::ppm_diff(1000500, 1000000), 500);
  EXPECT_EQ(lib::ppm_diff(999500, 1000000), -500);
  EXPECT_EQ(lib::ppm_diff(2596112231, 2596146318), -13);
  EXPECT_EQ(lib::ppm_diff(5, 0), 0);
  EXPECT_EQ(lib::ppm_diff(~u64{0}, 1), 1000000000);  // saturated
}

}  // namespace
