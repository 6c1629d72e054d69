// The few string and memory routines the kernel needs, with no libc behind them.
// In the kernel build memcpy/memset/memmove/memcmp are defined in string.cpp (the
// compiler emits calls to them); on the host the C library provides them.
#pragma once
#include "lib/types.hpp"

extern "C" {
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
}

namespace lib {

usize strlen(const char* s);
usize strnlen(const char* s, usize max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, usize n);
bool starts_with(const char* s, const char* prefix);
bool streq(const char* a, const char* b);

// Parses an unsigned number: decimal, or hex with a 0x prefix (or hex_default, then
// the prefix is optional). Rejects empty input, stray characters and overflow.
[[nodiscard]] bool parse_u64(const char* s, u64* out, bool hex_default = false);

}  // namespace lib
