// The one way to say "cannot go on": kernel::panic(fmt, ...) from any layer. The policy
// lives higher up (debug/panic.cpp: stop the other CPUs, print the report, enter the
// panic shell) and is registered at boot; until then, and if it is never registered,
// the reason is printed and this CPU halts. KASSERT (lib/assert.hpp) ends here too.
#pragma once
#include "lib/types.hpp"

namespace kernel {

[[noreturn]] __attribute__((format(printf, 1, 2))) void panic(const char* fmt, ...);
// What panic() calls with the formatted reason; must not return.
void set_panic_handler(void (*handler)(const char* reason));

}  // namespace kernel
