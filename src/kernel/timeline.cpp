#include "kernel/timeline.hpp"

namespace kernel {
namespace {
u64 g_marks[static_cast<int>(Phase::Count)];
}
const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Handoff: return "multiboot2 handoff (first instruction)";
    case Phase::KernelEntry: return "kernel_main, serial up";
    case Phase::Paging: return "final page tables loaded";
    case Phase::Timers: return "TSC and APIC timer calibrated";
    case Phase::Acpi: return "ACPI tables parsed";
    case Phase::Smp: return "AP bring-up done";
    case Phase::Prompt: return "monitor prompt";
    default: return "?";
  }
}
void timeline_mark(Phase p, u64 tsc) { g_marks[static_cast<int>(p)] = tsc; }
u64 timeline_tsc(Phase p) { return g_marks[static_cast<int>(p)]; }
}  // namespace kernel
