// The time-stamp counter as the kernel's clock: calibrated once on the bootstrap CPU
// (CPUID 0x15/0x16 when they give a frequency, else against PIT channel 2), then used
// for every timestamp and bounded wait.
#pragma once
#include "lib/types.hpp"

namespace arch::tsc {
enum class Source { Unknown, Cpuid15, Cpuid16, Pit };
void calibrate();
u64 hz();
Source source();
const char* source_name();
u64 ticks_to_us(u64 ticks);
u64 ticks_to_ns(u64 ticks);
u64 us_to_ticks(u64 us);
void delay_us(u64 us);
}  // namespace arch::tsc
