#include "arch/ioapic.hpp"

namespace arch::ioapic {
namespace {
Chip g_chips[kMaxChips];
usize g_count;
constexpr u32 kRegSel = 0x00;  // IOREGSEL (82093AA datasheet 3.1)
constexpr u32 kWindow = 0x10;  // IOWIN
}  // namespace

bool add(const Chip& c) {
  if (g_count == kMaxChips) return false;
  g_chips[g_count++] = c;
  return true;
}

usize count() { return g_count; }
const Chip& chip(usize i) { return g_chips[i]; }

u32 read(const Chip& c, u32 reg) {
  if (c.va == 0) return 0xffffffff;
  auto* base = reinterpret_cast<volatile u32*>(c.va);
  // The select-then-read pair is not atomic; only the monitor (one CPU) reads them.
  base[kRegSel / 4] = reg;
  return base[kWindow / 4];
}

u64 redirection(const Chip& c, unsigned n) {
  u32 lo = read(c, static_cast<u32>(Reg::RedirectionBase) + 2 * n);
  u32 hi = read(c, static_cast<u32>(Reg::RedirectionBase) + 2 * n + 1);
  return (u64{hi} << 32) | lo;
}

unsigned entries(const Chip& c) { return ((read(c, static_cast<u32>(Reg::Version)) >> 16) & 0xff) + 1; }

}  // namespace arch::ioapic
