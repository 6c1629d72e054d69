#include "kernel/panic.hpp"

#include "arch/cpu.hpp"
#include "kernel/console.hpp"
#include "lib/assert.hpp"
#include "lib/fmt.hpp"

namespace kernel {
namespace {
// The reason outlives the call: the report and the panic shell print it.
char g_reason[160];
void (*g_handler)(const char* reason);
}  // namespace

void set_panic_handler(void (*handler)(const char* reason)) { g_handler = handler; }

void panic(const char* fmt, ...) {
  arch::cli();
  va_list ap;
  va_start(ap, fmt);
  lib::BufSink out(g_reason, sizeof g_reason);
  lib::vformat(out, fmt, ap);
  va_end(ap);
  if (g_handler != nullptr) g_handler(g_reason);
  kernel::console::printf("\nPANIC: %s; halting\n", g_reason);  // before the debug layer is up
  arch::halt_forever();
}

}  // namespace kernel

namespace lib {
void assert_failed(const char* expr, const char* file, int line) {
  kernel::panic("assertion failed: %s (%s:%d)", expr, file, line);
}
}  // namespace lib
