// libFuzzer target: arbitrary bytes from "gdb" into a Session with a fake target, the way
// the kernel's glue drives it (stops reported after Attach, Interrupt and Resume). The
// first two bytes choose the packet size, run-length encoding, the thread count and the
// mode: raw bytes, or (so that random packets get past the checksum) newline-separated
// payloads that the fuzzer frames itself with a correct checksum. Checks: everything the
// Session sends is acks and well-formed packets with correct checksums (read back by the
// reference reader), every packet within the packet size, output bounded per input byte,
// and the state machine's promises (Resume only from Stopped, Attach leaves it pending).
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "gdbstub/hex.hpp"
#include "gdbstub/packet.hpp"
#include "gdbstub/session.hpp"
#include "gdbstub_fake.hpp"
#include "gdbstub_wire.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Every byte the Session sent, read back: acks and whole packets only (the Transport
// always gets whole frames), checksums right, within the packet size.
void check_output(const std::string& bytes, usize packet_size) {
  std::vector<gdbwire::Item> items;
  std::string err;
  check(gdbwire::parse(bytes, &items, &err));
  for (const gdbwire::Item& it : items) {
    if (it.kind != '$') continue;
    check(it.raw.size() <= packet_size);
    // A run-length encoded payload never grows (RSP: "to save space").
    check(it.payload.size() >= it.raw.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  gdbstub::Config cfg;
  cfg.packet_size = gdbstub::kMinPacketSize + (data[0] * 11u) % (gdbstub::kMaxPacketSize - gdbstub::kMinPacketSize + 1);
  cfg.rle = (data[1] & 1) != 0;
  gdbfake::FakeTarget target(1 + data[1] % 9);
  target.long_extra_info = (data[1] & 2) != 0;
  target.max_output = 300;
  gdbfake::CaptureTransport tx;
  gdbstub::Session s(target, tx, cfg);
  // The bytes to feed: the input itself, or each line framed as $line#cc ("+", "-" and a
  // lone 0x03 stay as they are).
  std::vector<u8> in;
  if ((data[1] & 4) == 0) {
    in.assign(data + 2, data + size);
  } else {
    size_t start = 2;
    for (size_t i = 2; i <= size; ++i) {
      if (i < size && data[i] != '\n') continue;
      size_t n = i - start;
      const u8* p = data + start;
      if (n == 1 && (p[0] == '+' || p[0] == '-' || p[0] == 0x03)) {
        in.push_back(p[0]);
      } else {
        in.push_back('$');
        in.insert(in.end(), p, p + n);
        u8 sum = gdbstub::checksum(p, n);
        in.push_back('#');
        in.push_back(static_cast<u8>(gdbstub::hex_digit(sum >> 4)));
        in.push_back(static_cast<u8>(gdbstub::hex_digit(sum)));
      }
      start = i + 1;
    }
  }
  u32 stops = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    usize before = tx.bytes.size();
    gdbstub::State was = s.state();
    gdbstub::Event ev = s.feed(in[i]);
    if (ev == gdbstub::Event::Resume) check(was == gdbstub::State::Stopped);
    if (ev == gdbstub::Event::Attach) check(s.state() == gdbstub::State::AttachPending);
    if (ev == gdbstub::Event::Interrupt) check(was == gdbstub::State::Resumed);
    // Whatever the caller would do: stop the machine and say so (the thread and the
    // reason taken from the input too, valid or not).
    if (ev == gdbstub::Event::Attach || ev == gdbstub::Event::Interrupt ||
        (ev == gdbstub::Event::Resume && ((stops + in.size() - i) & 1) != 0)) {
      u8 r = i > 0 ? in[i - 1] : 0;
      gdbstub::StopEvent stop;
      stop.tid = 1 + (stops++ + r) % 12;
      stop.signal = r;
      stop.reason = static_cast<gdbstub::StopReason>(r % 6);
      stop.watch_addr = 0x1000ULL * r;
      (void)s.report_stop(stop);
      check(s.state() != gdbstub::State::AttachPending);
    }
    // One byte never produces more than a monitor command's output (bounded by the fake:
    // at most 300 lines of 20 characters, each line a packet) plus a reply.
    check(tx.bytes.size() - before <= 300 * 50 + 2 * (gdbstub::kMaxPacketSize + gdbstub::kFrameOverhead + 1));
  }
  check_output(tx.bytes, s.packet_size());
  return 0;
}
