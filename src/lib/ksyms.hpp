// Kernel symbol lookup for backtraces and the monitor, over the table the build
// generates into .ksyms (scripts/gen_ksyms.py).
#pragma once
#include "lib/fmt.hpp"

namespace ksyms {
// Name of the function containing addr, and the offset into it; nullptr if unknown.
const char* lookup(u64 addr, u64* offset);
// Prints "name+0xoff" or "?".
void print(lib::Sink& out, u64 addr);
u64 count();
}  // namespace ksyms
