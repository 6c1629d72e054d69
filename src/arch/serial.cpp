#include "arch/serial.hpp"

#include "arch/cpu.hpp"
#include "arch/uart_regs.hpp"

namespace arch::serial {
using namespace arch::uart;
namespace {
u16 g_console = kCom1;
constexpr int kThrSpins = 100000;  // ~1 ms of polling: far longer than one character takes
}  // namespace

void init(u16 base) {
  arch::outb(base + kIer, 0);  // polled: no UART interrupts
  arch::outb(base + kLcr, kLcrDlab);
  arch::outb(base + kData, kDivisor115200 & 0xff);
  arch::outb(base + kIer, kDivisor115200 >> 8);
  arch::outb(base + kLcr, kLcr8N1);
  arch::outb(base + kFcr, kFcrEnableClear14);
  arch::outb(base + kMcr, kMcrDtrRts);
}

bool probe(u16 base) {
  // The scratch register (offset 7) holds what is written: absent ports read 0xff.
  const u8 patterns[] = {0x5a, 0xa5};
  for (u8 v : patterns) {
    arch::outb(base + kScratch, v);
    if (arch::inb(base + kScratch) != v) return false;
  }
  // Loopback: a byte sent must arrive (data sheet, "Modem Control Register", bit 4).
  u8 mcr = arch::inb(base + kMcr);
  arch::outb(base + kMcr, kMcrLoop | kMcrOut1Out2 | kMcrDtrRts);
  while (arch::inb(base + kLsr) & kLsrDataReady) (void)arch::inb(base + kData);  // drain
  arch::outb(base + kData, 0xae);
  bool ok = false;
  for (int i = 0; i < kThrSpins && !ok; ++i) {
    if (arch::inb(base + kLsr) & kLsrDataReady) ok = arch::inb(base + kData) == 0xae;
    arch::pause();
  }
  arch::outb(base + kMcr, mcr);
  return ok;
}

void put(u16 base, char c) {
  for (int i = 0; i < kThrSpins && (arch::inb(base + kLsr) & kLsrThrEmpty) == 0; ++i) arch::pause();
  arch::outb(base + kData, static_cast<u8>(c));
}

bool data_ready(u16 base) { return (arch::inb(base + kLsr) & kLsrDataReady) != 0; }

bool try_get(u16 base, u8* out) {
  if (!data_ready(base)) return false;
  *out = arch::inb(base + kData);
  return true;
}

const char* name(u16 base) {
  switch (base) {
    case kCom1: return "COM1";
    case kCom2: return "COM2";
    default: return "a UART";
  }
}

void set_console(u16 base) { g_console = base; }
u16 console() { return g_console; }
void put_raw(char c) { put(g_console, c); }
bool try_get(u8* out) { return try_get(g_console, out); }

}  // namespace arch::serial
