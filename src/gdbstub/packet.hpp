// Framing of the GDB Remote Serial Protocol (RSP "Overview"): packets are
// `$<payload>#<cc>`, cc the two-hex-digit sum of the payload bytes as sent, mod 256.
// The Decoder takes the line one byte at a time (the caller never blocks for input);
// encode_frame builds what we send, with the run-length encoding RSP allows in replies.
#pragma once
#include "gdbstub/protocol.hpp"
#include "lib/types.hpp"

namespace gdbstub {

// What one input byte completed.
enum class Input : u8 {
  None,         // consumed; no packet complete yet, or noise between packets (ignored)
  Packet,       // a packet with a correct checksum: Decoder::payload() holds it, unescaped
  BadChecksum,  // a packet whose checksum is wrong or not hex: the receiver answers '-'
  Overflow,     // a packet with a correct checksum but longer than the buffer (see below)
  Ack,          // '+' between packets: the peer received our last packet
  Nak,          // '-' between packets: the peer wants our last packet again
  Interrupt,    // 0x03 between packets: gdb asks the running target to stop (RSP "Interrupts")
};

class Decoder {
 public:
  // Payload bytes kept per packet, after unescaping. gdb never sends more than the
  // PacketSize we offer, framing included.
  static constexpr usize kCapacity = kMaxPacketSize;

  [[nodiscard]] Input feed(u8 byte);
  // Forgets a partial packet: for a caller whose line went quiet in mid-packet (a new
  // '$' also restarts, RSP "Overview": a '$' never occurs inside a packet unescaped).
  void reset() { state_ = State::Idle; }
  bool in_packet() const { return state_ != State::Idle; }

  // The last complete packet (after Input::Packet), valid until the next '$' is fed.
  // '}' escapes are already undone (RSP "Overview": the byte after 0x7d is XORed with
  // 0x20; gdb escapes binary data in X packets), so an X packet's data is raw bytes.
  const u8* payload() const { return buf_; }
  usize size() const { return len_; }

 private:
  enum class State : u8 { Idle, Payload, Escape, Check1, Check2 };
  u8 buf_[kCapacity] = {};
  usize len_ = 0;
  State state_ = State::Idle;
  u8 sum_ = 0;    // of the bytes between '$' and '#', as received
  u8 check_ = 0;  // the checksum the sender wrote
  // More payload arrived than kCapacity: the rest is counted in the checksum but not
  // kept, and the packet is reported as Overflow once its checksum has been read. The
  // receiver then acks it and replies with an error: a '-' would only make gdb send the
  // same too-long packet again, forever.
  bool overflow_ = false;
};

// Modulo-256 sum of the bytes (RSP "Overview").
u8 checksum(const u8* data, usize n);

// Bytes that must be escaped in binary data (RSP "Overview": '#' and '$' frame packets,
// '}' is the escape itself, '*' starts a run-length encoding), sent as 0x7d, byte ^ 0x20.
constexpr bool needs_escape(u8 b) { return b == '#' || b == '$' || b == '}' || b == '*'; }
constexpr u8 kEscape = 0x7d;

// Run-length encoding (RSP "Overview"): `X*c` stands for X followed by c - 29 more X.
// The count character must be printable, not '#' or '$', and at most 126: so runs of
// 4..98 X are encoded, repeat counts 6 and 7 (count characters '#' and '$') are sent as 5
// plus plain X, and longer runs are split.
constexpr usize kRleMinRepeat = 3;   // count ' ': below that the encoding saves nothing
constexpr usize kRleMaxRepeat = 97;  // count '~' (126)
constexpr u8 kRleBias = 29;

// Builds `$<payload>#cc` into out, run-length encoding the payload when rle is set; the
// checksum covers the bytes as sent. The payload must already be escaped where it is
// binary: an escape (0x7d and the byte after it) is never folded into a run. Returns the
// frame's length, or 0 when it does not fit cap (kMaxPacketSize + kFrameOverhead
// always fits a payload of at most kMaxPacketSize, since the encoding never grows it).
[[nodiscard]] usize encode_frame(const u8* payload, usize n, bool rle, u8* out, usize cap);

}  // namespace gdbstub
