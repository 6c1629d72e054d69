// TSC ticks the machine has spent stopped in the debugger (every CPU held while one sits
// at `kstop> `). Bounded waits (AP arrival, cross-CPU calls) add this to their deadlines,
// so a stop does not turn into a timeout on resume.
#pragma once
#include "lib/types.hpp"

namespace kernel {
inline u64 g_stopped_ticks;
inline u64 stopped_ticks() { return __atomic_load_n(&g_stopped_ticks, __ATOMIC_ACQUIRE); }
inline void add_stopped_ticks(u64 t) { __atomic_fetch_add(&g_stopped_ticks, t, __ATOMIC_ACQ_REL); }
}  // namespace kernel
