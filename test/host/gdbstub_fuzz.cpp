// libFuzzer target: arbitrary bytes from "gdb" into a Session with a fake target, the way
// the kernel's glue drives it (stops reported after Attach, Interrupt and Resume). The
// first two bytes choose the packet size, run-length encoding, the thread count and the
// mode: raw bytes, or (so that random packets get past the checksum) newline-separated
// payloads that the fuzzer frames itself with a correct checksum. Checks: everything the
// Session sends is acks and well-formed packets with correct checksums and run-length
// encoding gdb accepts, every packet within the packet size, output bounded per input byte,
// and the state machine's promises (Resume only from Stopped, Attach leaves it pending).
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "gdbstub/hex.hpp"
#include "gdbstub/packet.hpp"
#include "gdbstub/session.hpp"
#include "gdbstub_fake.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Every byte the Session sent, read back as gdb reads it (RSP "Overview"), without
// allocating (it runs on every input): acks and whole packets only (the Transport always
// gets whole frames), each checksum right, each run-length count a character gdb accepts
// and following something to repeat, within the packet size. gdbstub_wire.hpp does the
// same with strings for the unit tests.
void check_output(const std::string& bytes, usize packet_size) {
  size_t i = 0;
  while (i < bytes.size()) {
    char c = bytes[i];
    if (c == '+' || c == '-') {
      ++i;
      continue;
    }
    check(c == '$');
    size_t start = ++i;
    unsigned sum = 0;
    size_t expanded = 0;
    while (i < bytes.size() && bytes[i] != '#') {
      auto b = static_cast<unsigned char>(bytes[i]);
      check(b != '$');
      sum += b;
      if (b == '*') {
        check(expanded > 0 && i + 1 < bytes.size());
        auto count = static_cast<unsigned char>(bytes[++i]);
        check(count >= 32 && count <= 126 && count != '#' && count != '$');
        sum += count;
        expanded += count - 29u;
      } else {
        ++expanded;
      }
      ++i;
    }
    check(i + 3 <= bytes.size());  // "#" and two checksum digits
    check(i - start <= packet_size);
    check(expanded >= i - start);
    int hi = gdbstub::hex_value(static_cast<u8>(bytes[i + 1]));
    int lo = gdbstub::hex_value(static_cast<u8>(bytes[i + 2]));
    check(hi >= 0 && lo >= 0 && static_cast<unsigned>(hi * 16 + lo) == (sum & 0xff));
    i += 3;
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
  // lone 0x03 stay as they are; a lone 0xff is a reconnect: reset_connection()).
  std::vector<u8> in;
  std::vector<size_t> resets;  // reset_connection() before in[resets[k]]
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
      } else if (n == 1 && p[0] == 0xff) {
        resets.push_back(in.size());
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
  size_t next_reset = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    while (next_reset < resets.size() && resets[next_reset] == i) {
      s.reset_connection();
      ++next_reset;
    }
    usize before = tx.bytes.size();
    gdbstub::State was = s.state();
    gdbstub::Event ev = s.feed(in[i]);
    if (ev == gdbstub::Event::Resume) {
      check(was == gdbstub::State::Stopped);
      // What the glue asks of a Resume: every thread's action, each one of the three.
      const gdbstub::Resume& r = s.resume();
      check(r.count >= 1 && r.count <= gdbstub::kMaxResumeActions);
      for (gdbstub::ThreadId t = target.next_thread(0); t != 0; t = target.next_thread(t)) {
        gdbstub::ThreadAction a = r.action_for(t);
        check(a.tid == t && static_cast<unsigned>(a.mode) <= 2);
      }
    }
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
