#include "arch/pit.hpp"

#include "arch/cpu.hpp"

namespace arch::pit {
namespace {
u8 g_saved_port_b;
}

void start() {
  g_saved_port_b = arch::inb(kPortB);
  arch::outb(kPortB, static_cast<u8>((g_saved_port_b & ~kPortBSpeaker) | kPortBGate2));
  arch::outb(kPortControl,
             CwSelect::make(kSelectCounter2) | CwRw::make(kRwLowThenHigh) | CwMode::make(kMode0) | CwBcd::make(0));
  // The initial count 0xffff, low byte first (RW 11); mode 0 starts counting on the next
  // input clock after the high byte, while GATE is high.
  arch::outb(kPortCounter2, 0xff);
  arch::outb(kPortCounter2, 0xff);
}

u16 read() {
  // The counter latch command (RW 00) freezes the count for the next two reads.
  arch::outb(kPortControl, CwSelect::make(kSelectCounter2) | CwRw::make(kRwLatch));
  const u8 lo = arch::inb(kPortCounter2);
  const u8 hi = arch::inb(kPortCounter2);
  return static_cast<u16>(lo | (hi << 8));
}

void stop() { arch::outb(kPortB, g_saved_port_b); }

}  // namespace arch::pit
