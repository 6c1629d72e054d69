// System commands: acpi, mptable, timing, crash, reboot, halt.
#include "acpi/acpi.hpp"
#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "debug/panic.hpp"
#include "kernel/timeline.hpp"
#include "lib/calibration.hpp"
#include "lib/string.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};

int cmd_acpi(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: acpi");
  if (acpi::g_ignored) {
    lib::format(monitor::out(), "ACPI ignored (acpi=off on the kernel command line): no table was read\n");
    return 0;
  }
  if (acpi::g_info.error == acpi::Error::NoRsdp) {
    // Nothing to list: the firmware gave no ACPI at all (OVMF or SeaBIOS "pc" with
    // -machine acpi=off).
    lib::format(monitor::out(), "ACPI: none (%s)\n", acpi::error_text(acpi::g_info.error));
    return 0;
  }
  lib::format(monitor::out(), "RSDP from %s\n", acpi::g_rsdp_source);
  acpi::format_tables(monitor::out(), acpi::g_info);
  return 0;
}

int cmd_mptable(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: mptable");
  if (!acpi::g_mp_read) {
    // The MP table is read only when there is no usable MADT (ACPI's list wins).
    lib::format(monitor::out(), "MP table: not read (the CPU list came from %s)\n",
                smp::g_cpu_list_source != nullptr ? smp::g_cpu_list_source : "nowhere");
    return 0;
  }
  acpi::format_mp(monitor::out(), acpi::g_mp, acpi::g_mp_error);
  return 0;
}

// `timing sources`: every reference clock measured now, one 10 ms window each, against the
// TSC and this CPU's APIC timer; the figures are compared with the boot calibration.
int timing_sources(lib::Sink& out) {
  if (monitor::in_panic_shell() || monitor::in_stop_shell())
    return monitor::error("timing sources runs the clocks; not while the other CPUs are stopped");
  lib::format(out, "source   state   tsc_hz       lapic_hz    ref_hz      window_us  vs_boot_ppm  note\n");
  for (int i = 0; i < static_cast<int>(arch::tsc::Source::Uncalibrated); ++i) {
    const auto s = static_cast<arch::tsc::Source>(i);
    const arch::tsc::Measurement m = arch::tsc::measure(s);
    const char* note = s == arch::tsc::source() ? "calibrated the TSC at boot" : "";
    if (!m.ok) {
      lib::format(out, "%-8s %-7s %-12s %-11s %-11s %-10s %-12s %s\n", arch::tsc::source_name(s), "absent", "-", "-",
                  "-", "-", "-", m.why != nullptr ? m.why : "");
      continue;
    }
    char ref[24], win[24], lapic[24];
    lib::snformat(ref, sizeof ref, "%lu", m.ref_hz);
    lib::snformat(win, sizeof win, "%lu", m.window_us);
    lib::snformat(lapic, sizeof lapic, "%lu", m.lapic_hz);
    const bool windowed = s != arch::tsc::Source::Cpuid;
    const i64 ppm = lib::ppm_diff(m.tsc_hz, arch::tsc::hz());
    lib::format(out, "%-8s %-7s %-12lu %-11s %-11s %-10s %c%-11ld %s\n", arch::tsc::source_name(s), "ok", m.tsc_hz,
                windowed ? lapic : "-", windowed ? ref : "-", windowed ? win : "-", ppm < 0 ? '-' : '+',
                ppm < 0 ? -ppm : ppm, note);
  }
  lib::format(out, "boot: tsc %lu Hz from %s, lapic timer %lu Hz\n", arch::tsc::hz(), arch::tsc::source_name(),
              arch::lapic::timer_hz());
  return 0;
}

void print_us(lib::Sink& out, const char* what, u64 from, u64 to) {
  u64 ns = to >= from ? arch::tsc::ticks_to_ns(to - from) : 0;
  lib::format(out, "  %8lu.%03lu us  %s\n", ns / 1000, ns % 1000, what);
}

int cmd_timing(const monitor::Args& a) {
  auto& out = monitor::out();
  if (a.argc == 2 && lib::streq(a.argv[1], "sources")) return timing_sources(out);
  if (a.argc != 1) return monitor::error("usage: timing [sources]");
  u64 t0 = kernel::timeline_tsc(kernel::Phase::Handoff);
  const arch::tsc::Measurement& cal = arch::tsc::boot_measurement();
  if (arch::tsc::source() == arch::tsc::Source::Uncalibrated)
    lib::format(out, "clock: TSC assumed %lu Hz, uncalibrated (%s)", arch::tsc::hz(), cal.why);
  else
    lib::format(out, "clock: TSC %lu Hz calibrated against %s", arch::tsc::hz(), arch::tsc::source_name());
  if (cal.ok && cal.ref_ticks != 0)
    lib::format(out, " (%lu ticks at %lu Hz, %lu us)", cal.ref_ticks, cal.ref_hz, cal.window_us);
  lib::format(out, "; APIC timer %lu Hz; 'timing sources' measures every clock\n", arch::lapic::timer_hz());
  lib::format(out, "boot timeline (TSC %lu Hz, %s), from the multiboot2 handoff:\n", arch::tsc::hz(),
              arch::tsc::source_name());
  for (int p = 0; p < static_cast<int>(kernel::Phase::Count); ++p) {
    auto ph = static_cast<kernel::Phase>(p);
    print_us(out, kernel::phase_name(ph), t0, kernel::timeline_tsc(ph));
  }
  const auto& b = smp::g_bringup;
  if (b.started == 0) {
    lib::format(out, "bring-up: no APs to start\n");
    return 0;
  }
  lib::format(out, "bring-up, from the first INIT (INIT-to-SIPI wait %lu us):\n", b.init_delay_us);
  print_us(out, "INIT sent to every AP", b.first_init_tsc, b.init_sent_tsc);
  print_us(out, "first SIPI round sent", b.first_init_tsc, b.sipi1_tsc);
  print_us(out, "second SIPI round sent", b.first_init_tsc, b.sipi2_tsc);
  for (u64 i = 1; i < smp::g_cpu_count; ++i) {
    const smp::CpuEntry& e = smp::g_cpus[i];
    char what[64];
    if (e.state == smp::CpuState::Online && e.arrival_tsc != 0) {
      lib::snformat(what, sizeof what, "cpu %lu (apic %u) online", i, e.apic_id);
      print_us(out, what, b.first_init_tsc, e.arrival_tsc);
    } else {
      lib::format(out, "  %12s  cpu %lu (apic %u) %s\n", "-", i, e.apic_id, smp::cpu_state_name(e.state));
    }
  }
  print_us(out, "last AP online", b.first_init_tsc, b.last_arrival_tsc);
  print_us(out, "arrival wait over", b.first_init_tsc, b.done_tsc);
  print_us(out, "identity mapping removed, TLBs flushed, MTRRs/PAT synced", b.first_init_tsc, b.flushed_tsc);
  lib::format(out, "%lu started, %lu online, %lu failed\n", b.started, b.arrived, b.failed);
  return 0;
}

// Deliberate faults. Each kind must end in the panic shell with a report.
volatile u64 g_sink;
volatile bool g_keep_going = true;  // opaque to the compiler: the recursion has no base case
[[gnu::noinline]] u64 recurse(u64 depth) {
  volatile u8 pad[512];
  pad[0] = static_cast<u8>(depth);
  if (!g_keep_going) return pad[0];
  return recurse(depth + 1) + pad[0];
}

enum class Crash { Pf, Gp, Ud, De, Stack, Bp };
bool g_guarded;  // `crash <kind> guarded`: let the monitor's command guard catch it
void do_crash(void* arg, const arch::TrapFrame*) {
  if (!g_guarded) debug::expect_crash();
  switch (*static_cast<Crash*>(arg)) {
    case Crash::Pf: g_sink = *reinterpret_cast<volatile u64*>(0xffff9fff00000000ULL); break;
    case Crash::Gp: g_sink = *reinterpret_cast<volatile u64*>(0x8000000000000000ULL); break;  // non-canonical
    case Crash::Ud: asm volatile("ud2"); break;
    case Crash::De: {
      volatile u64 zero = 0;
      u64 num = 1, q;
      asm volatile("divq %2" : "=a"(q), "+d"(num) : "r"(static_cast<u64>(zero)), "a"(u64{1}));
      g_sink = q;
      break;
    }
    case Crash::Stack: g_sink = recurse(0); break;
    case Crash::Bp: asm volatile("int3"); break;
  }
}

const char* const kCrashKeywords[] = {"pf", "gp", "ud", "de", "stack", "bp", nullptr};

int cmd_crash(const monitor::Args& a) {
  if (a.argc < 2 || a.argc > 3) return monitor::error("usage: crash pf|gp|ud|de|stack|bp [cpu|guarded]");
  static Crash kind;
  const char* k = a.argv[1];
  if (lib::streq(k, "pf"))
    kind = Crash::Pf;
  else if (lib::streq(k, "gp"))
    kind = Crash::Gp;
  else if (lib::streq(k, "ud"))
    kind = Crash::Ud;
  else if (lib::streq(k, "de"))
    kind = Crash::De;
  else if (lib::streq(k, "stack"))
    kind = Crash::Stack;
  else if (lib::streq(k, "bp"))
    kind = Crash::Bp;
  else
    return monitor::error("unknown crash kind '%s' (pf, gp, ud, de, stack, bp)", k);
  u64 cpu = smp::this_cpu()->index;
  g_guarded = a.argc == 3 && lib::streq(a.argv[2], "guarded");
  if (g_guarded && kind == Crash::Stack) return monitor::error("a stack overflow cannot be recovered from");
  if (a.argc == 3 && !g_guarded) {
    if (!lib::parse_u64(a.argv[2], &cpu) || cpu >= smp::g_cpu_count) return monitor::error("no cpu '%s'", a.argv[2]);
    smp::PerCpu* p = smp::cpu(cpu);
    if (p == nullptr || p->state != smp::CpuState::Online) return monitor::error("cpu %lu is not online", cpu);
  }
  lib::format(monitor::out(), "crash: raising %s on cpu %lu\n", k, cpu);
  if (cpu == smp::this_cpu()->index)
    do_crash(&kind, nullptr);
  else
    smp::xcall(cpu, do_crash, &kind, 1000000);
  // The other CPU panics and NMIs us; we only get here if it did not.
  return monitor::error("cpu %lu did not crash", cpu);
}

void stop_cpu(void*, const arch::TrapFrame*) {
  smp::this_cpu()->state = smp::CpuState::Stopped;
  arch::halt_forever();
}

int cmd_halt(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: halt");
  smp::xcall_others(stop_cpu, nullptr, 10000);
  lib::format(monitor::out(), "halted: all CPUs stopped; quit QEMU with Ctrl-A x\n");
  arch::halt_forever();
}

int cmd_reboot(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: reboot");
  lib::format(monitor::out(), "rebooting\n");
  // The 8042 keyboard controller's pulse-reset command (0xfe to port 0x64), then, if
  // that did nothing, a triple fault through an empty IDT.
  arch::outb(0x64, 0xfe);
  arch::tsc::delay_us(100000);
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } empty{0, 0};
  asm volatile("lidt %0; int3" : : "m"(empty));
  arch::halt_forever();
}

}  // namespace

MONITOR_COMMAND(acpi, "", "ACPI tables: address, length, checksum; MADT summary", cmd_acpi, kNoKeywords, true);
const char* const kTimingKeywords[] = {"sources", nullptr};
const char kTimingHelp[] =
    "timing: the clock (the TSC's rate and what it was calibrated against), the boot\n"
    "  phases from the multiboot2 handoff, INIT/SIPI and each AP's arrival.\n"
    "timing sources: measures the TSC and this CPU's APIC timer now against every\n"
    "  reference clock the machine has (cpuid, hpet, pmtimer, pit; one 10 ms window\n"
    "  each), with each one's deviation from the boot calibration in ppm.\n"
    "examples: timing    timing sources";
const char kMptableHelp[] =
    "mptable: the Intel MultiProcessor Specification 1.4 table (floating pointer, header,\n"
    "  processors, buses, I/O APICs), read when there is no usable ACPI MADT.\n"
    "examples: mptable";
MONITOR_COMMAND(timing, "[sources]", "boot timeline; 'sources': every clock measured against the TSC", cmd_timing,
                kTimingKeywords, true, kTimingHelp);
MONITOR_COMMAND(mptable, "", "MP table (MP spec 1.4): processors, I/O APICs", cmd_mptable, kNoKeywords, true,
                kMptableHelp);
MONITOR_COMMAND(crash, "<kind> [cpu|guarded]",
                "raise a fault on purpose: pf gp ud de stack bp; 'guarded': caught, back to the prompt", cmd_crash,
                kCrashKeywords, false);
MONITOR_COMMAND(halt, "", "stop every CPU", cmd_halt, kNoKeywords, true);
MONITOR_COMMAND(reboot, "", "reset the machine", cmd_reboot, kNoKeywords, true);
