#include "gdbstub/hex.hpp"

namespace gdbstub {

bool hex_decode(const u8* hex, usize n, u8* out) {
  for (usize i = 0; i < n; ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<u8>(hi << 4 | lo);
  }
  return true;
}

bool Cursor::eat(char c) {
  if (at_end() || data_[pos_] != static_cast<u8>(c)) return false;
  ++pos_;
  return true;
}

bool Cursor::eat(const char* s) {
  usize n = 0;
  while (s[n] != '\0') {
    if (pos_ + n >= size_ || data_[pos_ + n] != static_cast<u8>(s[n])) return false;
    ++n;
  }
  pos_ += n;
  return true;
}

bool Cursor::hex_u64(u64* out) {
  usize i = pos_;
  u64 v = 0;
  while (i < size_ && hex_value(data_[i]) >= 0) {
    if (v >> 60 != 0) return false;  // a fifth nibble above 64 bits
    v = v << 4 | static_cast<u64>(hex_value(data_[i]));
    ++i;
  }
  if (i == pos_) return false;
  pos_ = i;
  *out = v;
  return true;
}

bool Cursor::thread_id(ThreadId* out) {
  if (eat("-1")) {
    *out = kAllThreads;
    return true;
  }
  usize start = pos_;
  u64 v = 0;
  if (!hex_u64(&v)) return false;
  if (v >= kAllThreads) {
    pos_ = start;
    return false;
  }
  *out = static_cast<ThreadId>(v);
  return true;
}

}  // namespace gdbstub
