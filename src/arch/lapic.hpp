// The local APIC of the calling CPU: x2APIC (MSRs) when CPUID offers it, else xAPIC
// through its page in the device window.
#pragma once
#include "arch/lapic_regs.hpp"

namespace arch::lapic {

// On the bootstrap CPU, before any other lapic call: choose the mode (x2APIC whenever
// CPUID offers it or firmware already turned it on) and switch the BSP's APIC into it.
// In xAPIC mode the caller then maps mmio_phys() and passes the address to set_mmio()
// before the next call (arch/ maps nothing itself).
void init_bsp();
void set_mmio(u64 va);
Mode bsp_mode();  // how init_bsp found and left the BSP's APIC
// On every CPU (BSP included): switch to the chosen mode (an AP on arrival), enable,
// spurious vector, LVTs masked, ESR cleared, TPR 0. Returns how this CPU's APIC was
// found and left.
[[nodiscard]] Mode enable_this_cpu();
bool x2apic();
// The calling CPU's local APIC is enabled in the mode the kernel chose (IA32_APIC_BASE EN,
// and EXTD in x2APIC mode): false after someone turned it off (e.g. `wrmsr ... 0x1b`), when
// an x2APIC access would raise #GP and no IPI can be sent.
bool usable();
u64 mmio_phys();
u32 id();  // APIC ID of the calling CPU
u32 read(Reg r);
void write(Reg r, u32 v);
void eoi();
// Sends an IPI; waits (bounded) for the xAPIC delivery-status bit to clear.
[[nodiscard]] bool send(const Ipi& ipi);
[[nodiscard]] bool send_fixed(u32 apic_id, u8 vector);
[[nodiscard]] bool send_nmi(u32 apic_id);
[[nodiscard]] bool send_nmi_all_but_self();

// APIC timer (divide-by-16), calibrated on the BSP in the same window as the TSC (against
// the HPET, the PM timer or the PIT: arch/tsc.cpp), or against the TSC when the TSC's
// frequency came from CPUID.
u32 timer_start_free_running();  // masked one-shot from 0xffffffff; returns the start count
u32 timer_stop();                // returns the current count and stops the timer
void timer_set_hz(u64 hz);
// The calling CPU's timer interrupts it on arch::vec::kApicTimer every period_us (periodic
// mode, SDM Vol. 3A 11.5.4); false if the timer was never calibrated. timer_off stops it.
[[nodiscard]] bool timer_start_periodic(u64 period_us);
void timer_off();
void timer_calibrate();  // against the TSC, if timer_set_hz was not called
u64 timer_hz();

}  // namespace arch::lapic
