// Interrupt controllers: `lapic [n]` reads CPU n's local APIC on that CPU (each CPU sees
// only its own), `ioapic` decodes every I/O APIC's redirection table.
#include "arch/cpu.hpp"
#include "arch/ioapic.hpp"
#include "arch/lapic.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};
constexpr u64 kXcallTimeoutUs = 100000;

struct LapicSnap {
  u64 apic_base;
  bool x2apic;
  u32 id, version, tpr, apr, ppr, ldr, dfr, svr, esr;
  u64 icr;
  u32 lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error;
  u32 timer_initial, timer_current, timer_divide;
  u32 isr[8], tmr[8], irr[8];
};

u32 max_lvt(u32 version) { return (version >> 16) & 0xff; }  // SDM Vol. 3A 11.4.8, Figure 11-7

void snap_lapic(void* arg, const arch::TrapFrame*) {
  using arch::lapic::Reg;
  auto* s = static_cast<LapicSnap*>(arg);
  s->apic_base = arch::rdmsr(arch::msr::kApicBase);
  s->x2apic = (s->apic_base & arch::lapic::kApicBaseX2Apic) != 0;
  s->id = arch::lapic::id();
  s->version = arch::lapic::read(Reg::Version);
  s->tpr = arch::lapic::read(Reg::Tpr);
  s->ppr = arch::lapic::read(Reg::Ppr);
  s->ldr = arch::lapic::read(Reg::Ldr);
  s->svr = arch::lapic::read(Reg::Svr);
  s->esr = arch::lapic::read(Reg::Esr);  // what the last write to it latched; reading changes nothing
  if (s->x2apic) {
    s->icr = arch::rdmsr(arch::lapic::x2apic_msr(Reg::IcrLow));  // one 64-bit MSR (11.12.9)
  } else {
    s->apr = arch::lapic::read(Reg::Apr);
    s->dfr = arch::lapic::read(Reg::Dfr);
    s->icr = (u64{arch::lapic::read(Reg::IcrHigh)} << 32) | arch::lapic::read(Reg::IcrLow);
  }
  s->lvt_timer = arch::lapic::read(Reg::LvtTimer);
  // The thermal and performance LVTs exist only up to the version's last LVT entry.
  if (max_lvt(s->version) >= 5) s->lvt_thermal = arch::lapic::read(Reg::LvtThermal);
  if (max_lvt(s->version) >= 4) s->lvt_perf = arch::lapic::read(Reg::LvtPerf);
  s->lvt_lint0 = arch::lapic::read(Reg::LvtLint0);
  s->lvt_lint1 = arch::lapic::read(Reg::LvtLint1);
  s->lvt_error = arch::lapic::read(Reg::LvtError);
  s->timer_initial = arch::lapic::read(Reg::TimerInitial);
  s->timer_current = arch::lapic::read(Reg::TimerCurrent);
  s->timer_divide = arch::lapic::read(Reg::TimerDivide);
  for (unsigned i = 0; i < 8; ++i) {
    s->isr[i] = arch::lapic::read(arch::lapic::bank_reg(Reg::Isr0, i));
    s->tmr[i] = arch::lapic::read(arch::lapic::bank_reg(Reg::Tmr0, i));
    s->irr[i] = arch::lapic::read(arch::lapic::bank_reg(Reg::Irr0, i));
  }
}

// One "<name> <value>" line of lapic: the value in hex with `digits` digits (0: as many as
// it takes), or '-' for a register this mode does not have.
struct RegLine {
  const char* name;
  u64 value;
  int digits;
  bool present;
};
constexpr usize kRegLines = 20;

// The registers in the order lapic prints them (after cpu and mode, before isr/irr/tmr).
void reg_lines(const LapicSnap& s, RegLine (&r)[kRegLines]) {
  bool xapic = !s.x2apic;
  r[0] = {"apic_base", s.apic_base, 16, true};
  // The ID as a number (xAPIC keeps it in bits 24-31 of the register, SDM Figure 11-6).
  r[1] = {"id", s.id, 0, true};
  r[2] = {"version", s.version, 8, true};
  r[3] = {"tpr", s.tpr, 2, true};
  r[4] = {"apr", s.apr, 2, xapic};
  r[5] = {"ppr", s.ppr, 2, true};
  r[6] = {"ldr", s.ldr, 8, true};
  r[7] = {"dfr", s.dfr, 8, xapic};
  r[8] = {"svr", s.svr, 8, true};
  r[9] = {"esr", s.esr, 8, true};
  r[10] = {"icr", s.icr, 16, true};
  r[11] = {"lvt_timer", s.lvt_timer, 8, true};
  r[12] = {"lvt_thermal", s.lvt_thermal, 8, max_lvt(s.version) >= 5};
  r[13] = {"lvt_perf", s.lvt_perf, 8, max_lvt(s.version) >= 4};
  r[14] = {"lvt_lint0", s.lvt_lint0, 8, true};
  r[15] = {"lvt_lint1", s.lvt_lint1, 8, true};
  r[16] = {"lvt_error", s.lvt_error, 8, true};
  r[17] = {"timer_initial", s.timer_initial, 8, true};
  r[18] = {"timer_current", s.timer_current, 8, true};
  r[19] = {"timer_divide", s.timer_divide, 8, true};
}

// 256 bits as one number: "0x" and 64 hex digits, register 7 (vectors 224-255) first.
constexpr usize kBits256Chars = 2 + 64;
void format_bits256(const u32 (&r)[8], char (&buf)[kBits256Chars + 1]) {
  lib::BufSink b(buf, sizeof buf);
  lib::format(b, "0x");
  for (int i = 7; i >= 0; --i) lib::format(b, "%08x", r[i]);
}

struct Bits256 {
  const char* name;
  const u32 (&regs)[8];
};

// lapic -j: {"cpu","mode", each register line's name: its hex string as the text shows it,
// or null for '-'}.
void lapic_json(lib::Sink& out, u64 cpu, const LapicSnap& s, const RegLine (&r)[kRegLines], const Bits256 (&bits)[3]) {
  lib::Json j(out);
  j.begin_object().member("cpu", cpu).member("mode", s.x2apic ? "x2apic" : "xapic");
  for (const RegLine& l : r) {
    j.key(l.name);
    if (l.present)
      j.hex(l.value, static_cast<unsigned>(l.digits));
    else
      j.null();
  }
  for (const Bits256& b : bits) {
    char text[kBits256Chars + 1];
    format_bits256(b.regs, text);
    j.member(b.name, text);
  }
  j.end_object();
  (void)j.finish();
}

int cmd_lapic(const monitor::Args& a) {
  if (a.argc > 2) return monitor::error("usage: lapic [n]");
  u64 cpu = smp::this_cpu()->index;
  if (a.argc == 2 && !monitor::parse_cpu(a.argv[1], monitor::CpuArg::Running, &cpu, "can read its local APIC"))
    return 1;
  LapicSnap s{};
  smp::XcallResult r = smp::xcall(cpu, snap_lapic, &s, kXcallTimeoutUs);
  if (r != smp::XcallResult::Done && r != smp::XcallResult::DoneViaNmi)
    return monitor::error("cpu %lu did not answer (%s)", cpu, smp::xcall_result_name(r));
  RegLine lines[kRegLines];
  reg_lines(s, lines);
  const Bits256 bits[] = {{"isr", s.isr}, {"irr", s.irr}, {"tmr", s.tmr}};
  auto& out = monitor::out();
  if (monitor::json()) {
    lapic_json(out, cpu, s, lines, bits);
    return 0;
  }
  lib::format(out, "cpu %lu\nmode %s\n", cpu, s.x2apic ? "x2apic" : "xapic");
  for (const RegLine& l : lines) {
    if (l.present)
      lib::format(out, "%s 0x%0*lx\n", l.name, l.digits, l.value);
    else
      lib::format(out, "%s -\n", l.name);
  }
  for (const Bits256& b : bits) {
    char text[kBits256Chars + 1];
    format_bits256(b.regs, text);
    lib::format(out, "%s %s\n", b.name, text);
  }
  return 0;
}

// Redirection entry fields (82093AA datasheet 3.2.4; the same in QEMU's and every
// chipset's I/O APIC), as ioapic's columns show them.
const char* const kDelivery[8] = {"fixed", "lowest", "smi", "rsvd3", "nmi", "init", "rsvd6", "extint"};
struct Redirection {
  u64 e;
  u64 vector() const { return e & 0xff; }
  const char* delivery() const { return kDelivery[(e >> 8) & 7]; }
  const char* dest_mode() const { return (e >> 11) & 1 ? "logical" : "physical"; }
  const char* polarity() const { return (e >> 13) & 1 ? "low" : "high"; }
  const char* trigger() const { return (e >> 15) & 1 ? "level" : "edge"; }
  const char* mask() const { return (e >> 16) & 1 ? "masked" : "open"; }
  u64 dest() const { return e >> 56; }
};

// A mapped I/O APIC's header, read from the chip.
struct ChipInfo {
  u32 id;
  u32 version;
  unsigned entries;
};

ChipInfo read_chip(const arch::ioapic::Chip& c) {
  u32 id = (arch::ioapic::read(c, static_cast<u32>(arch::ioapic::Reg::Id)) >> 24) & 0xf;
  u32 ver = arch::ioapic::read(c, static_cast<u32>(arch::ioapic::Reg::Version));
  return {id, ver & 0xff, arch::ioapic::entries(c)};
}

// ioapic -j: {"ioapics":[{"index","id","listed","listed_id","address","mapped","version",
// "entries","gsi_first","gsi_last","redirections":[{"pin","gsi","entry","vector",
// "delivery","dest_mode","polarity","trigger","mask","dest"}]}]}. An I/O APIC that is not
// mapped has its listed id as id (as the text), and null for what only the chip knows.
void ioapic_json(lib::Sink& out) {
  lib::Json j(out);
  j.begin_object().key("ioapics").begin_array();
  for (usize k = 0; k < arch::ioapic::count(); ++k) {
    const arch::ioapic::Chip& c = arch::ioapic::chip(k);
    j.begin_object().member("index", u64{k});
    if (c.va == 0) {
      j.member_hex("id", c.id).member("listed", c.listed).member_hex("listed_id", c.id);
      j.member_addr("address", c.phys).member("mapped", false).key("version").null().key("entries").null();
      j.key("gsi_first").null().key("gsi_last").null().key("redirections").null().end_object();
      continue;
    }
    ChipInfo info = read_chip(c);
    j.member_hex("id", info.id).member("listed", c.listed).member_hex("listed_id", c.id);
    j.member_addr("address", c.phys).member("mapped", true).member_hex("version", info.version, 2);
    j.member("entries", u64{info.entries}).member("gsi_first", u64{c.gsi_base});
    j.member("gsi_last", u64{c.gsi_base + info.entries - 1}).key("redirections").begin_array();
    for (unsigned i = 0; i < info.entries; ++i) {
      Redirection r{arch::ioapic::redirection(c, i)};
      j.begin_object().member("pin", u64{i}).member("gsi", u64{c.gsi_base + i}).member_hex("entry", r.e, 16);
      j.member("vector", r.vector()).member("delivery", r.delivery()).member("dest_mode", r.dest_mode());
      j.member("polarity", r.polarity()).member("trigger", r.trigger()).member("mask", r.mask());
      j.member_hex("dest", r.dest(), 2).end_object();
    }
    j.end_array().end_object();
  }
  j.end_array().end_object();
  (void)j.finish();
}

int cmd_ioapic(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: ioapic");
  auto& out = monitor::out();
  if (monitor::json()) {
    ioapic_json(out);
    return 0;
  }
  if (arch::ioapic::count() == 0) {
    lib::format(out, "no I/O APIC listed by the firmware\n");
    return 0;
  }
  for (usize k = 0; k < arch::ioapic::count(); ++k) {
    const arch::ioapic::Chip& c = arch::ioapic::chip(k);
    if (k != 0) lib::format(out, "\n");
    if (c.va == 0) {
      lib::format(out, "ioapic %lu id 0x%x address 0x%016lx: not mapped\n", k, c.id, c.phys);
      continue;
    }
    ChipInfo info = read_chip(c);
    unsigned n = info.entries;
    lib::format(out, "ioapic %lu id 0x%x (%s 0x%x) address 0x%016lx version 0x%02x entries %u gsi %u-%u\n", k, info.id,
                c.listed, c.id, c.phys, info.version, n, c.gsi_base, c.gsi_base + n - 1);
    lib::format(out, "pin gsi  entry              vector delivery dest_mode polarity trigger mask   dest\n");
    for (unsigned i = 0; i < n; ++i) {
      Redirection r{arch::ioapic::redirection(c, i)};
      lib::format(out, "%-3u %-4u 0x%016lx 0x%02lx   %-8s %-9s %-8s %-7s %-6s 0x%02lx\n", i, c.gsi_base + i, r.e,
                  r.vector(), r.delivery(), r.dest_mode(), r.polarity(), r.trigger(), r.mask(), r.dest());
    }
  }
  return 0;
}

}  // namespace

MONITOR_COMMAND(lapic, "[n]", "CPU n's local APIC registers, read on that CPU (default: this one)", cmd_lapic,
                kNoKeywords, true,
                "One '<name> <value>' line per register of CPU n's local APIC, read by CPU n itself\n"
                "in its cross-call interrupt (so a remote CPU shows vector 0xf0 in service in isr\n"
                "and ppr 0xf0). isr, irr, tmr are 256-bit values (vector 255 is the top bit);\n"
                "apr and dfr do not exist in x2APIC mode and show '-'. In the panic shell: this CPU.\n"
                "  lapic      this CPU\n"
                "  lapic 2    CPU 2",
                monitor::kJsonView);
MONITOR_COMMAND(ioapic, "", "each I/O APIC: id, address, version, redirection entries decoded", cmd_ioapic, kNoKeywords,
                true,
                "For every I/O APIC in the MADT: its ID register, MMIO address, version and GSI range,\n"
                "then each redirection entry raw and decoded: vector, delivery mode, destination\n"
                "mode, polarity, trigger mode, mask, destination.\n"
                "  ioapic",
                monitor::kJsonView);
