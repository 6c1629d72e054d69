// Boot phases with their TSC timestamps, for the boot report and the `timing` command.
#pragma once
#include "boot/multiboot2.hpp"
#include "mm/memmap.hpp"

namespace boot {
enum class Phase { Handoff, KernelEntry, Paging, Acpi, Timers, Smp, Prompt, Count };
const char* phase_name(Phase p);
void timeline_mark(Phase p, u64 tsc);
u64 timeline_tsc(Phase p);
const BootInfo& info();
const mm::MemoryMap& memory_map();    // usable ranges trimmed to pages
const mm::MemoryMap& firmware_map();  // sorted, overlaps resolved, otherwise exact
}  // namespace boot
