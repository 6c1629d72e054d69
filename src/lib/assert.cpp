// The host side of KASSERT (lib/assert.hpp): the kernel's is kernel::panic
// (kernel/panic.cpp); the host tests and fuzzers abort, which GoogleTest, ASan and
// libFuzzer all report with the message.
#include "lib/assert.hpp"

#if defined(HOST_TEST)
#include <cstdio>
#include <cstdlib>

namespace lib {
void assert_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "KASSERT failed: %s (%s:%d)\n", expr, file, line);
  std::abort();
}
}  // namespace lib
#endif
