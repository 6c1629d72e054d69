// CPU commands: cpus, percpu, regs, ipi. Anything "as that CPU sees it now" is read on
// that CPU through a cross-CPU call (smp/xcall), by NMI if it ignores the IPI.
#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "debug/panic.hpp"
#include "debug/stop.hpp"
#include "kernel/ksyms.hpp"
#include "kernel/spin.hpp"
#include "kernel/stop_clock.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/examine.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace {

constexpr u64 kXcallTimeoutUs = 100000;  // 100 ms: an idle CPU answers in microseconds

const char* const kNoKeywords[] = {nullptr};
const char* const kAllKeywords[] = {"all", nullptr};

u64 arrival_us(const smp::CpuEntry& e) {
  u64 origin = smp::g_bringup.first_init_tsc;
  if (e.arrival_tsc == 0 || origin == 0 || e.arrival_tsc < origin) return 0;
  return arch::tsc::ticks_to_us(e.arrival_tsc - origin);
}

// The lapic column: the mode a CPU's local APIC was left in by its arrival ("-" for a CPU
// that never ran kernel code); "x2apic(fw)" when firmware had switched it already.
const char* lapic_column(const smp::CpuEntry& e, smp::CpuState st) {
  if (e.percpu == nullptr || st == smp::CpuState::Offline || st == smp::CpuState::Starting ||
      st == smp::CpuState::Failed)
    return "-";
  return arch::lapic::mode_name(e.percpu->apic_mode);
}

// cpus -j: {"cpus":[{"index","apic","state","slot","arrival_us","lapic","uid","bootstrap"}]},
// the columns of the text; "-" there is null here.
void cpus_json(lib::Sink& out) {
  lib::Json j(out);
  j.begin_object().key("cpus").begin_array();
  for (u64 i = 0; i < smp::g_cpu_count; ++i) {
    const smp::CpuEntry& e = smp::g_cpus[i];
    smp::CpuState st = e.percpu != nullptr ? e.percpu->state.load() : e.state;
    j.begin_object().member("index", i).member("apic", e.apic_id).member("state", smp::cpu_state_name(st));
    j.member_addr("slot", mm::layout::percpu_slot(i)).member("arrival_us", i == 0 ? 0 : arrival_us(e));
    monitor::text_member(j, "lapic", lapic_column(e, st));
    j.member("uid", e.acpi_uid).member("bootstrap", i == 0).end_object();
  }
  for (u64 k = 0; k < smp::g_noslot_count; ++k) {
    const smp::NoSlotCpu& n = smp::g_noslot[k];
    j.begin_object().member("index", smp::g_cpu_count + k).member("apic", n.apic_id);
    j.member("state", n.enabled ? "noslot" : "offline").key("slot").null().key("arrival_us").null();
    j.key("lapic").null().member("uid", n.acpi_uid).member("bootstrap", false).end_object();
  }
  j.end_array().end_object();
  (void)j.finish();
}

int cmd_cpus(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: cpus [-j]");
  auto& out = monitor::out();
  if (monitor::json()) {
    cpus_json(out);
    return 0;
  }
  lib::format(out, "index apic state   slot               arrival_us  lapic      uid\n");
  for (u64 i = 0; i < smp::g_cpu_count; ++i) {
    const smp::CpuEntry& e = smp::g_cpus[i];
    smp::CpuState st = e.percpu != nullptr ? e.percpu->state.load() : e.state;
    lib::format(out, "%-5lu %-4u %-7s 0x%016lx %-11lu %-10s %u%s\n", i, e.apic_id, smp::cpu_state_name(st),
                mm::layout::percpu_slot(i), i == 0 ? 0 : arrival_us(e), lapic_column(e, st), e.acpi_uid,
                i == 0 ? " (bootstrap)" : "");
  }
  // Listed by the firmware beyond the slots: indices go on so every line has one.
  for (u64 k = 0; k < smp::g_noslot_count; ++k) {
    const smp::NoSlotCpu& n = smp::g_noslot[k];
    lib::format(out, "%-5lu %-4u %-7s %-18s %-11s %-10s %u\n", smp::g_cpu_count + k, n.apic_id,
                n.enabled ? "noslot" : "offline", "-", "-", "-", n.acpi_uid);
  }
  return 0;
}

struct GsProbe {
  u64 gs_base;
  u64 rsp;
};
void probe_gs(void* arg, const arch::TrapFrame* f) {
  auto* p = static_cast<GsProbe*>(arg);
  p->gs_base = arch::rdmsr(arch::msr::kGsBase);
  p->rsp = f->rsp;
}

// gs_base as percpu shows it: read on that CPU now, or (stopped) its slot's address.
struct GsRead {
  bool known;
  u64 value;
  const char* note;  // the text's parenthesis; nullptr when read on that CPU now
};

GsRead read_gs_base(u64 i, const smp::PerCpu* p) {
  if (p == nullptr) return {false, 0, "no slot backed"};
  if (monitor::in_panic_shell()) {
    if (i == smp::this_cpu()->index) return {true, arch::rdmsr(arch::msr::kGsBase), nullptr};
    return {true, reinterpret_cast<u64>(p->self), "stopped; its slot"};
  }
  GsProbe probe{};
  smp::XcallResult r = smp::xcall(i, probe_gs, &probe, kXcallTimeoutUs);
  if (r == smp::XcallResult::Done || r == smp::XcallResult::DoneViaNmi) return {true, probe.gs_base, nullptr};
  return {false, 0, smp::xcall_result_name(r)};
}

const char* const kIstUse[mm::layout::kIstCount] = {"#DF", "NMI", "#MC"};

// percpu's keys, read once for either form.
struct PercpuView {
  u64 index;
  u32 apic;
  smp::CpuState state;
  const smp::PerCpu* p;  // nullptr: no slot backed, and nothing below gs_base
  GsRead gs;
  u64 stack_used, arrival_us, ipis, nmis, exceptions;
};

PercpuView read_percpu(u64 i) {
  const smp::CpuEntry& e = smp::g_cpus[i];
  const smp::PerCpu* p = e.percpu;
  PercpuView v{};
  v.index = i;
  v.apic = e.apic_id;
  v.state = p != nullptr ? p->state.load() : e.state;
  v.p = p;
  v.gs = read_gs_base(i, p);
  if (p == nullptr) return v;
  v.stack_used = smp::stack_high_water(p);
  v.arrival_us = i == 0 ? 0 : arrival_us(e);
  v.ipis = p->ipis.load();
  v.nmis = p->nmis.load();
  v.exceptions = p->exceptions.load();
  return v;
}

void print_percpu(const PercpuView& v) {
  auto& out = monitor::out();
  lib::format(out, "cpu: %lu\napic: %u\nstate: %s\nbase: 0x%016lx\n", v.index, v.apic, smp::cpu_state_name(v.state),
              mm::layout::percpu_slot(v.index));
  const smp::PerCpu* p = v.p;
  if (p == nullptr) {
    lib::format(out, "gs_base: none (%s)\n", v.gs.note);
    return;
  }
  if (!v.gs.known)
    lib::format(out, "gs_base: unavailable (%s)\n", v.gs.note);
  else if (v.gs.note != nullptr)
    lib::format(out, "gs_base: 0x%016lx (%s)\n", v.gs.value, v.gs.note);
  else
    lib::format(out, "gs_base: 0x%016lx\n", v.gs.value);
  lib::format(out, "self: 0x%016lx\n", reinterpret_cast<u64>(p->self));
  lib::format(out, "stack: 0x%016lx-0x%016lx\n", p->stack_lo, p->stack_hi);
  lib::format(out, "stack_used: %lu of %lu bytes (high-water mark)\n", v.stack_used, p->stack_hi - p->stack_lo);
  for (unsigned k = 0; k < mm::layout::kIstCount; ++k)
    lib::format(out, "ist%u: 0x%016lx-0x%016lx %s\n", k + 1, p->ist_lo[k], p->ist_hi[k], kIstUse[k]);
  lib::format(out, "arrival_us: %lu\n", v.arrival_us);
  lib::format(out, "ipis: %lu\nnmis: %lu\nexceptions: %lu\n", v.ipis, v.nmis, v.exceptions);
}

void range_json(lib::Json& j, const char* key, u64 lo, u64 hi, const char* use) {
  j.key(key).begin_object().member_addr("lo", lo).member_addr("hi", hi);
  if (use != nullptr) j.member("for", use);
  j.end_object();
}

// One CPU's percpu object: the text's keys; the parts the text leaves out for a CPU with
// no slot backed are null, so every object has the same members.
void percpu_json(lib::Json& j, const PercpuView& v) {
  j.begin_object().member("cpu", v.index).member("apic", v.apic).member("state", smp::cpu_state_name(v.state));
  j.member_addr("base", mm::layout::percpu_slot(v.index)).key("gs_base");
  if (v.gs.known)
    j.addr(v.gs.value);
  else
    j.null();
  j.key("gs_base_note");
  if (v.gs.note != nullptr)
    j.str(v.gs.note);
  else
    j.null();
  const smp::PerCpu* p = v.p;
  if (p == nullptr) {
    const char* const rest[] = {"self", "stack",      "stack_used", "stack_size", "ist1",      "ist2",
                                "ist3", "arrival_us", "ipis",       "nmis",       "exceptions"};
    for (const char* k : rest) j.key(k).null();
    j.end_object();
    return;
  }
  j.member_addr("self", reinterpret_cast<u64>(p->self));
  range_json(j, "stack", p->stack_lo, p->stack_hi, nullptr);
  j.member("stack_used", v.stack_used).member("stack_size", p->stack_hi - p->stack_lo);
  static_assert(mm::layout::kIstCount == 3, "the ist keys below");
  const char* const ist_keys[] = {"ist1", "ist2", "ist3"};
  for (unsigned k = 0; k < mm::layout::kIstCount; ++k)
    range_json(j, ist_keys[k], p->ist_lo[k], p->ist_hi[k], kIstUse[k]);
  j.member("arrival_us", v.arrival_us).member("ipis", v.ipis).member("nmis", v.nmis);
  j.member("exceptions", v.exceptions).end_object();
}

int cmd_percpu(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: percpu <n>|all");
  bool all = lib::streq(a.argv[1], "all");
  u64 i = 0;
  if (!all && !monitor::parse_cpu(a.argv[1], monitor::CpuArg::Listed, &i)) return 1;
  auto& out = monitor::out();
  if (monitor::json()) {
    lib::Json j(out);
    if (all) {
      j.begin_object().key("cpus").begin_array();
      for (u64 k = 0; k < smp::g_cpu_count; ++k) percpu_json(j, read_percpu(k));
      j.end_array().end_object();
    } else {
      percpu_json(j, read_percpu(i));
    }
    (void)j.finish();
    return 0;
  }
  if (!all) {
    print_percpu(read_percpu(i));
    return 0;
  }
  for (u64 k = 0; k < smp::g_cpu_count; ++k) {
    if (k != 0) lib::format(out, "\n");
    print_percpu(read_percpu(k));
  }
  return 0;
}

struct RegsSnap {
  arch::TrapFrame f;
  u64 cr0, cr2, cr3, cr4, efer, gs_base, apic_id;
};
void snap_regs(void* arg, const arch::TrapFrame* f) {
  auto* s = static_cast<RegsSnap*>(arg);
  s->f = *f;
  s->cr0 = arch::read_cr0();
  s->cr2 = arch::read_cr2();
  s->cr3 = arch::read_cr3();
  s->cr4 = arch::read_cr4();
  s->efer = arch::rdmsr(arch::msr::kEfer);
  s->gs_base = arch::rdmsr(arch::msr::kGsBase);
  s->apic_id = arch::lapic::id();
}

void print_regs(u64 i, const RegsSnap& s, const char* how) {
  auto& out = monitor::out();
  const arch::TrapFrame& f = s.f;
  lib::format(out, "cpu %lu apic %lu (%s)\n", i, s.apic_id, how);
  lib::format(out, "rip=0x%016lx ", f.rip);
  kernel::ksyms::print(out, f.rip);
  lib::format(out, "\nrsp=0x%016lx rbp=0x%016lx rflags=0x%016lx\n", f.rsp, f.rbp, f.rflags);
  lib::format(out, "rax=0x%016lx rbx=0x%016lx rcx=0x%016lx rdx=0x%016lx\n", f.rax, f.rbx, f.rcx, f.rdx);
  lib::format(out, "rsi=0x%016lx rdi=0x%016lx r8=0x%016lx r9=0x%016lx\n", f.rsi, f.rdi, f.r8, f.r9);
  lib::format(out, "r10=0x%016lx r11=0x%016lx r12=0x%016lx r13=0x%016lx\n", f.r10, f.r11, f.r12, f.r13);
  lib::format(out, "r14=0x%016lx r15=0x%016lx cs=0x%lx ss=0x%lx\n", f.r14, f.r15, f.cs, f.ss);
  lib::format(out, "cr0=0x%016lx cr2=0x%016lx cr3=0x%016lx cr4=0x%016lx\n", s.cr0, s.cr2, s.cr3, s.cr4);
  lib::format(out, "efer=0x%016lx gs_base=0x%016lx\n", s.efer, s.gs_base);
}

// A symbol and the offset into it as two members, null when unknown (the text's "?").
void symbol_json(lib::Json& j, const char* name_key, const char* offset_key, u64 addr) {
  u64 off = 0;
  const char* name = kernel::ksyms::lookup(addr, &off);
  if (name == nullptr) {
    j.key(name_key).null().key(offset_key).null();
    return;
  }
  j.member(name_key, name).member(offset_key, off);
}

constexpr unsigned kRegDigits = 16;  // the text's 0x%016lx

// regs -j: the register names as keys, raw values as the text shows them (cs and ss in as
// few digits as the text; the rest 16); rip's symbol as rip_symbol and rip_offset.
void regs_json(u64 i, const RegsSnap& s, const char* how) {
  const arch::TrapFrame& f = s.f;
  lib::Json j(monitor::out());
  j.begin_object().member("cpu", i).member("apic", s.apic_id).member("source", how);
  j.member_hex("rip", f.rip, kRegDigits);
  symbol_json(j, "rip_symbol", "rip_offset", f.rip);
  const struct {
    const char* name;
    u64 value;
    unsigned digits;
  } regs[] = {
      {"rsp", f.rsp, kRegDigits},
      {"rbp", f.rbp, kRegDigits},
      {"rflags", f.rflags, kRegDigits},
      {"rax", f.rax, kRegDigits},
      {"rbx", f.rbx, kRegDigits},
      {"rcx", f.rcx, kRegDigits},
      {"rdx", f.rdx, kRegDigits},
      {"rsi", f.rsi, kRegDigits},
      {"rdi", f.rdi, kRegDigits},
      {"r8", f.r8, kRegDigits},
      {"r9", f.r9, kRegDigits},
      {"r10", f.r10, kRegDigits},
      {"r11", f.r11, kRegDigits},
      {"r12", f.r12, kRegDigits},
      {"r13", f.r13, kRegDigits},
      {"r14", f.r14, kRegDigits},
      {"r15", f.r15, kRegDigits},
      {"cs", f.cs, 0},
      {"ss", f.ss, 0},
      {"cr0", s.cr0, kRegDigits},
      {"cr2", s.cr2, kRegDigits},
      {"cr3", s.cr3, kRegDigits},
      {"cr4", s.cr4, kRegDigits},
      {"efer", s.efer, kRegDigits},
      {"gs_base", s.gs_base, kRegDigits},
  };
  for (const auto& r : regs) j.member_hex(r.name, r.value, r.digits);
  j.end_object();
  (void)j.finish();
}

int cmd_regs(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: regs <n>");
  u64 i;
  if (!monitor::parse_cpu(a.argv[1], monitor::CpuArg::Listed, &i)) return 1;
  smp::PerCpu* p = smp::cpu(i);
  if (p == nullptr) return monitor::error("cpu %lu has no slot (%s)", i, smp::cpu_state_name(smp::g_cpus[i].state));
  RegsSnap s{};
  const char* how = "ipi";
  // Stopped (panic or kstop>): every CPU's frame as it saved it, the shell's own CPU too
  // (its frame where it faulted or hit the breakpoint, not the shell's registers).
  if (monitor::in_panic_shell() && (p != smp::this_cpu() || p->stopped_frame != nullptr)) {
    if (p->stopped_frame == nullptr) return monitor::error("cpu %lu did not stop with a saved frame", i);
    // Everything from what that CPU saved itself in the NMI that stopped it.
    s.f = *p->stopped_frame;
    s.cr0 = p->stopped_sys.cr0;
    s.cr2 = p->stopped_sys.cr2;
    s.cr3 = p->stopped_sys.cr3;
    s.cr4 = p->stopped_sys.cr4;
    s.efer = p->stopped_sys.efer;
    s.gs_base = p->stopped_sys.gs_base;
    s.apic_id = p->apic_id;
    how = smp::stop_source_text(p->stopped_how);
  } else {
    if (p->state != smp::CpuState::Online)
      return monitor::error("cpu %lu is %s; no registers to take", i, smp::cpu_state_name(p->state));
    smp::XcallResult r = smp::xcall(i, snap_regs, &s, kXcallTimeoutUs);
    if (r != smp::XcallResult::Done && r != smp::XcallResult::DoneViaNmi)
      return monitor::error("cpu %lu did not answer (%s)", i, smp::xcall_result_name(r));
    how = p == smp::this_cpu()          ? "this cpu"
          : r == smp::XcallResult::Done ? "taken on that cpu: ipi"
                                        : "taken on that cpu: nmi";
  }
  if (monitor::json())
    regs_json(i, s, how);
  else
    print_regs(i, s, how);
  return 0;
}

void ping(void*, const arch::TrapFrame*) {}

constexpr unsigned kNsDigits = 3;  // us with the ns digits

int cmd_ipi(const monitor::Args& a) {
  if (a.argc < 2 || a.argc > 3) return monitor::error("usage: ipi <n> [count]");
  if (monitor::in_panic_shell()) return monitor::error("the other CPUs are stopped");
  u64 i, count = 16;
  if (!monitor::parse_cpu(a.argv[1], monitor::CpuArg::Listed, &i)) return 1;
  // The text form says what was wrong with the number first; -j prints one error only.
  lib::Sink* count_err = monitor::json() ? nullptr : &monitor::out();
  if (a.argc == 3 && (!monitor::parse_count(a.argv[2], &count, count_err) || count == 0 || count > 10000))
    return monitor::error("count must be 1-10000");
  smp::PerCpu* p = smp::cpu(i);
  if (p == nullptr || p->state != smp::CpuState::Online) return monitor::error("cpu %lu is not online", i);
  if (p == smp::this_cpu()) return monitor::error("cpu %lu is this cpu; pick another", i);
  u64 min = ~0ULL, max = 0, sum = 0;
  for (u64 k = 0; k < count; ++k) {
    u64 t0 = arch::rdtsc(), stopped0 = kernel::stopped_ticks();
    smp::XcallResult r = smp::xcall(i, ping, nullptr, kXcallTimeoutUs);
    // A round trip that spans a debugger stop (a breakpoint in the cross-call path) does
    // not count the time the machine stood still.
    u64 elapsed = arch::rdtsc() - t0, stopped = kernel::stopped_ticks() - stopped0;
    u64 dt = elapsed > stopped ? elapsed - stopped : 0;
    if (r == smp::XcallResult::DoneViaNmi)
      return monitor::error(
          "cpu %lu did not take the IPI within %lu ms on ping %lu but answered the NMI: it runs with interrupts "
          "off (or is stuck in a handler); see 'regs %lu' and 'bt %lu'",
          i, kXcallTimeoutUs / 1000, k, i, i);
    if (r == smp::XcallResult::Timeout)
      return monitor::error(
          "cpu %lu answered neither the IPI nor the NMI within %lu ms each on ping %lu: it may be hung with NMIs "
          "blocked; 'cpus' shows its state",
          i, kXcallTimeoutUs / 1000, k);
    if (r != smp::XcallResult::Done) return monitor::error("cpu %lu: %s on ping %lu", i, smp::xcall_result_name(r), k);
    if (dt < min) min = dt;
    if (dt > max) max = dt;
    sum += dt;
  }
  u64 mn = arch::tsc::ticks_to_ns(min), av = arch::tsc::ticks_to_ns(sum / count), mx = arch::tsc::ticks_to_ns(max);
  if (monitor::json()) {
    // Microseconds with the nanosecond digits, as the text.
    lib::Json j(monitor::out());
    j.begin_object().member("cpu", i).member("apic", p->apic_id).member("round_trips", count);
    j.member_fixed("min_us", mn, kNsDigits).member_fixed("avg_us", av, kNsDigits).member_fixed("max_us", mx, kNsDigits);
    j.end_object();
    (void)j.finish();
    return 0;
  }
  lib::format(monitor::out(),
              "cpu %lu (apic %u): %lu round trips, min %lu.%03lu us, avg %lu.%03lu us, max %lu.%03lu us\n", i,
              p->apic_id, count, mn / 1000, mn % 1000, av / 1000, av % 1000, mx / 1000, mx % 1000);
  return 0;
}

}  // namespace

MONITOR_COMMAND(cpus, "", "every CPU in the MADT: index, APIC ID, state, slot, arrival", cmd_cpus, kNoKeywords, true,
                monitor::kNoHelp, monitor::kJsonView);
MONITOR_COMMAND(percpu, "<n>|all", "per-CPU data; gs_base as that CPU reads it now", cmd_percpu, kAllKeywords, true,
                monitor::kNoHelp, monitor::kJsonView);
MONITOR_COMMAND(regs, "<n>", "registers of CPU n, taken on that CPU (NMI if it ignores the IPI)", cmd_regs, kNoKeywords,
                true, monitor::kNoHelp, monitor::kJsonView);
MONITOR_COMMAND(ipi, "<n> [count]", "cross-CPU call round trip to CPU n: min/avg/max", cmd_ipi, kNoKeywords, false,
                monitor::kNoHelp, monitor::kJsonView);

namespace {
// Debug aid for the NMI path: the CPU spins with interrupts off, as a wedged core would.
// Cross-CPU calls to it then time out on the IPI and are answered by NMI.
volatile bool g_wedge_release;
volatile bool g_wedge_entered;
void wedge(void*, const arch::TrapFrame*) {
  // Runs in the IPI handler (IF already 0); leaving it would re-enable interrupts.
  g_wedge_entered = true;
  while (!g_wedge_release) arch::pause();
}
const char* const kWedgeKeywords[] = {"release", nullptr};
int cmd_wedge(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: wedge <n>|release");
  if (lib::streq(a.argv[1], "release")) {
    g_wedge_release = true;
    lib::format(monitor::out(), "wedged CPUs released\n");
    return 0;
  }
  u64 i;
  if (!monitor::parse_cpu(a.argv[1], monitor::CpuArg::Listed, &i)) return 1;
  if (smp::cpu(i) == smp::this_cpu()) return monitor::error("cannot wedge the CPU running the monitor");
  g_wedge_release = false;
  g_wedge_entered = false;
  // Fire and forget: the call never completes while the CPU is wedged.
  if (!smp::xcall_post(i, wedge, nullptr)) return monitor::error("cpu %lu is not online", i);
  // Wait until it is really inside: a call sent before would overwrite the mailbox.
  if (!kernel::spin_until([] { return g_wedge_entered; }, kXcallTimeoutUs * 10))
    return monitor::error("cpu %lu did not take the wedge call", i);
  lib::format(monitor::out(), "cpu %lu spins with interrupts off; 'wedge release' lets it go\n", i);
  return 0;
}
}  // namespace

MONITOR_COMMAND(wedge, "<n>|release", "make CPU n spin with interrupts off (tests the NMI path)", cmd_wedge,
                kWedgeKeywords, false);

namespace {
// Debug aid for gdb's ^C and the NMI path on the monitor's own CPU: it stays busy in this
// command for a while, with interrupts on (a long command) or off (a wedged CPU 0).
const char* const kBusyKeywords[] = {nullptr};
int cmd_busy(const monitor::Args& a) {
  u64 ms = 0;
  bool cli = a.argc == 3 && lib::streq(a.argv[2], "cli");
  if (a.argc < 2 || a.argc > 3 || (a.argc == 3 && !cli) || !monitor::parse_count(a.argv[1], &ms) || ms == 0 ||
      ms > 60000)
    return monitor::error("usage: busy <ms 1-60000> [cli]");
  u64 flags = arch::read_rflags();
  if (cli) arch::cli();
  // The TSC alone: spin_until would not count time the machine spends stopped.
  u64 end = arch::rdtsc() + arch::tsc::us_to_ticks(ms * 1000);
  while (arch::rdtsc() < end) arch::pause();
  if (flags & arch::kRflagsIf) arch::sti();
  lib::format(monitor::out(), "busy for %lu ms%s\n", ms, cli ? " with interrupts off" : "");
  return 0;
}
}  // namespace

MONITOR_COMMAND(busy, "<ms> [cli]", "keep this CPU busy for ms (interrupts off with cli): tests ^C from gdb", cmd_busy,
                kBusyKeywords, false,
                "Keeps the monitor's CPU busy in this command for <ms> milliseconds, with interrupts on,\n"
                "or off with `cli` (a wedged CPU 0): gdb's ^C must still stop the machine (another CPU\n"
                "polls the stub's port), and cross-CPU calls to this CPU are answered by NMI.\n"
                "  busy 3000     busy 3000 cli");
