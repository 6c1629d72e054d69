// The 8254 programmable interval timer's counter 2 (Intel 8254 data sheet, order no.
// 231164) as a reference clock for calibrating the TSC: gated on through port 0x61, counting
// down from 0xffff in mode 0, its count read with the counter-latch command. Counter 2
// drives only the PC speaker (kept silent), so borrowing it disturbs nothing.
#pragma once
#include "lib/bits.hpp"
#include "lib/types.hpp"

namespace arch::pit {

// The PC/AT wiring: the counters' input is the 14.31818 MHz crystal divided by 12
// (1.193182 MHz); counter 2's gate and the speaker enable are in port 0x61.
constexpr u64 kHz = 1193182;
constexpr u16 kPortCounter2 = 0x42;
constexpr u16 kPortControl = 0x43;
constexpr u16 kPortB = 0x61;           // PC/AT system control port B (PCH: "NMI Status and Control")
constexpr u8 kPortBGate2 = 1u << 0;    // counter 2 GATE input
constexpr u8 kPortBSpeaker = 1u << 1;  // speaker data enable (off: silent)

// 8254 data sheet, "Control Word Format": SC (counter select), RW (read/write: 00 is the
// counter latch command, 11 the low byte then the high byte), M (mode), BCD.
using CwBcd = lib::BitField<u8, 0, 1>;
using CwMode = lib::BitField<u8, 1, 3>;
using CwRw = lib::BitField<u8, 4, 2>;
using CwSelect = lib::BitField<u8, 6, 2>;
constexpr u8 kSelectCounter2 = 2;
constexpr u8 kRwLatch = 0;
constexpr u8 kRwLowThenHigh = 3;
constexpr u8 kMode0 = 0;  // "interrupt on terminal count": counts down while GATE is high
constexpr unsigned kCounterBits = 16;

// Starts counter 2 counting down from 0xffff (saving port 0x61 for stop()).
void start();
u16 read();   // counter 2's count, latched so both bytes belong together
void stop();  // restores port 0x61 as start() found it

}  // namespace arch::pit
