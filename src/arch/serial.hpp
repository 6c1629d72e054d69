// COM1, polled, 115200 8N1 (the contract's console). Up first thing in kernel_main so
// that every later failure can be read.
#pragma once
#include "lib/types.hpp"

namespace arch::serial {
void init();
void put_raw(char c);   // no newline translation, no lock
bool try_get(u8* out);  // non-blocking read of one received byte
}  // namespace arch::serial
