// The time-stamp counter as the kernel's clock: calibrated once on the bootstrap CPU
// against the best reference the machine has, in this order: CPUID 0x15 (or 0x16) when
// they give a frequency, the HPET, the ACPI PM timer, the 8254 PIT; one 10 ms window of
// the chosen reference calibrates the APIC timer too. Then used for every timestamp and
// bounded wait. The monitor's `timing sources` measures every reference against the
// others with the same code.
#pragma once
#include "lib/types.hpp"

namespace arch::tsc {

// In the order calibrate() tries them (Uncalibrated: none worked, the TSC is assumed to
// run at 1 GHz so that bounded waits still end).
enum class Source { Cpuid, Hpet, PmTimer, Pit, Uncalibrated };
constexpr int kSourceCount = 5;
const char* source_name(Source s);  // "cpuid", "hpet", "pmtimer", "pit", "uncalibrated"

// One calibration of the TSC (and the APIC timer of the calling CPU) against a source.
struct Measurement {
  Source source;
  bool ok;
  const char* why;  // when !ok: why the source gave no figure
  u64 tsc_hz;
  u64 lapic_hz;   // 0 when not measured (cpuid)
  u64 ref_hz;     // the reference's nominal rate, rounded (cpuid: 0)
  u64 ref_ticks;  // the window, in reference ticks and in microseconds by the reference
  u64 window_us;
};

// At boot, on the BSP, after arch::hpet::init and arch::pmtimer::init_* were given what
// the firmware tables say (or nothing). Sets the TSC rate and the APIC timer's.
void calibrate();
// A fresh measurement against `s` now, for `timing sources`: one window (interrupts off
// for its duration), cpuid read again; a source the machine does not have gives ok=false
// with the reason, quickly (a counter that does not move is given up after a bounded
// number of reads, never after the whole window).
Measurement measure(Source s);
// What calibrate() used, and the failures of the sources tried before it.
const Measurement& boot_measurement();
// When CPUID gave a rate: the measured window it was checked against (against.ok false:
// no clock to check with, CPUID's figure used unchecked), how far apart they were, and
// whether CPUID's figure was refused for it (then the measured one is used).
struct CpuidCheck {
  u64 cpuid_hz;  // 0: CPUID gave no rate
  Measurement against;
  i64 ppm;  // (cpuid - measured) / measured
  bool rejected;
};
const CpuidCheck& cpuid_check();
const Measurement& boot_attempt(Source s);  // ok=false, why=nullptr: not tried

u64 hz();
Source source();
const char* source_name();
u64 ticks_to_us(u64 ticks);
u64 ticks_to_ns(u64 ticks);
u64 us_to_ticks(u64 us);
void delay_us(u64 us);
}  // namespace arch::tsc
