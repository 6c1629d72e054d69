// printf-style formatting into a Sink, shared by the kernel and the host tests.
// Supports %% %c %s %d %i %u %x %X %p with the l, ll, z, h, hh modifiers, a width,
// '0' padding, '-' left justification and '#' (0x prefix). Checked by -Wformat.
#pragma once
#include <stdarg.h>

#include "lib/types.hpp"

namespace lib {

class Sink {
 public:
  virtual void write(const char* s, usize n) = 0;
  void put(char c) { write(&c, 1); }

 protected:
  ~Sink() = default;
};

// Writes into a caller-provided buffer; always NUL-terminates, truncates silently and
// remembers that it did.
class BufSink final : public Sink {
 public:
  BufSink(char* buf, usize cap) : buf_(buf), cap_(cap) {
    if (cap_) buf_[0] = '\0';
  }
  void write(const char* s, usize n) override;
  const char* str() const { return buf_; }
  usize size() const { return len_; }
  bool truncated() const { return truncated_; }
  void clear() {
    len_ = 0;
    truncated_ = false;
    if (cap_) buf_[0] = '\0';
  }

 private:
  char* buf_;
  usize cap_;
  usize len_ = 0;
  bool truncated_ = false;
};

void vformat(Sink& out, const char* fmt, va_list ap);
__attribute__((format(printf, 2, 3))) void format(Sink& out, const char* fmt, ...);
__attribute__((format(printf, 3, 4))) usize snformat(char* buf, usize cap, const char* fmt, ...);

}  // namespace lib
