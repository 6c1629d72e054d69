#include "arch/serial.hpp"

#include "arch/cpu.hpp"

namespace arch::serial {
namespace {
// 16550 UART registers (PC16550D data sheet), offsets from the base port.
constexpr u16 kCom1 = 0x3f8;
constexpr u16 kData = 0, kIer = 1, kFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5;
constexpr u8 kLcrDlab = 0x80, kLcr8N1 = 0x03;
constexpr u8 kLsrDataReady = 0x01, kLsrThrEmpty = 0x20;
constexpr u16 kDivisor115200 = 1;  // 115200 = 1.8432 MHz / 16 / 1
}  // namespace

void init() {
  arch::outb(kCom1 + kIer, 0);  // polled: no UART interrupts
  arch::outb(kCom1 + kLcr, kLcrDlab);
  arch::outb(kCom1 + kData, kDivisor115200 & 0xff);
  arch::outb(kCom1 + kIer, kDivisor115200 >> 8);
  arch::outb(kCom1 + kLcr, kLcr8N1);
  arch::outb(kCom1 + kFcr, 0xc7);  // enable and clear FIFOs, 14-byte threshold
  arch::outb(kCom1 + kMcr, 0x03);  // DTR, RTS
}

void put_raw(char c) {
  // Bounded wait: a missing UART must not hang the kernel.
  for (int i = 0; i < 100000 && (arch::inb(kCom1 + kLsr) & kLsrThrEmpty) == 0; ++i) arch::pause();
  arch::outb(kCom1 + kData, static_cast<u8>(c));
}

bool try_get(u8* out) {
  if ((arch::inb(kCom1 + kLsr) & kLsrDataReady) == 0) return false;
  *out = arch::inb(kCom1 + kData);
  return true;
}
}  // namespace arch::serial
