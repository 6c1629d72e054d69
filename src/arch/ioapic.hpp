// The I/O APICs the firmware lists (82093AA datasheet; ACPI 6.5 5.2.12.3, or MP spec 1.4
// 4.3.3 without ACPI): mapped into the
// device window at boot, read by the monitor's `ioapic`. Nothing is routed through them
// (this kernel takes no device interrupts), so reading is all there is.
#pragma once
#include "lib/types.hpp"

namespace arch::ioapic {

// Indirect registers, selected through IOREGSEL (+0x00) and read through IOWIN (+0x10).
enum class Reg : u32 {
  Id = 0x00,
  Version = 0x01,  // bits 0-7 version, 16-23 highest redirection entry
  Arbitration = 0x02,
  RedirectionBase = 0x10,  // entry n: low dword at 0x10 + 2n, high at 0x11 + 2n
};

struct Chip {
  u32 id;        // as listed
  u32 gsi_base;  // first global system interrupt
  u64 phys;
  u64 va;              // in the device window; 0 if it could not be mapped
  const char* listed;  // where it was listed: "madt", "mptable"
};

constexpr usize kMaxChips = 16;
// Records one I/O APIC, already mapped by the caller (c.va); false when kMaxChips are held.
[[nodiscard]] bool add(const Chip& c);
usize count();
const Chip& chip(usize i);
u32 read(const Chip& c, u32 reg);
u64 redirection(const Chip& c, unsigned n);  // entry n, high:low
unsigned entries(const Chip& c);             // number of redirection entries

}  // namespace arch::ioapic
