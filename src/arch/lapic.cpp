#include "arch/lapic.hpp"

#include "arch/cpu.hpp"
#include "arch/trap_frame.hpp"
#include "arch/tsc.hpp"
#include "lib/boot_code.hpp"

namespace arch::lapic {
namespace {
bool g_x2apic;
Mode g_bsp_mode;
u64 g_mmio_phys;
volatile u32* g_mmio;
u64 g_timer_hz;
constexpr u64 kApicBaseAddrMask = 0x000ffffffffff000ULL;  // IA32_APIC_BASE bits 12..51
constexpr u32 kTimerDivide16 = 0x3;                       // SDM Vol. 3A Figure 11-10
}  // namespace

bool x2apic() { return g_x2apic; }

bool usable() {
  u64 base = arch::rdmsr(arch::msr::kApicBase);
  if ((base & kApicBaseEnable) == 0) return false;
  return !g_x2apic || (base & kApicBaseX2Apic) != 0;
}
u64 mmio_phys() { return g_mmio_phys; }

// The mode is chosen once, on the BSP, before anything touches a register: an x2APIC MSR
// read while the APIC is still in xAPIC mode raises #GP (SDM Vol. 3A 11.12.1), so the
// switch comes first. Every AP makes the same switch on arrival (enable_this_cpu).
BOOT_CODE void init_bsp() {
  u64 base = arch::rdmsr(arch::msr::kApicBase);
  g_mmio_phys = base & kApicBaseAddrMask;
  bool offered = (arch::cpuid(1).ecx & arch::cpuid_bit::kLeaf1EcxX2Apic) != 0;
  EnablePlan plan = plan_enable(base, offered);
  for (unsigned i = 0; i < plan.count; ++i) arch::wrmsr(arch::msr::kApicBase, plan.writes[i]);
  g_bsp_mode = plan.mode;
  g_x2apic = is_x2apic(plan.mode);
}

void set_mmio(u64 va) { g_mmio = reinterpret_cast<volatile u32*>(va); }

Mode bsp_mode() { return g_bsp_mode; }

u32 read(Reg r) {
  if (g_x2apic) return static_cast<u32>(arch::rdmsr(x2apic_msr(r)));
  return g_mmio[static_cast<u32>(r) / 4];
}

void write(Reg r, u32 v) {
  if (g_x2apic)
    arch::wrmsr(x2apic_msr(r), v);
  else
    g_mmio[static_cast<u32>(r) / 4] = v;
}

u32 id() {
  if (g_x2apic) return static_cast<u32>(arch::rdmsr(x2apic_msr(Reg::Id)));
  return read(Reg::Id) >> 24;  // xAPIC ID is bits 24-31 (SDM Vol. 3A Figure 11-6)
}

Mode enable_this_cpu() {
  // The BSP's mode decides for all: x2APIC on every CPU or on none (a mix would need two
  // ICR encodings at once). An AP whose firmware left it in x2APIC when the BSP is in
  // xAPIC cannot occur: firmware switches all CPUs or none.
  u64 base = arch::rdmsr(arch::msr::kApicBase);
  EnablePlan plan = plan_enable(base, g_x2apic);
  for (unsigned i = 0; i < plan.count; ++i) arch::wrmsr(arch::msr::kApicBase, plan.writes[i]);

  // Software-enable first: while SVR's enable bit is clear (as INIT leaves every AP) the
  // APIC keeps each LVT's mask bit set and ignores writes that clear it (SDM Vol. 3A
  // 11.4.7.2), so an LVT programmed before this would stay masked. Enabling first is safe:
  // INIT masked every LVT, and on the BSP firmware left the APIC enabled already.
  write(Reg::Svr, SvrEnable::make(1) | SvrVector::make(arch::vec::kSpurious));
  write(Reg::Tpr, 0);
  u32 masked = LvtMask::make(1);
  write(Reg::LvtTimer, masked | LvtVector::make(arch::vec::kApicTimer));
  write(Reg::LvtPerf, masked);
  write(Reg::LvtLint0, masked);
  write(Reg::LvtLint1, masked);
  write(Reg::LvtError, LvtVector::make(arch::vec::kApicError));
  // Thermal LVT exists only when Version.MaxLVT >= 5 (SDM Vol. 3A 11.5.1).
  if (((read(Reg::Version) >> 16) & 0xff) >= 5) write(Reg::LvtThermal, masked);
  // ESR: a write arms it, then it reads back the errors since (SDM Vol. 3A 11.5.3).
  write(Reg::Esr, 0);
  write(Reg::Esr, 0);
  eoi();
  return plan.mode;
}

void eoi() { write(Reg::Eoi, 0); }

bool send(const Ipi& ipi) {
  u64 icr = encode_icr(ipi, g_x2apic);
  if (g_x2apic) {
    // WRMSR to the x2APIC ICR is not serializing (SDM Vol. 3A 11.12.3): without a fence,
    // stores made just before (a cross-CPU call's mailbox) may not be visible yet when the
    // target takes the interrupt. mfence orders the stores, lfence keeps the WRMSR from
    // starting before the mfence completes (as Linux's weak_wrmsr_fence).
    asm volatile("mfence; lfence" ::: "memory");
    arch::wrmsr(x2apic_msr(Reg::IcrLow), icr);  // one write; no delivery-status bit
    return true;
  }
  u64 flags = arch::read_rflags();
  arch::cli();  // the high/low pair must not be split by an interrupt that sends too
  write(Reg::IcrHigh, static_cast<u32>(icr >> 32));
  write(Reg::IcrLow, static_cast<u32>(icr));
  bool ok = false;
  for (int i = 0; i < 1000000; ++i) {
    if (IcrPending::get(read(Reg::IcrLow)) == 0) {
      ok = true;
      break;
    }
    arch::pause();
  }
  if (flags & arch::kRflagsIf) arch::sti();
  return ok;
}

bool send_fixed(u32 apic_id, u8 vector) {
  return send(Ipi{.delivery = Delivery::Fixed, .vector = vector, .dest = apic_id});
}
bool send_nmi(u32 apic_id) { return send(Ipi{.delivery = Delivery::Nmi, .dest = apic_id}); }
bool send_nmi_all_but_self() { return send(Ipi{.delivery = Delivery::Nmi, .shorthand = Shorthand::AllExcludingSelf}); }

u32 timer_start_free_running() {
  write(Reg::TimerDivide, kTimerDivide16);
  write(Reg::LvtTimer, LvtMask::make(1) | LvtVector::make(arch::vec::kApicTimer));
  write(Reg::TimerInitial, 0xffffffff);
  return 0xffffffff;
}

u32 timer_stop() {
  u32 left = read(Reg::TimerCurrent);
  write(Reg::TimerInitial, 0);
  return left;
}

void timer_set_hz(u64 hz) { g_timer_hz = hz; }

bool timer_start_periodic(u64 period_us) {
  u64 count = g_timer_hz * period_us / 1000000;  // g_timer_hz counts at the divide-by-16 rate
  if (count == 0 || count > 0xffffffff) return false;
  write(Reg::TimerDivide, kTimerDivide16);
  write(Reg::LvtTimer, LvtTimerMode::make(1) | LvtVector::make(arch::vec::kApicTimer));
  write(Reg::TimerInitial, static_cast<u32>(count));
  return true;
}

void timer_off() {
  write(Reg::LvtTimer, LvtMask::make(1) | LvtVector::make(arch::vec::kApicTimer));
  write(Reg::TimerInitial, 0);
}

BOOT_CODE void timer_calibrate() {
  if (g_timer_hz != 0) return;  // done in the TSC's calibration window already
  // One-shot from the maximum count for 10 ms of TSC time; the TSC is calibrated first.
  u32 start = timer_start_free_running();
  u64 t0 = arch::rdtsc();
  arch::tsc::delay_us(10000);
  u64 t1 = arch::rdtsc();
  u64 elapsed_ticks = start - timer_stop();
  u64 us = arch::tsc::ticks_to_us(t1 - t0);
  g_timer_hz = us ? elapsed_ticks * 1000000 / us : 0;
}

u64 timer_hz() { return g_timer_hz; }

}  // namespace arch::lapic
