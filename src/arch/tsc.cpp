#include "arch/tsc.hpp"

#include "arch/cpu.hpp"
#include "arch/hpet.hpp"
#include "arch/lapic.hpp"
#include "arch/pit.hpp"
#include "arch/pmtimer.hpp"
#include "lib/bits.hpp"
#include "lib/boot_code.hpp"
#include "lib/calibration.hpp"

namespace arch::tsc {
namespace {
u64 g_hz = 1000000000;  // a guess until calibrate(): bounded waits still terminate
Source g_source = Source::Uncalibrated;
Measurement g_boot{Source::Uncalibrated, false, "not calibrated yet", 0, 0, 0, 0, 0};
Measurement g_attempts[kSourceCount];
CpuidCheck g_cpuid_check;

constexpr u64 kUsPerSecond = 1000000;
constexpr u64 kHzPerMhz = 1000000;

// One 10 ms window: the prompt's time budget (the whole boot is ~20 ms) and still 0.01 %
// resolution at the slowest reference, the PIT's 1.19 MHz.
constexpr u64 kWindowUs = 10000;
// A reference that has not changed over this many consecutive reads is not running
// (absent: an unclaimed port or MMIO reads a constant; halted; broken). The slowest
// reference, the PIT, ticks every 0.84 us and one read takes at least ~0.1 us, so a live
// counter changes within a few dozen reads; 10000 reads of a dead one take ~2-5 ms.
constexpr u64 kStallReads = 10000;
// The window also ends, as a failure, once the TSC has run as far as a 10 GHz TSC would
// in kWindowUs: no x86 TSC is that fast, so a live reference is never cut short, and a
// reference that creeps (changes, but far too slowly) cannot hold the boot for long.
constexpr u64 kTscCeilingTicksPerUs = 10000;
// Each end of the window reads TSC, reference, TSC and keeps the narrowest of these
// tries: an interrupt, an SMI or a host preemption between the reads widens the bracket,
// and the narrowest one bounds the error of pairing the two clocks.
constexpr unsigned kPairTries = 5;
// SDM Vol. 2A, CPUID: leaf 0x15 "Time Stamp Counter and Nominal Core Crystal Clock
// Information" (TSC = ECX * EBX / EAX), leaf 0x16 "Processor Frequency Information"
// (EAX[15:0] base frequency in MHz).
constexpr u32 kLeafTscCrystal = 0x15;
constexpr u32 kLeafFrequency = 0x16;
using Leaf16BaseMhz = lib::BitField<u32, 0, 16>;
// The APIC timer's current-count register: 32 bits, counting down (SDM Vol. 3A 11.5.4
// "APIC Timer").
constexpr unsigned kApicTimerBits = 32;
// A window ends at the first read past its target, so it overshoots by the ticks of one
// read (and of one bracketed pair at the end); more than the window again means the
// counter jumped (ran backwards, or skipped ahead) and cannot be a clock.
constexpr u64 kMaxOvershootFactor = 2;
// A window that failed that way is tried again: the usual cause is not the counter but a
// stall of this CPU longer than the window (an SMI, or a host that did not run the vCPU
// for 10-50 ms), which a 16-bit PIT cannot tell from a jump.
constexpr unsigned kWindowTries = 3;

constexpr const char* kJumped = "counter jumped during the window";

// CPUID's nominal rate against a measured window: real parts agree to well under 1 %
// (0x16 is rounded to a MHz; spread-spectrum clocking runs up to 0.5 % slow); an emulator
// may report its CPU model's figure whatever rate its TSC runs at (Bochs 2.7's models
// give 0x16 base frequencies unrelated to its instruction-count TSC).
constexpr i64 kCpuidTolerancePpm = 20000;

// A reference counter: how to read it, its width and direction, and its rate.
struct RefClock {
  u64 (*read)();
  unsigned bits;
  bool counts_down;
  lib::Rate rate;
  void (*begin)();
  void (*end)();
};

u64 read_hpet() { return arch::hpet::read(); }
u64 read_pm() { return arch::pmtimer::read(); }
u64 read_pit() { return arch::pit::read(); }

// The APIC timer's current count is read inside the bracket too, so the narrowest try
// pairs all three clocks.
lib::PairedRead paired(const RefClock& c) {
  lib::PairedRead best{};
  for (unsigned i = 0; i < kPairTries; ++i) {
    lib::PairedRead r;
    r.before = arch::rdtsc();
    r.ref = c.read();
    r.aux = arch::lapic::read(arch::lapic::Reg::TimerCurrent);
    r.after = arch::rdtsc();
    if (i == 0 || r.width() < best.width()) best = r;
  }
  return best;
}

Measurement failed(Source s, const char* why) {
  Measurement m{};
  m.source = s;
  m.why = why;
  return m;
}

// One window against `c`, with the calling CPU's APIC timer counting through it. The
// caller has interrupts off.
Measurement window(Source s, const RefClock& c) {
  Measurement m = failed(s, nullptr);
  u64 want = 0;
  if (!lib::ticks_in_us(c.rate, kWindowUs, &want) || want == 0) return failed(s, "invalid counter rate");
  if (c.begin != nullptr) c.begin();
  // Wait for the first change: proves the counter runs, and starts the window at an edge.
  const u64 first = c.read();
  u64 reads = 0;
  while (c.read() == first) {
    if (++reads > kStallReads) {
      if (c.end != nullptr) c.end();
      return failed(s, "counter does not move");
    }
  }
  // Counts down from 0xffffffff: ~68 s at QEMU's 62.5 MHz, minutes at real bus clocks.
  (void)arch::lapic::timer_start_free_running();
  const lib::PairedRead start = paired(c);
  const u64 tsc_limit = start.before + kWindowUs * kTscCeilingTicksPerUs;
  u64 last = start.ref;
  u64 unchanged = 0;
  const char* why = nullptr;
  for (;;) {
    const u64 v = c.read();
    if (v != last) {
      last = v;
      unchanged = 0;
    } else if (++unchanged > kStallReads) {
      why = "counter stopped during the window";
      break;
    }
    if (lib::counter_ticks(start.ref, v, c.bits, c.counts_down) >= want) break;
    if (arch::rdtsc() > tsc_limit) {
      why = "counter too slow: the window did not end in time";
      break;
    }
  }
  const lib::PairedRead end = paired(c);
  (void)arch::lapic::timer_stop();
  if (c.end != nullptr) c.end();
  if (why != nullptr) return failed(s, why);
  m.ref_ticks = lib::counter_ticks(start.ref, end.ref, c.bits, c.counts_down);
  // A counter that jumped (ran backwards, or far ahead within one read) is not a clock.
  if (m.ref_ticks < want || m.ref_ticks > kMaxOvershootFactor * want) return failed(s, kJumped);
  if (end.mid() <= start.mid()) return failed(s, "TSC did not advance");
  if (!lib::rate_hz(end.mid() - start.mid(), m.ref_ticks, c.rate, &m.tsc_hz) || m.tsc_hz == 0)
    return failed(s, "TSC rate out of range");
  if (!lib::rate_hz(lib::counter_ticks(start.aux, end.aux, kApicTimerBits, true), m.ref_ticks, c.rate, &m.lapic_hz))
    m.lapic_hz = 0;
  u64 ref_hz = 0;
  if (lib::mul_div(c.rate.num, 1, c.rate.den, &ref_hz)) m.ref_hz = ref_hz;
  u64 us = 0;
  // The rate's denominator is at most the HPET's 10^8 fs period (hpet::init checks it).
  if (lib::mul_div(m.ref_ticks, kUsPerSecond * c.rate.den, c.rate.num, &us)) m.window_us = us;
  m.ok = true;
  return m;
}

Measurement measure_cpuid() {
  const u32 max_leaf = arch::cpuid(arch::cpuid_leaf::kVendor).eax;
  Measurement m = failed(Source::Cpuid, "CPUID 0x15/0x16 give no frequency");
  if (max_leaf >= kLeafTscCrystal) {
    const auto r = arch::cpuid(kLeafTscCrystal);
    u64 hz = 0;
    if (r.eax != 0 && r.ebx != 0 && r.ecx != 0 && lib::mul_div(r.ecx, r.ebx, r.eax, &hz) && hz != 0) {
      m.ok = true;
      m.why = nullptr;
      m.tsc_hz = hz;
      return m;
    }
  }
  if (max_leaf >= kLeafFrequency) {
    const u64 mhz = Leaf16BaseMhz::get(arch::cpuid(kLeafFrequency).eax);
    if (mhz != 0) {
      m.ok = true;
      m.why = nullptr;
      m.tsc_hz = mhz * kHzPerMhz;
    }
  }
  return m;
}

// window() until it gives a figure or fails for a reason a retry cannot change.
Measurement window_retried(Source s, const RefClock& c) {
  Measurement m = window(s, c);
  for (unsigned i = 1; i < kWindowTries && !m.ok && m.why == kJumped; ++i) m = window(s, c);
  return m;
}

Measurement measure_hpet() {
  if (arch::hpet::status() != arch::hpet::Status::Ready)
    return failed(Source::Hpet, arch::hpet::status_text(arch::hpet::status()));
  const RefClock c{read_hpet, arch::hpet::counter_bits(),
                   false,     lib::Rate{arch::hpet::kFemtosecondsPerSecond, arch::hpet::period_fs()},
                   nullptr,   nullptr};
  return window_retried(Source::Hpet, c);
}

Measurement measure_pm() {
  if (!arch::pmtimer::present()) return failed(Source::PmTimer, "no PM timer in the FADT");
  const RefClock c{read_pm, arch::pmtimer::bits(), false, lib::Rate{arch::pmtimer::kHz, 1}, nullptr, nullptr};
  return window_retried(Source::PmTimer, c);
}

Measurement measure_pit() {
  const RefClock c{read_pit,         arch::pit::kCounterBits, true, lib::Rate{arch::pit::kHz, 1},
                   arch::pit::start, arch::pit::stop};
  return window_retried(Source::Pit, c);
}

}  // namespace

const char* source_name(Source s) {
  switch (s) {
    case Source::Cpuid: return "cpuid";
    case Source::Hpet: return "hpet";
    case Source::PmTimer: return "pmtimer";
    case Source::Pit: return "pit";
    case Source::Uncalibrated: return "uncalibrated";
  }
  return "?";
}

Measurement measure(Source s) {
  const u64 flags = arch::read_rflags();
  arch::cli();
  Measurement m = failed(s, "no such source");
  switch (s) {
    case Source::Cpuid: m = measure_cpuid(); break;
    case Source::Hpet: m = measure_hpet(); break;
    case Source::PmTimer: m = measure_pm(); break;
    case Source::Pit: m = measure_pit(); break;
    case Source::Uncalibrated: break;
  }
  if ((flags & arch::kRflagsIf) != 0) arch::sti();
  return m;
}

BOOT_CODE void calibrate() {
  for (int i = 0; i < kSourceCount; ++i) g_attempts[i] = failed(static_cast<Source>(i), nullptr);
  for (int i = 0; i < static_cast<int>(Source::Uncalibrated); ++i) {
    const auto s = static_cast<Source>(i);
    Measurement m = measure(s);
    g_attempts[i] = m;
    if (!m.ok) continue;
    if (s == Source::Cpuid) {
      // CPUID's figure is checked against the first clock that gives a window (which also
      // calibrates the APIC timer, which CPUID says nothing about); with none, it stands
      // unchecked.
      g_cpuid_check.cpuid_hz = m.tsc_hz;
      for (int k = i + 1; k < static_cast<int>(Source::Uncalibrated) && !g_cpuid_check.against.ok; ++k) {
        g_attempts[k] = measure(static_cast<Source>(k));
        if (g_attempts[k].ok) g_cpuid_check.against = g_attempts[k];
      }
      if (g_cpuid_check.against.ok) {
        g_cpuid_check.ppm = lib::ppm_diff(m.tsc_hz, g_cpuid_check.against.tsc_hz);
        g_cpuid_check.rejected = g_cpuid_check.ppm > kCpuidTolerancePpm || g_cpuid_check.ppm < -kCpuidTolerancePpm;
        if (g_cpuid_check.rejected) {
          m = g_cpuid_check.against;
        } else {
          m.lapic_hz = g_cpuid_check.against.lapic_hz;
        }
      }
    }
    g_boot = m;
    g_hz = m.tsc_hz;
    g_source = m.source;
    // CPUID gives no window for the APIC timer: lapic::timer_calibrate() then measures it
    // against the TSC.
    if (m.lapic_hz != 0) arch::lapic::timer_set_hz(m.lapic_hz);
    return;
  }
  g_boot = failed(Source::Uncalibrated, "no reference clock answered");
}

const Measurement& boot_measurement() { return g_boot; }
const CpuidCheck& cpuid_check() { return g_cpuid_check; }
const Measurement& boot_attempt(Source s) { return g_attempts[static_cast<int>(s)]; }
u64 hz() { return g_hz; }
Source source() { return g_source; }
const char* source_name() { return source_name(g_source); }
// a * b / c without 128-bit division (no compiler runtime in the kernel); exact while
// (a % c) * b fits 64 bits, i.e. for any c below 2^34 and b up to 10^9.
static u64 mul_div(u64 a, u64 b, u64 c) { return (a / c) * b + (a % c) * b / c; }
u64 ticks_to_us(u64 t) { return mul_div(t, 1000000, g_hz); }
u64 ticks_to_ns(u64 t) { return mul_div(t, 1000000000, g_hz); }
u64 us_to_ticks(u64 us) { return mul_div(us, g_hz, 1000000); }
void delay_us(u64 us) {
  u64 end = arch::rdtsc() + us_to_ticks(us);
  while (arch::rdtsc() < end) arch::pause();
}
}  // namespace arch::tsc
