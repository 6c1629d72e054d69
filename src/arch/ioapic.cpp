#include "arch/ioapic.hpp"

#include "lib/boot_code.hpp"
#include "lib/console.hpp"
#include "mm/kvm.hpp"

namespace ioapic {
namespace {
Chip g_chips[kMaxChips];
usize g_count;
constexpr u32 kRegSel = 0x00;  // IOREGSEL (82093AA 3.1)
constexpr u32 kWindow = 0x10;  // IOWIN
}  // namespace

BOOT_CODE void init(const ChipDesc* chips, usize n) {
  if (n > kMaxChips)
    console::printf("ioapic: %lu I/O APICs in the MADT, %lu kept (ioapic::kMaxChips)\n", static_cast<u64>(n),
                    static_cast<u64>(kMaxChips));
  for (usize i = 0; i < n && g_count < kMaxChips; ++i) {
    Chip& c = g_chips[g_count++];
    c.id = chips[i].id;
    c.gsi_base = chips[i].gsi_base;
    c.phys = chips[i].address;
    c.va = kvm::map_device(c.phys, 0x1000, "ioapic");
    if (c.va == 0) console::printf("ioapic: could not map the I/O APIC at 0x%lx\n", c.phys);
  }
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

}  // namespace ioapic
