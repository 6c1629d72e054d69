#include "smp/slot_plan.hpp"

#include "lib/assert.hpp"

namespace smp {

SlotPlan plan_slots(const acpi::Cpu* cpus, usize count, u32 bsp_apic_id, usize max_slots, u32* slot_of) {
  SlotPlan plan{kNoSlot, 0, 0, 0};
  if (max_slots == 0) return plan;
  for (usize i = 0; i < count; ++i)
    if (cpus[i].apic_id == bsp_apic_id && plan.bsp_entry == kNoSlot) plan.bsp_entry = static_cast<u32>(i);

  // Slots for enabled APs: as many as fit beside the BSP, first come first served.
  usize enabled_aps = 0;
  for (usize i = 0; i < count; ++i)
    if (i != plan.bsp_entry && cpus[i].enabled) ++enabled_aps;
  usize ap_budget = max_slots - 1;
  usize enabled_taken = enabled_aps < ap_budget ? enabled_aps : ap_budget;
  // Disabled processors get whatever is left after every enabled one that fits.
  usize offline_budget = ap_budget - enabled_taken;

  usize next = 1, enabled_given = 0, offline_given = 0;
  for (usize i = 0; i < count; ++i) {
    if (i == plan.bsp_entry) {
      slot_of[i] = 0;
      continue;
    }
    if (cpus[i].enabled) {
      if (enabled_given < enabled_taken) {
        slot_of[i] = static_cast<u32>(next++);
        ++enabled_given;
      } else {
        slot_of[i] = kNoSlot;
        ++plan.enabled_noslot;
      }
    } else if (offline_given < offline_budget) {
      slot_of[i] = static_cast<u32>(next++);
      ++offline_given;
    } else {
      slot_of[i] = kNoSlot;
      ++plan.offline_noslot;
    }
  }
  KASSERT(next <= max_slots);  // the budgets above never hand out more than there are
  plan.used = next;
  return plan;
}

}  // namespace smp
