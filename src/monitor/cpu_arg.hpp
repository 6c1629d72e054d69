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
  // The command reads what the CPU saved (its frames when stopped, else it is asked): a
  // CPU with a slot.
  Stopped,
  // Any index the firmware listed; one beyond the slots is refused with the reason it
  // has none (KCONFIG_MAX_CPUS). The command checks the state it needs itself.
  Listed,
};

// A decimal CPU index in s, checked for `mode`; on failure one error line (monitor::error)
// and false. `what` completes the Running mode's stopped-shell message (what only this CPU
// still can, e.g. "can read its local APIC"; by default "can be asked"); the other modes
// ignore it.
[[nodiscard]] bool parse_cpu(const char* s, CpuArg mode, u64* index, const char* what = nullptr);

// The Running mode under its former name, for callers not yet moved to parse_cpu.
[[nodiscard]] inline bool parse_running_cpu(const char* s, u64* index, const char* what) {
  return parse_cpu(s, CpuArg::Running, index, what);
}

}  // namespace monitor
