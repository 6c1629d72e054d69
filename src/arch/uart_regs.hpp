// The PC's 16550-compatible UARTs (National Semiconductor PC16550D data sheet): the two
// legacy port bases and the registers the kernel uses, as offsets from a base. One header
// for the C++ (arch/serial.cpp) and, through asm_offsets.inc, for entry.asm's one early
// message.
#pragma once
#include "lib/types.hpp"

namespace arch::uart {

// The legacy I/O bases of COM1 and COM2 (IBM PC/AT; every PC firmware keeps them).
constexpr u16 kCom1 = 0x3f8;
constexpr u16 kCom2 = 0x2f8;

// Register offsets (data sheet, Table II "Register Addresses"); with LCR.DLAB set, 0 and 1
// are the divisor latch.
constexpr u16 kData = 0, kIer = 1, kFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kScratch = 7;
constexpr u8 kLcrDlab = 0x80, kLcr8N1 = 0x03;  // word length 8, 1 stop bit, no parity
constexpr u8 kFcrEnableClear14 = 0xc7;         // FIFOs on, both cleared, 14-byte trigger
constexpr u8 kMcrDtrRts = 0x03;                // DTR and RTS asserted
constexpr u8 kMcrLoop = 0x10;                  // loopback: the transmitter feeds the receiver
constexpr u8 kMcrOut1Out2 = 0x0c;              // OUT1/OUT2 (OUT2 gates the IRQ line on PCs)
constexpr u8 kLsrDataReady = 0x01, kLsrThrEmpty = 0x20;
constexpr u16 kDivisor115200 = 1;  // 115200 = 1.8432 MHz / 16 / 1

}  // namespace arch::uart
