// scripts/bench's floor of AP bring-up (KCONFIG_BENCH_FLOOR=1 builds only).
#pragma once
#include "smp/bringup.hpp"

namespace bench {

// Instead of start_aps (kernel_main calls it in the floor build): the same INIT-SIPI-SIPI
// (smp::send_init_sipi_sipi) to a trampoline whose APs only stamp and count their arrival
// in real mode; prints one `bench-floor: {...}` JSON line with the timings and halts.
[[noreturn]] void floor_run(const smp::BringupOptions& opt);

}  // namespace bench
