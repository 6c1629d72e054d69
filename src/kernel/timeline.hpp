// Boot phases with their TSC timestamps, for the boot report and the `timing` command.
// Kernel state: boot marks the phases as it passes them, the monitor reads them.
#pragma once
#include "lib/types.hpp"

namespace kernel {
enum class Phase { Handoff, KernelEntry, Paging, Acpi, Timers, Smp, Prompt, Count };
const char* phase_name(Phase p);
void timeline_mark(Phase p, u64 tsc);
u64 timeline_tsc(Phase p);
}  // namespace kernel
