// Which processors of the MADT get a per-CPU slot (and so an index in `cpus`), when the
// MADT may list more processors than there are slots (config::kMaxCpus). Portable, so the
// rule is unit-tested on the host with the BSP anywhere in the MADT.
//
// The rule, for a 384-thread machine booted with 256 slots:
// - the bootstrap CPU is index 0, wherever the MADT lists it;
// - enabled processors then take indices in MADT order until the slots run out;
// - a processor the firmware disabled (never started) takes an index only where that
//   costs no enabled processor its slot;
// - everything else is "no slot": listed, never touched.
#pragma once
#include "acpi/tables.hpp"
#include "lib/types.hpp"

namespace smp {

constexpr u32 kNoSlot = 0xffffffffu;

struct SlotPlan {
  u32 bsp_entry;         // MADT entry of the BSP, or kNoSlot if the MADT does not list it
  usize used;            // indices handed out, the BSP's included
  usize enabled_noslot;  // enabled processors left without a slot
  usize offline_noslot;  // disabled processors left without an index
};

// slot_of[i] (for each of the `count` MADT entries) gets its index or kNoSlot.
SlotPlan plan_slots(const acpi::Cpu* cpus, usize count, u32 bsp_apic_id, usize max_slots, u32* slot_of);

}  // namespace smp
