#include "arch/tsc.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "lib/boot_code.hpp"

namespace arch::tsc {
namespace {
u64 g_hz = 1000000000;  // a guess until calibrate(): bounded waits still terminate
Source g_source = Source::Unknown;

// 8254 PIT (Intel 8254 data sheet): channel 2's gate and output are in port 0x61.
constexpr u16 kPitCh2 = 0x42, kPitCmd = 0x43, kPort61 = 0x61;
constexpr u64 kPitHz = 1193182;
constexpr u8 kGate = 0x01, kSpeaker = 0x02;
constexpr u64 kPitWindowMs = 10;

u64 g_apic_hz_measured;  // APIC timer rate seen in the same PIT window

// Reads PIT channel 2's count with the counter-latch command (8254 data sheet, "Counter
// Latch Command"): the count is frozen for the two reads, so lo/hi are consistent.
u16 read_ch2() {
  arch::outb(kPitCmd, 0x80);  // SC=10 (channel 2), RW=00 (latch)
  u8 lo = arch::inb(kPitCh2);
  u8 hi = arch::inb(kPitCh2);
  return static_cast<u16>(lo | (hi << 8));
}

// Counts TSC ticks against PIT ticks over about `ms`. The elapsed PIT ticks are read
// back from the counter itself rather than inferred from OUT2 going high, so a late
// start (the count begins when it is written, not when we first look) or a slow port
// access cannot stretch the window: both clocks are read at the same two instants.
BOOT_CODE u64 calibrate_pit(u64 ms) {
  u64 want = kPitHz * ms / 1000;  // must stay below 0xffff (55 ms)
  u8 p61 = arch::inb(kPort61);
  arch::outb(kPort61, static_cast<u8>((p61 & ~kSpeaker) | kGate));
  // Channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count), binary, from 0xffff.
  arch::outb(kPitCmd, 0xb0);
  arch::outb(kPitCh2, 0xff);
  arch::outb(kPitCh2, 0xff);
  u16 c0 = read_ch2();
  u64 t0 = arch::rdtsc();
  u32 apic0 = arch::lapic::timer_start_free_running();
  u16 c = c0;
  u64 spins = 0;
  while (static_cast<u16>(c0 - c) < want) {
    c = read_ch2();
    if (++spins > 10000000) {  // no PIT: give up rather than hang
      arch::outb(kPort61, p61);
      return 0;
    }
  }
  u64 t1 = arch::rdtsc();
  u64 apic_ticks = apic0 - arch::lapic::timer_stop();
  arch::outb(kPort61, p61);
  u64 pit_ticks = static_cast<u16>(c0 - c);
  g_apic_hz_measured = apic_ticks * kPitHz / pit_ticks;
  return (t1 - t0) * kPitHz / pit_ticks;
}
}  // namespace

BOOT_CODE void calibrate() {
  u32 max_leaf = arch::cpuid(0).eax;
  if (max_leaf >= 0x15) {
    // CPUID 0x15: TSC/crystal ratio EBX/EAX and the crystal in ECX (SDM Vol. 2A, CPUID).
    auto r = arch::cpuid(0x15);
    if (r.eax != 0 && r.ebx != 0 && r.ecx != 0) {
      g_hz = u64{r.ecx} * r.ebx / r.eax;
      g_source = Source::Cpuid15;
      return;
    }
  }
  // The PIT measures the real rate; CPUID 0x16's nominal MHz is only a fallback. One
  // 10 ms window (0.01% resolution at the PIT's 1.19 MHz) also calibrates the APIC timer.
  u64 hz = calibrate_pit(kPitWindowMs);
  if (hz != 0) {
    g_hz = hz;
    g_source = Source::Pit;
    arch::lapic::timer_set_hz(g_apic_hz_measured);
    return;
  }
  if (max_leaf >= 0x16) {
    auto r = arch::cpuid(0x16);
    if ((r.eax & 0xffff) != 0) {
      g_hz = u64{r.eax & 0xffff} * 1000000;
      g_source = Source::Cpuid16;
    }
  }
}

u64 hz() { return g_hz; }
Source source() { return g_source; }
const char* source_name() {
  switch (g_source) {
    case Source::Cpuid15: return "cpuid-0x15";
    case Source::Cpuid16: return "cpuid-0x16";
    case Source::Pit: return "pit";
    default: return "uncalibrated";
  }
}
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
