// KASSERT(cond): checked in the debug preset (KERNEL_DEBUG) and in the host tests; a
// failure is a panic in the kernel (kernel::panic) and an abort on the host. Release
// builds compile it away, so the condition must have no side effects.
#pragma once

namespace lib {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line);
}  // namespace lib

#if defined(KERNEL_DEBUG) || defined(HOST_TEST)
#define KASSERT(cond)                                             \
  do {                                                            \
    if (!(cond)) ::lib::assert_failed(#cond, __FILE__, __LINE__); \
  } while (0)
#else
#define KASSERT(cond) \
  do {                \
  } while (0)
#endif
