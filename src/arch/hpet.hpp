// The HPET's main counter (IA-PC HPET Specification 1.0a), as a reference clock for
// calibrating the TSC and the APIC timer. boot/ finds the block through the ACPI HPET
// table, maps its registers uncached and hands the address over; nothing here routes or
// takes an HPET interrupt (every comparator stays as firmware left it, disabled).
#pragma once
#include "lib/bits.hpp"
#include "lib/types.hpp"

namespace arch::hpet {

// 2.3.1 Table 2 "Memory-Mapped Registers": byte offsets in the block.
constexpr u64 kRegCapabilities = 0x000;  // General Capabilities and ID (read-only)
constexpr u64 kRegConfig = 0x010;        // General Configuration
constexpr u64 kRegMainCounter = 0x0f0;   // Main Counter Value
constexpr u64 kBlockBytes = 0x400;       // 2.1.1: each block decodes 1 KiB

// 2.3.4 General Capabilities and ID Register.
using CapRevId = lib::BitField<u64, 0, 8>;       // REV_ID: never 0
using CapNumTimers = lib::BitField<u64, 8, 5>;   // NUM_TIM_CAP: the last timer's number
using CapCount64 = lib::BitField<u64, 13, 1>;    // COUNT_SIZE_CAP: main counter is 64 bits
using CapVendorId = lib::BitField<u64, 16, 16>;  // VENDOR_ID (a PCI vendor ID)
using CapPeriodFs = lib::BitField<u64, 32, 32>;  // COUNTER_CLK_PERIOD in femtoseconds
constexpr u64 kMaxPeriodFs = 0x05F5E100;         // 2.3.4: at most 10^8 fs (100 ns), never 0
constexpr u64 kFemtosecondsPerSecond = 1000000000000000ULL;
// 2.3.5 General Configuration Register: ENABLE_CNF runs the main counter (0: halted).
using CfgEnable = lib::BitField<u64, 0, 1>;

enum class Status {
  NotFound,   // no HPET table, or not mapped
  NoDevice,   // the capabilities read as all ones or REV_ID 0: nothing answers there
  BadPeriod,  // COUNTER_CLK_PERIOD 0 or above 100 ns
  Ready,      // main counter running
};
const char* status_text(Status s);

// `va`: the block mapped uncached (0: none). Checks the capabilities and starts the main
// counter if firmware left it halted (read-modify-write, 2.3.5), leaving every other
// configuration bit as it was. Returns and remembers the outcome.
Status init(u64 va);
Status status();
u64 read();  // main counter; its width is counter_bits()
unsigned counter_bits();
u64 period_fs();
u64 capabilities();

}  // namespace arch::hpet
