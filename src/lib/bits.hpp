// The one vocabulary for hardware register and structure layouts: page-table entries
// (arch/pte.hpp), local APIC registers (arch/lapic_regs.hpp), segment descriptors
// (arch/gdt.cpp), page-fault error codes (arch/trap_frame.hpp). A definition names the
// bits once, next to the SDM section that defines them; code builds and reads values
// through them instead of writing shifts and masks at each use.
#pragma once
#include "lib/types.hpp"

namespace lib {

// Bits [Shift, Shift + Width) of a T, as a value: make() places it, get() extracts it.
template <typename T, unsigned Shift, unsigned Width>
struct BitField {
  static_assert(Width >= 1 && Shift + Width <= sizeof(T) * 8, "field outside its register");
  static constexpr T kMask = ((Width >= sizeof(T) * 8) ? ~T{0} : ((T{1} << Width) - 1)) << Shift;
  static constexpr T make(T v) { return (v << Shift) & kMask; }
  static constexpr T get(T reg) { return (reg & kMask) >> Shift; }
  static constexpr T set(T reg, T v) { return (reg & ~kMask) | make(v); }
  // True if v fits the field without losing bits.
  static constexpr bool fits(T v) { return (v & ~(kMask >> Shift)) == 0; }
};

// One bit, as a runtime object (for tables of bits and flag letters).
struct Bit {
  u64 mask;
  constexpr bool in(u64 v) const { return (v & mask) != 0; }
  constexpr u64 operator()() const { return mask; }
  constexpr u64 set(u64 v, bool on) const { return on ? (v | mask) : (v & ~mask); }
};

// Bits [lo, hi] kept in place, unshifted: address fields whose value is the address
// itself (a page-table entry's frame address).
struct InPlaceField {
  unsigned lo;
  unsigned hi;
  constexpr u64 mask() const { return ((hi >= 63 ? ~u64{0} : (u64{1} << (hi + 1)) - 1)) & ~((u64{1} << lo) - 1); }
  constexpr u64 get(u64 v) const { return v & mask(); }
  constexpr u64 set(u64 v, u64 value) const { return (v & ~mask()) | (value & mask()); }
  constexpr bool fits(u64 value) const { return (value & ~mask()) == 0; }
};

}  // namespace lib
