// Hex digits and a bounded cursor over a packet's payload. Almost everything in the GDB
// Remote Serial Protocol is hex text (RSP "Packets": addresses, lengths, register and
// memory contents, thread ids); the Cursor reads it from a payload that is not
// NUL-terminated and may hold any byte (binary X data), never past its end.
#pragma once
#include "gdbstub/protocol.hpp"
#include "lib/types.hpp"

namespace gdbstub {

// 0-15 for [0-9a-fA-F], -1 otherwise.
constexpr int hex_value(u8 c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Lower-case, as gdb and QEMU's stub send them.
constexpr char hex_digit(unsigned v) { return "0123456789abcdef"[v & 0xf]; }

// Decodes 2*n hex digits into n bytes; false (out partly written) on a non-hex digit.
[[nodiscard]] bool hex_decode(const u8* hex, usize n, u8* out);

class Cursor {
 public:
  Cursor(const u8* data, usize size) : data_(data), size_(size) {}

  bool at_end() const { return pos_ == size_; }
  usize pos() const { return pos_; }
  usize remaining() const { return size_ - pos_; }
  const u8* here() const { return data_ + pos_; }
  // The next byte, or -1 at the end.
  int peek() const { return at_end() ? -1 : data_[pos_]; }

  // Consumes c if it is next.
  [[nodiscard]] bool eat(char c);
  // Consumes s if the remaining payload starts with it.
  [[nodiscard]] bool eat(const char* s);
  // Consumes one or more hex digits as a number; false (nothing consumed) when there is
  // no digit or the value does not fit 64 bits (leading zeros are fine).
  [[nodiscard]] bool hex_u64(u64* out);
  // A thread id as in RSP "Packets", thread-id: "-1" (kAllThreads), "0" (kAnyThread) or
  // a positive hex number; the multiprocess form p<pid>.<tid> is refused, since this stub
  // does not offer multiprocess+ in qSupported.
  [[nodiscard]] bool thread_id(ThreadId* out);
  // Skips to the end.
  void skip_rest() { pos_ = size_; }

 private:
  const u8* data_;
  usize size_;
  usize pos_ = 0;
};

}  // namespace gdbstub
