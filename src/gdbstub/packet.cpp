#include "gdbstub/packet.hpp"

#include "gdbstub/hex.hpp"

namespace gdbstub {

Input Decoder::feed(u8 byte) {
  // A '$' always starts a packet, even inside one (the sender gave up on the first).
  if (byte == '$') {
    state_ = State::Payload;
    len_ = 0;
    sum_ = 0;
    overflow_ = false;
    return Input::None;
  }
  switch (state_) {
    case State::Idle:
      if (byte == '+') return Input::Ack;
      if (byte == '-') return Input::Nak;
      if (byte == 0x03) return Input::Interrupt;
      return Input::None;
    case State::Payload:
    case State::Escape:
      if (byte == '#') {
        // A '}' right before '#' escapes nothing: it is dropped (the checksum still
        // covers it), the payload ends before it.
        state_ = State::Check1;
        return Input::None;
      }
      sum_ = static_cast<u8>(sum_ + byte);
      if (state_ == State::Payload && byte == kEscape) {
        state_ = State::Escape;
        return Input::None;
      }
      if (state_ == State::Escape) {
        byte ^= 0x20;
        state_ = State::Payload;
      }
      if (len_ < kCapacity) {
        buf_[len_++] = byte;
      } else {
        overflow_ = true;
      }
      return Input::None;
    case State::Check1:
    case State::Check2: {
      int v = hex_value(byte);
      if (v < 0) {
        state_ = State::Idle;
        return Input::BadChecksum;
      }
      if (state_ == State::Check1) {
        check_ = static_cast<u8>(v << 4);
        state_ = State::Check2;
        return Input::None;
      }
      check_ = static_cast<u8>(check_ | v);
      state_ = State::Idle;
      if (check_ != sum_) return Input::BadChecksum;
      return overflow_ ? Input::Overflow : Input::Packet;
    }
  }
  return Input::None;
}

u8 checksum(const u8* data, usize n) {
  u8 s = 0;
  for (usize i = 0; i < n; ++i) s = static_cast<u8>(s + data[i]);
  return s;
}

namespace {

// Appends to a bounded frame; remembers running out of room.
struct FrameOut {
  u8* out;
  usize cap;
  usize len;
  bool full;
  void put(u8 b) {
    if (len < cap) {
      out[len++] = b;
    } else {
      full = true;
    }
  }
};

// The repeat count to encode for `more` further copies of a character, 0 for none.
usize rle_repeat(usize more) {
  if (more < kRleMinRepeat) return 0;
  usize n = more > kRleMaxRepeat ? kRleMaxRepeat : more;
  // 6 and 7 would be sent as '#' and '$', which frame packets.
  if (n + kRleBias == '#' || n + kRleBias == '$') n = '"' - kRleBias;
  return n;
}

}  // namespace

usize encode_frame(const u8* payload, usize n, bool rle, u8* out, usize cap) {
  FrameOut f{out, cap, 0, false};
  f.put('$');
  usize i = 0;
  while (i < n) {
    u8 c = payload[i];
    if (c == kEscape && i + 1 < n) {
      // An escape pair is copied as it is: repeating its second byte would repeat the
      // escaped character's disguise, not the character.
      f.put(c);
      f.put(payload[i + 1]);
      i += 2;
      continue;
    }
    usize run = 1;
    while (rle && i + run < n && payload[i + run] == c) ++run;
    i += run;
    // Emit X, then *count for as many as allowed, and again from a new X for the rest.
    while (run > 0) {
      f.put(c);
      --run;
      usize rep = rle_repeat(run);
      if (rep != 0) {
        f.put('*');
        f.put(static_cast<u8>(rep + kRleBias));
        run -= rep;
      }
    }
  }
  u8 sum = checksum(out + 1, f.len > 1 ? f.len - 1 : 0);
  f.put('#');
  f.put(static_cast<u8>(hex_digit(sum >> 4)));
  f.put(static_cast<u8>(hex_digit(sum)));
  return f.full ? 0 : f.len;
}

}  // namespace gdbstub
