#include "arch/pmtimer.hpp"

#include "arch/cpu.hpp"

namespace arch::pmtimer {
namespace {
bool g_present;
bool g_io;
u16 g_port;
volatile u32* g_mmio;
unsigned g_bits;
}  // namespace

void init_port(u16 port, bool ext32) {
  g_io = true;
  g_port = port;
  g_bits = ext32 ? 32 : 24;
  g_present = port != 0;
}

void init_mmio(u64 va, bool ext32) {
  g_io = false;
  g_mmio = reinterpret_cast<volatile u32*>(va);
  g_bits = ext32 ? 32 : 24;
  g_present = va != 0;
}

bool present() { return g_present; }
// 4.8.3.3: "This register is accessed as 32 bits"; with a 24-bit timer the top byte
// reads 0, but it is masked anyway (lib::counter_ticks works modulo bits()).
u32 read() { return g_io ? arch::inl(g_port) : *g_mmio; }
unsigned bits() { return g_bits; }
u64 address() { return g_io ? g_port : reinterpret_cast<u64>(g_mmio); }
bool io() { return g_io; }

}  // namespace arch::pmtimer
