// Local APIC registers as typed definitions (SDM Vol. 3A 11.4.1 Table 11-1 for the
// xAPIC MMIO offsets, 11.12.1.2 Table 11-6 for the x2APIC MSR numbers). Plain C++ so
// the encodings, and the xAPIC/x2APIC differences, are unit-tested on the host.
#pragma once
#include "lib/bits.hpp"

namespace arch::lapic {

template <typename T, unsigned Shift, unsigned Width>
using Field = lib::BitField<T, Shift, Width>;

// Register offsets in the xAPIC MMIO page.
enum class Reg : u32 {
  Id = 0x020,
  Version = 0x030,
  Tpr = 0x080,
  Apr = 0x090,  // arbitration priority: xAPIC only, there is no x2APIC MSR for it (Table 11-6)
  Ppr = 0x0a0,  // processor priority (SDM Vol. 3A 11.8.3.1)
  Eoi = 0x0b0,
  Ldr = 0x0d0,  // logical destination (11.6.2.2); read-only in x2APIC mode (11.12.10.2)
  Dfr = 0x0e0,  // destination format: xAPIC only, its MSR 0x80e raises #GP (11.12.1.2)
  Svr = 0x0f0,
  // ISR, TMR and IRR: 256 bits each, as eight 32-bit registers 0x10 apart, bits 0-31
  // first (11.8.4, Figure 11-20); the n-th at bank_reg(base, n).
  Isr0 = 0x100,
  Tmr0 = 0x180,
  Irr0 = 0x200,
  Esr = 0x280,
  IcrLow = 0x300,
  IcrHigh = 0x310,
  LvtTimer = 0x320,
  LvtThermal = 0x330,
  LvtPerf = 0x340,
  LvtLint0 = 0x350,
  LvtLint1 = 0x360,
  LvtError = 0x370,
  TimerInitial = 0x380,
  TimerCurrent = 0x390,
  TimerDivide = 0x3e0,
};

// x2APIC: the same registers as MSRs 0x800 + offset / 16; the ICR is one 64-bit MSR
// (0x830; ICR high has no MSR of its own: reading 0x831 or DFR's 0x80e raises #GP).
constexpr u32 x2apic_msr(Reg r) { return 0x800 + (static_cast<u32>(r) >> 4); }
static_assert(x2apic_msr(Reg::IcrLow) == 0x830);
static_assert(x2apic_msr(Reg::Eoi) == 0x80b);
static_assert(x2apic_msr(Reg::Ppr) == 0x80a && x2apic_msr(Reg::Ldr) == 0x80d);
static_assert(x2apic_msr(Reg::Isr0) == 0x810 && x2apic_msr(Reg::Tmr0) == 0x818 && x2apic_msr(Reg::Irr0) == 0x820);

// The n-th 32-bit register (n < 8) of the ISR, TMR or IRR bank starting at `base`.
constexpr Reg bank_reg(Reg base, unsigned n) { return static_cast<Reg>(static_cast<u32>(base) + 0x10 * n); }
static_assert(bank_reg(Reg::Irr0, 7) == static_cast<Reg>(0x270));

// Spurious-interrupt vector register (SDM Vol. 3A 11.9, Figure 11-23).
using SvrVector = Field<u32, 0, 8>;
using SvrEnable = Field<u32, 8, 1>;

// LVT entries (SDM Vol. 3A 11.5.1, Figure 11-8).
using LvtVector = Field<u32, 0, 8>;
using LvtMask = Field<u32, 16, 1>;
using LvtTimerMode = Field<u32, 17, 2>;  // 0 one-shot, 1 periodic, 2 TSC-deadline

// Interrupt command register (SDM Vol. 3A 11.6.1, Figure 11-12; x2APIC 11.12.9).
enum class Delivery : u64 { Fixed = 0, Nmi = 4, Init = 5, Startup = 6 };
enum class Shorthand : u64 { None = 0, Self = 1, AllIncludingSelf = 2, AllExcludingSelf = 3 };
using IcrVector = Field<u64, 0, 8>;
using IcrDelivery = Field<u64, 8, 3>;
using IcrDestLogical = Field<u64, 11, 1>;
using IcrPending = Field<u64, 12, 1>;  // delivery status (xAPIC only)
using IcrAssert = Field<u64, 14, 1>;
using IcrLevelTrigger = Field<u64, 15, 1>;
using IcrShorthand = Field<u64, 18, 2>;
using IcrDestXapic = Field<u64, 56, 8>;  // ICR high bits 24-31
using IcrDestX2apic = Field<u64, 32, 32>;

struct Ipi {
  Delivery delivery = Delivery::Fixed;
  u8 vector = 0;
  Shorthand shorthand = Shorthand::None;
  u32 dest = 0;  // APIC ID
  bool level_assert = true;
  bool level_trigger = false;
};

// The 64-bit ICR value for an IPI. In xAPIC mode the upper half goes to ICR high and
// only 8 bits of destination exist; the caller must not ask for more.
constexpr u64 encode_icr(const Ipi& ipi, bool x2apic) {
  u64 v = IcrVector::make(ipi.vector) | IcrDelivery::make(static_cast<u64>(ipi.delivery)) |
          IcrAssert::make(ipi.level_assert ? 1 : 0) | IcrLevelTrigger::make(ipi.level_trigger ? 1 : 0) |
          IcrShorthand::make(static_cast<u64>(ipi.shorthand));
  if (ipi.shorthand == Shorthand::None)
    v |= x2apic ? IcrDestX2apic::make(ipi.dest) : IcrDestXapic::make(ipi.dest & 0xff);
  return v;
}

// IA32_APIC_BASE bits that select the mode (SDM Vol. 3A 11.4.4 Figure 11-5, 11.12.1).
constexpr u64 kApicBaseX2Apic = u64{1} << 10;  // EXTD
constexpr u64 kApicBaseEnable = u64{1} << 11;  // EN, global enable

// How a CPU's local APIC was found and left, for the boot report and `cpus`.
enum class Mode : u8 {
  Xapic,           // xAPIC (MMIO); CPUID offers no x2APIC
  X2apicKernel,    // firmware left xAPIC (or disabled); this kernel switched it to x2APIC
  X2apicFirmware,  // firmware had already switched it to x2APIC
};
constexpr bool is_x2apic(Mode m) { return m != Mode::Xapic; }
constexpr const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Xapic: return "xapic";
    case Mode::X2apicKernel: return "x2apic";
    case Mode::X2apicFirmware: return "x2apic(fw)";
  }
  return "?";
}

// The IA32_APIC_BASE writes that bring a local APIC from `base` to the wanted mode, in
// order (at most two). The legal transitions (SDM Vol. 3A 11.12.5, Figure 11-28):
// disabled -> xAPIC -> x2APIC; x2APIC -> xAPIC is illegal (#GP) and so never asked for:
// firmware's x2APIC is kept. Going disabled -> x2APIC in one write is allowed by the
// figure too, but two steps are never wrong and match what firmware does.
struct EnablePlan {
  u64 writes[2];
  unsigned count;
  Mode mode;
};
constexpr EnablePlan plan_enable(u64 base, bool cpuid_x2apic) {
  EnablePlan p{{0, 0}, 0, Mode::Xapic};
  bool en = (base & kApicBaseEnable) != 0, extd = (base & kApicBaseX2Apic) != 0;
  if (en && extd) {
    p.mode = Mode::X2apicFirmware;
    return p;
  }
  base &= ~kApicBaseX2Apic;  // EXTD without EN is the invalid state; start from EN alone
  if (!en) p.writes[p.count++] = base | kApicBaseEnable;
  if (cpuid_x2apic) {
    p.writes[p.count++] = base | kApicBaseEnable | kApicBaseX2Apic;
    p.mode = Mode::X2apicKernel;
  }
  return p;
}

// The start-up IPI's vector is the page number of the trampoline (SDM Vol. 3A 11.6.1:
// the AP starts at vector << 12); so the page must be below 1 MiB.
constexpr bool sipi_vector_for(u64 page_phys, u8* vector) {
  if ((page_phys & 0xfff) != 0 || page_phys >= 0x100000) return false;
  *vector = static_cast<u8>(page_phys >> 12);
  return true;
}

}  // namespace arch::lapic
