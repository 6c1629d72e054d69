// What the C++ compiler expects from a runtime, for a kernel without one.
#include "arch/cpu.hpp"
#include "kernel/panic.hpp"
#include "lib/boot_code.hpp"

extern "C" {
// A pure virtual call means a corrupt or half-built object.
void __cxa_pure_virtual() { kernel::panic("pure virtual function called"); }
// Static objects are never destroyed in a kernel.
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
void* __dso_handle = nullptr;
}

namespace boot {
extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();
BOOT_CODE void run_global_constructors() {
  for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();
}
}  // namespace boot
