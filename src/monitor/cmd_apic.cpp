// Interrupt controllers: `lapic [n]` reads CPU n's local APIC on that CPU (each CPU sees
// only its own), `ioapic` decodes every I/O APIC's redirection table.
#include "arch/cpu.hpp"
#include "arch/ioapic.hpp"
#include "arch/lapic.hpp"
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

// 256 bits as one number: "0x" and 64 hex digits, register 7 (vectors 224-255) first.
void print_bits256(lib::Sink& out, const char* name, const u32 (&r)[8]) {
  lib::format(out, "%s 0x", name);
  for (int i = 7; i >= 0; --i) lib::format(out, "%08x", r[i]);
  lib::format(out, "\n");
}

int cmd_lapic(const monitor::Args& a) {
  if (a.argc > 2) return monitor::error("usage: lapic [n]");
  u64 cpu = smp::this_cpu()->index;
  if (a.argc == 2 && !monitor::parse_running_cpu(a.argv[1], &cpu, "can read its local APIC")) return 1;
  LapicSnap s{};
  smp::XcallResult r = smp::xcall(cpu, snap_lapic, &s, kXcallTimeoutUs);
  if (r != smp::XcallResult::Done && r != smp::XcallResult::DoneViaNmi)
    return monitor::error("cpu %lu did not answer (%s)", cpu, smp::xcall_result_name(r));
  auto& out = monitor::out();
  lib::format(out, "cpu %lu\nmode %s\napic_base 0x%016lx\n", cpu, s.x2apic ? "x2apic" : "xapic", s.apic_base);
  // The ID as a number (xAPIC keeps it in bits 24-31 of the register, SDM Figure 11-6).
  lib::format(out, "id 0x%x\nversion 0x%08x\ntpr 0x%02x\n", s.id, s.version, s.tpr);
  if (s.x2apic)
    lib::format(out, "apr -\n");
  else
    lib::format(out, "apr 0x%02x\n", s.apr);
  lib::format(out, "ppr 0x%02x\nldr 0x%08x\n", s.ppr, s.ldr);
  if (s.x2apic)
    lib::format(out, "dfr -\n");
  else
    lib::format(out, "dfr 0x%08x\n", s.dfr);
  lib::format(out, "svr 0x%08x\nesr 0x%08x\nicr 0x%016lx\n", s.svr, s.esr, s.icr);
  lib::format(out, "lvt_timer 0x%08x\n", s.lvt_timer);
  if (max_lvt(s.version) >= 5)
    lib::format(out, "lvt_thermal 0x%08x\n", s.lvt_thermal);
  else
    lib::format(out, "lvt_thermal -\n");
  if (max_lvt(s.version) >= 4)
    lib::format(out, "lvt_perf 0x%08x\n", s.lvt_perf);
  else
    lib::format(out, "lvt_perf -\n");
  lib::format(out, "lvt_lint0 0x%08x\nlvt_lint1 0x%08x\nlvt_error 0x%08x\n", s.lvt_lint0, s.lvt_lint1, s.lvt_error);
  lib::format(out, "timer_initial 0x%08x\ntimer_current 0x%08x\ntimer_divide 0x%08x\n", s.timer_initial,
              s.timer_current, s.timer_divide);
  print_bits256(out, "isr", s.isr);
  print_bits256(out, "irr", s.irr);
  print_bits256(out, "tmr", s.tmr);
  return 0;
}

// Redirection entry fields (82093AA datasheet 3.2.4; the same in QEMU's and every
// chipset's I/O APIC).
const char* const kDelivery[8] = {"fixed", "lowest", "smi", "rsvd3", "nmi", "init", "rsvd6", "extint"};

int cmd_ioapic(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: ioapic");
  auto& out = monitor::out();
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
    u32 id = (arch::ioapic::read(c, static_cast<u32>(arch::ioapic::Reg::Id)) >> 24) & 0xf;
    u32 ver = arch::ioapic::read(c, static_cast<u32>(arch::ioapic::Reg::Version));
    unsigned n = arch::ioapic::entries(c);
    lib::format(out, "ioapic %lu id 0x%x (%s 0x%x) address 0x%016lx version 0x%02x entries %u gsi %u-%u\n", k, id,
                c.listed, c.id, c.phys, ver & 0xff, n, c.gsi_base, c.gsi_base + n - 1);
    lib::format(out, "pin gsi  entry              vector delivery dest_mode polarity trigger mask   dest\n");
    for (unsigned i = 0; i < n; ++i) {
      u64 e = arch::ioapic::redirection(c, i);
      lib::format(out, "%-3u %-4u 0x%016lx 0x%02lx   %-8s %-9s %-8s %-7s %-6s 0x%02lx\n", i, c.gsi_base + i, e,
                  e & 0xff, kDelivery[(e >> 8) & 7], (e >> 11) & 1 ? "logical" : "physical",
                  (e >> 13) & 1 ? "low" : "high", (e >> 15) & 1 ? "level" : "edge", (e >> 16) & 1 ? "masked" : "open",
                  e >> 56);
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
                "  lapic 2    CPU 2");
MONITOR_COMMAND(ioapic, "", "each I/O APIC: id, address, version, redirection entries decoded", cmd_ioapic, kNoKeywords,
                true,
                "For every I/O APIC in the MADT: its ID register, MMIO address, version and GSI range,\n"
                "then each redirection entry raw and decoded: vector, delivery mode, destination\n"
                "mode, polarity, trigger mode, mask, destination.\n"
                "  ioapic");
