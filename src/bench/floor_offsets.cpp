// FLOOR_* for floor_trampoline.asm, made the way export/asm_offsets.cpp makes the kernel's:
// compiled to assembly only (-S, never linked) in the floor build, each DEFINE leaves a
// `->NAME value` line that scripts/gen_asm_offsets.py turns into `%define NAME value`.
#include "bench/floor_layout.h"

#define DEFINE(name, value) asm volatile("\n.ascii \"->" #name " %c0\"" : : "i"(static_cast<u64>(value)))

extern "C" void floor_offsets() {
  DEFINE(FLOOR_CODE_SIZE, bench::kFloorCodeSize);
  DEFINE(FLOOR_PAGE_SIZE, bench::kFloorPageSize);
  DEFINE(FLOOR_MARKED, __builtin_offsetof(bench::FloorPage, marked));
  DEFINE(FLOOR_UNSTAMPED, __builtin_offsetof(bench::FloorPage, unstamped));
  DEFINE(FLOOR_STAMP, __builtin_offsetof(bench::FloorPage, stamp));
  DEFINE(FLOOR_MAX_APIC_IDS, bench::kFloorMaxApicIds);
}
