// The page of scripts/bench's floor trampoline (floor_trampoline.asm): code, then a count
// of the APs that ran it and each one's TSC at its first instruction, by APIC ID. The one
// definition: floor.cpp reads these types, the trampoline the FLOOR_* %defines generated
// from them (floor_offsets.cpp -> build/floor/generated/floor_offsets.inc).
#pragma once
#include "lib/types.hpp"

namespace bench {

inline constexpr usize kFloorPageSize = 0x1000;
inline constexpr usize kFloorCodeSize = 0xf8;  // the trampoline must end before `marked`
// APIC IDs that get a stamp: what fits the page. -smp 288 (q35's most) numbers 0..287.
inline constexpr usize kFloorMaxApicIds = (kFloorPageSize - kFloorCodeSize - 8) / 8;

struct FloorPage {
  u8 code[kFloorCodeSize];
  u32 marked;                   // `lock inc` by every AP that ran the trampoline
  u32 unstamped;                // of which APIC ID kFloorMaxApicIds or above: counted, no stamp
  u64 stamp[kFloorMaxApicIds];  // TSC at the AP's first instruction; 0: not arrived
};
static_assert(sizeof(FloorPage) == kFloorPageSize);
static_assert(__builtin_offsetof(FloorPage, stamp) % 8 == 0);

}  // namespace bench
