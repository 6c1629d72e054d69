// The ACPI power-management timer (ACPI 6.5 4.8.2.1 "Power Management Timer", 4.8.3.3
// "Power Management Timer (PM_TMR)"): a free-running 24- or 32-bit up-counter at
// 3.579545 MHz, read as 32 bits from a system I/O port or a memory address the FADT
// gives. A reference clock for calibrating the TSC; boot/ hands over where it is.
#pragma once
#include "lib/types.hpp"

namespace arch::pmtimer {

constexpr u64 kHz = 3579545;  // 4.8.2.1: 3.579545 MHz (the 14.31818 MHz crystal / 4)

// A port (io) or a mapped address (!io), and the width TMR_VAL_EXT gives (4.8.3.3, its
// "PM Timer Bits" table: TMR_VAL is bits 23:0, or 31:0 with TMR_VAL_EXT; FADT Flags,
// Table 5.10).
void init_port(u16 port, bool ext32);
void init_mmio(u64 va, bool ext32);
bool present();
u32 read();
unsigned bits();
u64 address();  // the port, or the mapped address
bool io();

}  // namespace arch::pmtimer
