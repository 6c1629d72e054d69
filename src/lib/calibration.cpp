#include "lib/calibration.hpp"

namespace lib {
namespace {

// n / d for a 128-bit n whose quotient fits 64 bits (n's high half below d): restoring
// long division, one quotient bit per step. `carry` is the bit shifted out of the 64-bit
// remainder, which makes the remainder 65 bits wide for that step.
u64 div_128_by_64(u64 hi, u64 lo, u64 d) {
  u64 rem = hi;
  u64 quot = 0;
  for (int i = 63; i >= 0; --i) {
    const bool carry = (rem >> 63) != 0;
    rem = (rem << 1) | ((lo >> i) & 1);
    quot <<= 1;
    if (carry || rem >= d) {
      rem -= d;
      quot |= 1;
    }
  }
  return quot;
}

}  // namespace

bool mul_div(u64 a, u64 b, u64 c, u64* out) {
  if (c == 0) return false;
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  const u64 hi = static_cast<u64>(p >> 64);
  const u64 lo = static_cast<u64>(p);
  if (hi >= c) return false;  // the quotient needs more than 64 bits
  *out = div_128_by_64(hi, lo, c);
  return true;
}

u64 counter_ticks(u64 from, u64 to, unsigned bits, bool counts_down) {
  const u64 mask = bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1;
  return (counts_down ? from - to : to - from) & mask;
}

bool ticks_in_us(Rate ref, u64 us, u64* out) {
  if (ref.den == 0) return false;
  u64 per_s = 0;  // ref.num * us / ref.den, then / 10^6 in a second step to stay exact
  if (__builtin_mul_overflow(ref.den, u64{1000000}, &per_s)) return false;
  return mul_div(ref.num, us, per_s, out);
}

bool rate_hz(u64 clock_ticks, u64 ref_ticks, Rate ref, u64* hz) {
  u64 den = 0;
  if (ref_ticks == 0 || ref.den == 0 || __builtin_mul_overflow(ref_ticks, ref.den, &den)) return false;
  return mul_div(clock_ticks, ref.num, den, hz);
}

i64 ppm_diff(u64 a, u64 b) {
  if (b == 0) return 0;
  constexpr u64 kCap = 1000000000;  // 10^9 ppm: a thousand-fold difference
  const bool neg = a < b;
  const u64 d = neg ? b - a : a - b;
  u64 ppm = 0;
  if (!mul_div(d, 1000000, b, &ppm) || ppm > kCap) ppm = kCap;
  return neg ? -static_cast<i64>(ppm) : static_cast<i64>(ppm);
}

}  // namespace lib
