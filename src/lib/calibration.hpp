// The arithmetic of calibrating one clock (the TSC, the APIC timer) against a reference
// counter of known rate (HPET, ACPI PM timer, 8254 PIT) from two readings of each: the
// reference's progress modulo its width and direction, the rate as an exact fraction,
// and the scaling without 128-bit division (the kernel has no compiler runtime).
// Hardware-free: the readings come from arch/, the host tests feed made-up ones.
#pragma once
#include "lib/types.hpp"

namespace lib {

// floor(a * b / c), exact for every a and b, through a 128-bit product and a
// shift-subtract division. False (and *out untouched) when c is 0 or the quotient does
// not fit 64 bits.
[[nodiscard]] bool mul_div(u64 a, u64 b, u64 c, u64* out);

// How far a free-running counter `bits` wide (1..64) moved from `from` to `to`, counting
// up or down, assuming it wrapped at most once: (to - from) or (from - to) modulo 2^bits.
// Bits of the readings above the counter's width are ignored.
u64 counter_ticks(u64 from, u64 to, unsigned bits, bool counts_down);

// A counter's rate as a fraction: `num / den` ticks per second. The HPET gives its period
// in femtoseconds (rate 10^15 / period); the PM timer and the PIT have fixed rates
// (den 1).
struct Rate {
  u64 num;
  u64 den;
};

// Ticks of the reference counter in `us` microseconds, rounded down; false if it does not
// fit 64 bits or the rate is invalid (den 0).
[[nodiscard]] bool ticks_in_us(Rate ref, u64 us, u64* out);

// One reading of the clocks: the reference's value (and that of a second clock being
// calibrated in the same window, `aux`) bracketed by two reads of the clock being
// calibrated (`before` <= `after`), so the bracket's width bounds how far apart the reads
// were (an interrupt, a host preemption under a hypervisor).
struct PairedRead {
  u64 before;
  u64 ref;
  u64 aux;
  u64 after;
  u64 width() const { return after - before; }
  u64 mid() const { return before + (after - before) / 2; }
};

// The calibrated clock's rate in Hz: `clock_ticks` of it elapsed while the reference
// advanced `ref_ticks` at `ref`: clock_ticks * ref.num / (ref_ticks * ref.den). False for
// ref_ticks 0, an invalid rate or a result beyond 64 bits.
[[nodiscard]] bool rate_hz(u64 clock_ticks, u64 ref_ticks, Rate ref, u64* hz);

// The signed difference of `a` from `b` in parts per million (a > b: positive); 0 when b
// is 0. Saturates at +-10^9 ppm.
i64 ppm_diff(u64 a, u64 b);

}  // namespace lib
