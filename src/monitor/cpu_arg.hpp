// The CPU argument of a monitor command (`regs 2`, `bt 1`, `lapic 3`): one parser, with
// what the command needs of that CPU as its mode. Each mode keeps the messages its
// commands have always printed (tests and scripts match them).
#pragma once
#include "lib/types.hpp"

namespace monitor {

enum class CpuArg {
  // The command runs something on the CPU now: an online CPU (or this one); while the
  // others are stopped (panic shell, kstop>), only this one. The stopped case's error
  // ends "only this cpu, <i>, <what>".
  Running,
  // The command reads what the CPU saved or counted (its frames when stopped, its
  // interrupt counts): a CPU with a slot, whatever its state.
  Stopped,
  // Any index the firmware listed; one beyond the slots is refused with the reason it
  // has none (KCONFIG_MAX_CPUS). The command checks the state it needs itself.
  Listed,
};

// A decimal CPU index in s, checked for `mode`; on failure one error line (monitor::error)
// and false. `what` completes the Running mode's stopped-shell message (what only this CPU
// still can, e.g. "can read its local APIC"; by default "can be asked") and the Stopped
// mode's "has no slot" one (what that means for the command, e.g. "nothing counted");
// Listed ignores it.
[[nodiscard]] bool parse_cpu(const char* s, CpuArg mode, u64* index, const char* what = nullptr);

}  // namespace monitor
