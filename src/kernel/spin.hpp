// The one bounded wait: spin until done() or timeout_us have passed, pausing between
// polls. Time the machine spends stopped in the debugger is not counted (a stop must not
// turn into a timeout on resume). True if done() became true.
#pragma once
#include "arch/cpu.hpp"
#include "arch/tsc.hpp"
#include "kernel/stop_clock.hpp"

namespace kernel {

template <typename Done>
bool spin_until(Done done, u64 timeout_us) {
  u64 deadline = arch::rdtsc() + arch::tsc::us_to_ticks(timeout_us);
  u64 stopped0 = stopped_ticks();
  while (!done()) {
    if (arch::rdtsc() > deadline + (stopped_ticks() - stopped0)) return done();
    arch::pause();
  }
  return true;
}

}  // namespace kernel
