// A two-symbol table for the host tests of anything that names addresses (x/a, x/i, dis):
// `func` covers [0x1000, 0x1010) and `ns::g_data` [0x2000, 0x2100); the nearest symbol
// below an address up to 0x3000 that neither contains is `func`, as a sizeless label's
// would be.
#pragma once
#include "disasm/format.hpp"

namespace test {

inline const char* fake_containing(u64 addr, u64* off) {
  if (addr >= 0x1000 && addr < 0x1010) {
    *off = addr - 0x1000;
    return "func";
  }
  if (addr >= 0x2000 && addr < 0x2100) {
    *off = addr - 0x2000;
    return "ns::g_data";
  }
  return nullptr;
}

inline const char* fake_nearest(u64 addr, u64* off) {
  if (const char* n = fake_containing(addr, off)) return n;
  if (addr >= 0x1000 && addr < 0x3000) {
    *off = addr - 0x1000;
    return "func";
  }
  return nullptr;
}

inline const disasm::Symbols kFakeSymbols{fake_containing, fake_nearest};

}  // namespace test
