// The interrupt descriptor table, one for all CPUs (SDM Vol. 3A 6.14.1).
#pragma once
#include "lib/types.hpp"

namespace arch {
void idt_init();  // fills the table once, on the bootstrap CPU
void idt_load();  // every CPU
}  // namespace arch
