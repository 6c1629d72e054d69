#include "lib/string.hpp"

#ifdef KERNEL
extern "C" {
void* memcpy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<u8*>(dst);
  auto* s = static_cast<const u8*>(src);
  asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return dst;
}
void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<u8*>(dst);
  auto* s = static_cast<const u8*>(src);
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  for (size_t i = n; i > 0; --i) d[i - 1] = s[i - 1];
  return dst;
}
void* memset(void* dst, int c, size_t n) {
  auto* d = static_cast<u8*>(dst);
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}
int memcmp(const void* a, const void* b, size_t n) {
  auto* x = static_cast<const u8*>(a);
  auto* y = static_cast<const u8*>(b);
  for (size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}
}
#endif

namespace lib {

usize strlen(const char* s) {
  usize n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

usize strnlen(const char* s, usize max) {
  usize n = 0;
  while (n < max && s[n] != '\0') ++n;
  return n;
}

int strcmp(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return static_cast<u8>(*a) - static_cast<u8>(*b);
}

int strncmp(const char* a, const char* b, usize n) {
  for (usize i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<u8>(a[i]) - static_cast<u8>(b[i]);
    if (a[i] == '\0') return 0;
  }
  return 0;
}

bool starts_with(const char* s, const char* prefix) {
  while (*prefix != '\0')
    if (*s++ != *prefix++) return false;
  return true;
}

bool streq(const char* a, const char* b) { return strcmp(a, b) == 0; }

bool parse_u64(const char* s, u64* out, bool hex_default) {
  unsigned base = hex_default ? 16 : 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  u64 v = 0;
  bool any_digit = false;
  for (; *s != '\0'; ++s) {
    unsigned d;
    char c = *s;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<unsigned>(c - 'A' + 10);
    else if (c == '_' || c == '`')
      continue;  // digit separators, as gdb and DDB print them
    else
      return false;
    if (d >= base) return false;
    if (v > (~0ULL - d) / base) return false;
    v = v * base + d;
    any_digit = true;
  }
  if (!any_digit) return false;
  *out = v;
  return true;
}

}  // namespace lib
