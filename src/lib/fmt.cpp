#include "lib/fmt.hpp"

#include "lib/string.hpp"

namespace lib {

void BufSink::write(const char* s, usize n) {
  for (usize i = 0; i < n; ++i) {
    if (len_ + 1 < cap_) {
      buf_[len_++] = s[i];
    } else {
      truncated_ = true;
    }
  }
  if (cap_) buf_[len_ < cap_ ? len_ : cap_ - 1] = '\0';
}

namespace {

struct Spec {
  bool left = false;
  bool zero = false;
  bool alt = false;
  int width = 0;
};

void pad(Sink& out, char c, int n) {
  for (int i = 0; i < n; ++i) out.put(c);
}

void emit_number(Sink& out, u64 v, bool neg, unsigned base, bool upper, const Spec& sp) {
  char digits[24];
  int n = 0;
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits[n++] = set[v % base];
    v /= base;
  } while (v != 0);
  int prefix_len = (neg ? 1 : 0) + (sp.alt && base == 16 ? 2 : 0);
  int total = n + prefix_len;
  if (!sp.left && !sp.zero) pad(out, ' ', sp.width - total);
  if (neg) out.put('-');
  if (sp.alt && base == 16) out.write(upper ? "0X" : "0x", 2);
  if (!sp.left && sp.zero) pad(out, '0', sp.width - total);
  while (n > 0) out.put(digits[--n]);
  if (sp.left) pad(out, ' ', sp.width - total);
}

}  // namespace

void vformat(Sink& out, const char* fmt, va_list ap) {
  for (const char* p = fmt; *p != '\0'; ++p) {
    if (*p != '%') {
      const char* start = p;
      while (p[1] != '\0' && p[1] != '%') ++p;
      out.write(start, static_cast<usize>(p - start + 1));
      continue;
    }
    ++p;
    Spec sp;
    for (;; ++p) {
      if (*p == '-')
        sp.left = true;
      else if (*p == '0')
        sp.zero = true;
      else if (*p == '#')
        sp.alt = true;
      else
        break;
    }
    if (*p == '*') {
      sp.width = va_arg(ap, int);
      ++p;
    } else {
      while (*p >= '0' && *p <= '9') sp.width = sp.width * 10 + (*p++ - '0');
    }
    int longs = 0;
    bool size_t_mod = false;
    while (*p == 'l' || *p == 'h' || *p == 'z') {
      if (*p == 'l') ++longs;
      if (*p == 'z') size_t_mod = true;
      ++p;
    }
    auto get_unsigned = [&]() -> u64 {
      if (size_t_mod) return va_arg(ap, usize);
      if (longs == 1) return va_arg(ap, unsigned long);
      if (longs >= 2) return va_arg(ap, unsigned long long);
      return va_arg(ap, unsigned int);
    };
    auto get_signed = [&]() -> i64 {
      if (size_t_mod) return static_cast<i64>(va_arg(ap, usize));
      if (longs == 1) return va_arg(ap, long);
      if (longs >= 2) return va_arg(ap, long long);
      return va_arg(ap, int);
    };
    switch (*p) {
      case '%': out.put('%'); break;
      case 'c': {
        char c = static_cast<char>(va_arg(ap, int));
        if (!sp.left) pad(out, ' ', sp.width - 1);
        out.put(c);
        if (sp.left) pad(out, ' ', sp.width - 1);
        break;
      }
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (s == nullptr) s = "(null)";
        int len = static_cast<int>(strlen(s));
        if (!sp.left) pad(out, ' ', sp.width - len);
        out.write(s, static_cast<usize>(len));
        if (sp.left) pad(out, ' ', sp.width - len);
        break;
      }
      case 'd':
      case 'i': {
        i64 v = get_signed();
        u64 mag = v < 0 ? static_cast<u64>(0) - static_cast<u64>(v) : static_cast<u64>(v);
        emit_number(out, mag, v < 0, 10, false, sp);
        break;
      }
      case 'u': emit_number(out, get_unsigned(), false, 10, false, sp); break;
      case 'x': emit_number(out, get_unsigned(), false, 16, false, sp); break;
      case 'X': emit_number(out, get_unsigned(), false, 16, true, sp); break;
      case 'p': {
        Spec ps;
        ps.alt = true;
        ps.zero = true;
        ps.width = 18;
        emit_number(out, reinterpret_cast<uintptr_t>(va_arg(ap, void*)), false, 16, false, ps);
        break;
      }
      case '\0': return;
      default:
        out.put('%');
        out.put(*p);
        break;
    }
  }
}

void format(Sink& out, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vformat(out, fmt, ap);
  va_end(ap);
}

usize snformat(char* buf, usize cap, const char* fmt, ...) {
  BufSink s(buf, cap);
  va_list ap;
  va_start(ap, fmt);
  vformat(s, fmt, ap);
  va_end(ap);
  return s.size();
}

}  // namespace lib
