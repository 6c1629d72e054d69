// A reply payload under construction: bounded by the packet size the session offers,
// with the hex and binary encodings the replies use. Running out of room is sticky and
// checked once, before the reply is framed (Session turns it into an error reply);
// handlers that stream data (m, qXfer, thread lists) ask room() first so they never do.
#pragma once
#include "gdbstub/hex.hpp"
#include "gdbstub/packet.hpp"
#include "gdbstub/protocol.hpp"
#include "lib/types.hpp"

namespace gdbstub {

class Reply {
 public:
  // Empties the reply; it may then grow to limit bytes (at most kMaxPacketSize).
  void start(usize limit) {
    len_ = 0;
    limit_ = limit < kMaxPacketSize ? limit : kMaxPacketSize;
    overflow_ = false;
  }
  usize size() const { return len_; }
  const u8* data() const { return buf_; }
  usize room() const { return limit_ - len_; }
  bool overflowed() const { return overflow_; }

  void put(char c) { put_byte(static_cast<u8>(c)); }
  // Overwrites a byte already put (a qXfer reply's 'm' that turns out to be the 'l').
  void patch(usize pos, char c) {
    if (pos < len_) buf_[pos] = static_cast<u8>(c);
  }
  void put(const char* s) {
    while (*s != '\0') put(*s++);
  }
  // Two lower-case hex digits per byte, in memory order.
  void put_hex(const u8* p, usize n) {
    for (usize i = 0; i < n; ++i) put_hex_byte(p[i]);
  }
  void put_hex_byte(u8 b) {
    put(hex_digit(b >> 4));
    put(hex_digit(b));
  }
  // A number in hex without leading zeros (thread ids, addresses in stop replies).
  void put_hex_num(u64 v) {
    int shift = 60;
    while (shift > 0 && (v >> shift) == 0) shift -= 4;
    for (; shift >= 0; shift -= 4) put(hex_digit(static_cast<unsigned>(v >> shift)));
  }
  // One byte of binary data (qXfer replies), escaped where RSP "Overview" requires.
  void put_binary(u8 b) {
    if (needs_escape(b)) {
      if (room() < 2) {
        overflow_ = true;
        return;
      }
      put_byte(kEscape);
      put_byte(b ^ 0x20);
    } else {
      put_byte(b);
    }
  }
  // Bytes put_binary(b) needs.
  static constexpr usize binary_size(u8 b) { return needs_escape(b) ? 2 : 1; }

 private:
  void put_byte(u8 b) {
    if (len_ < limit_) {
      buf_[len_++] = b;
    } else {
      overflow_ = true;
    }
  }

  u8 buf_[kMaxPacketSize] = {};
  usize len_ = 0;
  usize limit_ = kMaxPacketSize;
  bool overflow_ = false;
};

}  // namespace gdbstub
