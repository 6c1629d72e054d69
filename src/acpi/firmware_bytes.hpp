// Helpers shared by the firmware-table parsers (ACPI, MP table): checksums, printable
// copies of firmware strings, and mapping with the wrap-around check. Internal to acpi/.
#pragma once
#include "lib/physmem.hpp"
#include "lib/types.hpp"

namespace acpi {

// Byte checksums: all bytes of the structure sum to 0 modulo 256 (ACPI 6.5 5.2.5.3,
// 5.2.6; MP spec 1.4 Tables 4-1 and 4-2).
inline bool sum_ok(const u8* p, usize n) {
  u8 s = 0;
  for (usize i = 0; i < n; ++i) s = static_cast<u8>(s + p[i]);
  return s == 0;
}

// Copies n raw bytes as a printable, NUL-terminated string (dst holds n + 1): firmware
// strings are not NUL-terminated and a corrupt table must not put control characters on
// the console.
inline void copy_printable(char* dst, const u8* src, usize n) {
  for (usize i = 0; i < n; ++i) {
    const u8 c = src[i];
    dst[i] = (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  dst[n] = '\0';
}

// PhysMem::map with the wrap-around check done here, so a hostile 64-bit address
// cannot make [pa, pa + len) wrap even if a map() implementation forgets to check.
inline const u8* map_range(lib::PhysMem& mem, u64 pa, u64 len) {
  if (len == 0) len = 1;
  if (pa > ~u64{0} - len) return nullptr;
  if (len > ~usize{0}) return nullptr;
  return mem.map(pa, static_cast<usize>(len));
}

}  // namespace acpi
