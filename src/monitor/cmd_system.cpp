// System commands: acpi, mptable, timing, crash, reboot, halt.
#include "acpi/acpi.hpp"
#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "debug/panic.hpp"
#include "kernel/timeline.hpp"
#include "lib/calibration.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};

// acpi -j: {"ignored","none","rsdp_source", then acpi::tables_json's members}: ignored
// (acpi=off) and none (no RSDP: the reason) are the text's one-line answers; the rest is
// null or absent then.
void acpi_json(lib::Sink& out) {
  lib::Json j(out);
  j.begin_object().member("ignored", acpi::g_ignored).key("none");
  const bool none = !acpi::g_ignored && acpi::g_info.error == acpi::Error::NoRsdp;
  if (none) {
    j.str(acpi::error_text(acpi::g_info.error));
  } else {
    j.null();
  }
  j.key("rsdp_source");
  if (acpi::g_ignored || none) {
    j.null().end_object();
    (void)j.finish();
    return;
  }
  j.str(acpi::g_rsdp_source);
  acpi::tables_json(j, acpi::g_info);
  j.end_object();
  (void)j.finish();
}

int cmd_acpi(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: acpi");
  if (monitor::json()) {
    acpi_json(monitor::out());
    return 0;
  }
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

// mptable -j: {"read","cpu_list_source", then acpi::mp_json's members when read}; read
// false is the text's "not read (the CPU list came from ...)".
void mptable_json(lib::Sink& out) {
  lib::Json j(out);
  j.begin_object().member("read", acpi::g_mp_read).key("cpu_list_source");
  if (smp::g_cpu_list_source != nullptr) {
    j.str(smp::g_cpu_list_source);
  } else {
    j.null();
  }
  if (acpi::g_mp_read) acpi::mp_json(j, acpi::g_mp, acpi::g_mp_error);
  j.end_object();
  (void)j.finish();
}

int cmd_mptable(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: mptable");
  if (monitor::json()) {
    mptable_json(monitor::out());
    return 0;
  }
  if (!acpi::g_mp_read) {
    // The MP table is read only when there is no usable MADT (ACPI's list wins).
    lib::format(monitor::out(), "MP table: not read (the CPU list came from %s)\n",
                smp::g_cpu_list_source != nullptr ? smp::g_cpu_list_source : "nowhere");
    return 0;
  }
  acpi::format_mp(monitor::out(), acpi::g_mp, acpi::g_mp_error);
  return 0;
}

// One line of `timing sources`: a reference clock measured now.
struct SourceRow {
  arch::tsc::Source source;
  arch::tsc::Measurement m;
  bool windowed;  // measured over a window (all but cpuid): lapic_hz, ref_hz, window_us apply
  i64 ppm;        // the TSC rate found vs the boot calibration
  const char* note;
};
constexpr int kSourceCount = static_cast<int>(arch::tsc::Source::Uncalibrated);

SourceRow measure_source(arch::tsc::Source s) {
  SourceRow r{s, arch::tsc::measure(s), s != arch::tsc::Source::Cpuid, 0,
              s == arch::tsc::source() ? "calibrated the TSC at boot" : ""};
  if (r.m.ok) r.ppm = lib::ppm_diff(r.m.tsc_hz, arch::tsc::hz());
  return r;
}

// timing sources -j: {"sources":[{"source","state","tsc_hz","lapic_hz","ref_hz",
// "window_us","vs_boot_ppm","note"}],"boot":{"tsc_hz","source","lapic_hz"}}: the text's
// columns and its last line; "-" there is null here, and so is an empty note.
void sources_json(lib::Sink& out, const SourceRow rows[kSourceCount]) {
  lib::Json j(out);
  auto num_or_null = [&](const char* k, bool have, u64 v) {
    j.key(k);
    if (have) {
      j.num(v);
    } else {
      j.null();
    }
  };
  j.begin_object().key("sources").begin_array();
  for (int i = 0; i < kSourceCount; ++i) {
    const SourceRow& r = rows[i];
    const bool ok = r.m.ok, win = ok && r.windowed;
    j.begin_object().member("source", arch::tsc::source_name(r.source)).member("state", ok ? "ok" : "absent");
    num_or_null("tsc_hz", ok, r.m.tsc_hz);
    num_or_null("lapic_hz", win, r.m.lapic_hz);
    num_or_null("ref_hz", win, r.m.ref_hz);
    num_or_null("window_us", win, r.m.window_us);
    j.key("vs_boot_ppm");
    if (ok) {
      j.snum(r.ppm);
    } else {
      j.null();
    }
    const char* note = ok ? r.note : r.m.why;
    j.key("note");
    if (note != nullptr && note[0] != '\0') {
      j.str(note);
    } else {
      j.null();
    }
    j.end_object();
  }
  j.end_array().key("boot").begin_object().member("tsc_hz", arch::tsc::hz());
  j.member("source", arch::tsc::source_name()).member("lapic_hz", arch::lapic::timer_hz()).end_object();
  j.end_object();
  (void)j.finish();
}

// `timing sources`: every reference clock measured now, one 10 ms window each, against the
// TSC and this CPU's APIC timer; the figures are compared with the boot calibration.
int timing_sources(lib::Sink& out) {
  if (monitor::in_panic_shell() || monitor::in_stop_shell())
    return monitor::error("timing sources runs the clocks; not while the other CPUs are stopped");
  SourceRow rows[kSourceCount];
  for (int i = 0; i < kSourceCount; ++i) rows[i] = measure_source(static_cast<arch::tsc::Source>(i));
  if (monitor::json()) {
    sources_json(out, rows);
    return 0;
  }
  lib::format(out, "source   state   tsc_hz       lapic_hz    ref_hz      window_us  vs_boot_ppm  note\n");
  for (const SourceRow& r : rows) {
    const arch::tsc::Measurement& m = r.m;
    if (!m.ok) {
      lib::format(out, "%-8s %-7s %-12s %-11s %-11s %-10s %-12s %s\n", arch::tsc::source_name(r.source), "absent", "-",
                  "-", "-", "-", "-", m.why != nullptr ? m.why : "");
      continue;
    }
    char ref[24], win[24], lapic[24];
    lib::snformat(ref, sizeof ref, "%lu", m.ref_hz);
    lib::snformat(win, sizeof win, "%lu", m.window_us);
    lib::snformat(lapic, sizeof lapic, "%lu", m.lapic_hz);
    lib::format(out, "%-8s %-7s %-12lu %-11s %-11s %-10s %c%-11ld %s\n", arch::tsc::source_name(r.source), "ok",
                m.tsc_hz, r.windowed ? lapic : "-", r.windowed ? ref : "-", r.windowed ? win : "-",
                r.ppm < 0 ? '-' : '+', r.ppm < 0 ? -r.ppm : r.ppm, r.note);
  }
  lib::format(out, "boot: tsc %lu Hz from %s, lapic timer %lu Hz\n", arch::tsc::hz(), arch::tsc::source_name(),
              arch::lapic::timer_hz());
  return 0;
}

// Nanoseconds from `from` to `to` (TSC); 0 when `to` is not later.
u64 span_ns(u64 from, u64 to) { return to >= from ? arch::tsc::ticks_to_ns(to - from) : 0; }

void print_us(lib::Sink& out, const char* what, u64 from, u64 to) {
  u64 ns = span_ns(from, to);
  lib::format(out, "  %8lu.%03lu us  %s\n", ns / 1000, ns % 1000, what);
}

constexpr unsigned kUsDecimals = 3;  // microseconds with nanosecond digits, as the text

// timing -j: {"clock":{...},"boot":[{"phase","us"}],"bringup":{...}|null}; every figure of
// the text as a number (us as fixed-point with 3 decimals), the text's sentences as
// member names (the README's JSON views list them).
void timing_json(lib::Sink& out) {
  lib::Json j(out);
  const arch::tsc::Measurement& cal = arch::tsc::boot_measurement();
  const bool calibrated = arch::tsc::source() != arch::tsc::Source::Uncalibrated;
  const bool window = cal.ok && cal.ref_ticks != 0;
  j.begin_object().key("clock").begin_object().member("tsc_hz", arch::tsc::hz());
  j.member("source", arch::tsc::source_name()).member("calibrated", calibrated).key("why");
  if (calibrated) {
    j.null();
  } else {
    j.str(cal.why);
  }
  j.key("ref_ticks");
  if (window) {
    j.num(cal.ref_ticks).member("ref_hz", cal.ref_hz).member("window_us", cal.window_us);
  } else {
    j.null().key("ref_hz").null().key("window_us").null();
  }
  j.member("lapic_hz", arch::lapic::timer_hz()).end_object();

  const u64 t0 = kernel::timeline_tsc(kernel::Phase::Handoff);
  j.key("boot").begin_array();
  for (int p = 0; p < static_cast<int>(kernel::Phase::Count); ++p) {
    auto ph = static_cast<kernel::Phase>(p);
    j.begin_object().member("phase", kernel::phase_name(ph));
    j.member_fixed("us", span_ns(t0, kernel::timeline_tsc(ph)), kUsDecimals).end_object();
  }
  j.end_array().key("bringup");
  const auto& b = smp::g_bringup;
  if (b.started == 0) {
    j.null().end_object();
    (void)j.finish();
    return;
  }
  const u64 o = b.first_init_tsc;
  j.begin_object().member("init_delay_us", b.init_delay_us);
  j.member_fixed("init_sent_us", span_ns(o, b.init_sent_tsc), kUsDecimals);
  j.member_fixed("sipi1_us", span_ns(o, b.sipi1_tsc), kUsDecimals);
  j.member_fixed("sipi2_us", span_ns(o, b.sipi2_tsc), kUsDecimals);
  j.key("cpus").begin_array();
  for (u64 i = 1; i < smp::g_cpu_count; ++i) {
    const smp::CpuEntry& e = smp::g_cpus[i];
    j.begin_object().member("index", i).member("apic", e.apic_id).member("state", smp::cpu_state_name(e.state));
    j.key("us");
    if (e.state == smp::CpuState::Online && e.arrival_tsc != 0) {
      j.fixed(span_ns(o, e.arrival_tsc), kUsDecimals);
    } else {
      j.null();
    }
    j.end_object();
  }
  j.end_array();
  j.member_fixed("last_online_us", span_ns(o, b.last_arrival_tsc), kUsDecimals);
  j.member_fixed("wait_over_us", span_ns(o, b.done_tsc), kUsDecimals);
  j.member_fixed("flushed_us", span_ns(o, b.flushed_tsc), kUsDecimals);
  j.member("started", b.started).member("online", b.arrived).member("failed", b.failed);
  j.end_object().end_object();
  (void)j.finish();
}

int cmd_timing(const monitor::Args& a) {
  auto& out = monitor::out();
  if (a.argc == 2 && lib::streq(a.argv[1], "sources")) return timing_sources(out);
  if (a.argc != 1) return monitor::error("usage: timing [sources]");
  if (monitor::json()) {
    timing_json(out);
    return 0;
  }
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

MONITOR_COMMAND(acpi, "", "ACPI tables: address, length, checksum; MADT summary", cmd_acpi, kNoKeywords, true,
                monitor::kNoHelp, monitor::kJsonView);
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
                kTimingKeywords, true, kTimingHelp, monitor::kJsonView);
MONITOR_COMMAND(mptable, "", "MP table (MP spec 1.4): processors, I/O APICs", cmd_mptable, kNoKeywords, true,
                kMptableHelp, monitor::kJsonView);
MONITOR_COMMAND(crash, "<kind> [cpu|guarded]",
                "raise a fault on purpose: pf gp ud de stack bp; 'guarded': caught, back to the prompt", cmd_crash,
                kCrashKeywords, false);
MONITOR_COMMAND(halt, "", "stop every CPU", cmd_halt, kNoKeywords, true);
MONITOR_COMMAND(reboot, "", "reset the machine", cmd_reboot, kNoKeywords, true);
