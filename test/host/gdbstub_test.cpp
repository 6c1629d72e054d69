// The gdb stub's protocol core (src/gdbstub) against a fake target: framing (checksums,
// acks, escapes, run-length encoding, overflow, interrupts), every packet the Session
// answers, thread paging, target.xml chunking and register marshalling. Every byte the
// Session sends is read back by gdbstub_wire.hpp, a reader written from the RSP text.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "gdbstub/packet.hpp"
#include "gdbstub/regs.hpp"
#include "gdbstub/resume.hpp"
#include "gdbstub/session.hpp"
#include "gdbstub/target_xml.hpp"
#include "gdbstub_fake.hpp"
#include "gdbstub_wire.hpp"

using gdbfake::CaptureTransport;
using gdbfake::FakeTarget;
using gdbstub::BreakpointKind;
using gdbstub::Config;
using gdbstub::Decoder;
using gdbstub::Event;
using gdbstub::Input;
using gdbstub::Reg;
using gdbstub::RegFile;
using gdbstub::RunMode;
using gdbstub::Session;
using gdbstub::State;
using gdbstub::Status;
using gdbstub::StopEvent;
using gdbstub::StopReason;

namespace {

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string r;
  for (unsigned char c : s) {
    r.push_back(d[c >> 4]);
    r.push_back(d[c & 15]);
  }
  return r;
}

std::string unhex(const std::string& s) {
  std::string r;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    r.push_back(static_cast<char>(gdbwire::hexval(s[i]) * 16 + gdbwire::hexval(s[i + 1])));
  return r;
}

std::string hexnum(unsigned long long v) {
  char b[24];
  snprintf(b, sizeof b, "%llx", v);
  return b;
}

// $payload#cc as gdb sends it (payload already escaped where binary).
std::string frame(const std::string& payload) {
  unsigned sum = 0;
  for (unsigned char c : payload) sum += c;
  char cs[3];
  snprintf(cs, sizeof cs, "%02x", sum & 0xff);
  return "$" + payload + "#" + cs;
}

// gdb's escaping of X data (RSP "Overview").
std::string escape(const std::string& data) {
  std::string r;
  for (unsigned char c : data) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      r.push_back('}');
      r.push_back(static_cast<char>(c ^ 0x20));
    } else {
      r.push_back(static_cast<char>(c));
    }
  }
  return r;
}

std::string encode(const std::string& payload, bool rle = true) {
  std::vector<u8> out(payload.size() + gdbstub::kFrameOverhead);
  usize n =
      gdbstub::encode_frame(reinterpret_cast<const u8*>(payload.data()), payload.size(), rle, out.data(), out.size());
  return std::string(reinterpret_cast<const char*>(out.data()), n);
}

// A Session with a fake target, driven like gdb drives it.
struct Harness {
  explicit Harness(u32 threads = 4, Config cfg = {}) : target(threads), s(target, tx, cfg) {}

  // Feeds bytes; returns the last event other than None.
  Event feed(const std::string& bytes) {
    Event last = Event::None;
    for (unsigned char c : bytes) {
      Event e = s.feed(c);
      if (e != Event::None) last = e;
    }
    return last;
  }
  Event send(const std::string& payload) { return feed(frame(payload)); }

  // Everything sent since the last call, checked by the reference reader.
  std::vector<gdbwire::Item> items() {
    std::vector<gdbwire::Item> it;
    std::string err;
    std::string bytes = tx.take();
    EXPECT_TRUE(gdbwire::parse(bytes, &it, &err)) << err << " in: " << bytes;
    for (const auto& i : it)
      if (i.kind == '$') EXPECT_LE(i.raw.size(), s.packet_size()) << i.raw;
    return it;
  }
  // The packets sent since the last call (acks must be '+', one per packet received in
  // ack mode).
  std::vector<std::string> packets() {
    std::vector<std::string> r;
    for (const auto& i : items()) {
      if (i.kind == '$') r.push_back(i.payload);
      if (i.kind == '-') ADD_FAILURE() << "unexpected '-'";
    }
    return r;
  }
  // Sends a packet to a stopped session and returns its single reply.
  std::string ask(const std::string& payload) {
    Event e = send(payload);
    EXPECT_EQ(e, Event::None) << payload;
    std::vector<gdbwire::Item> it = items();
    std::vector<std::string> p;
    size_t acks = 0;
    for (const auto& i : it) {
      if (i.kind == '$') p.push_back(i.payload);
      if (i.kind == '+') ++acks;
    }
    EXPECT_EQ(acks, s.no_ack() && payload != "QStartNoAckMode" ? 0u : 1u) << payload;
    EXPECT_EQ(p.size(), 1u) << payload;
    return p.empty() ? std::string("<none>") : p.back();
  }
  // gdb connects while the machine runs: the stub asks for a stop, answers qSupported.
  void attach(const std::string& features = "multiprocess+;swbreak+;hwbreak+;vContSupported+",
              gdbstub::ThreadId tid = 1) {
    EXPECT_EQ(send("qSupported:" + features), Event::Attach);
    EXPECT_EQ(s.state(), State::AttachPending);
    StopEvent ev;
    ev.tid = tid;
    EXPECT_EQ(s.report_stop(ev), Event::None);
    std::vector<std::string> p = packets();
    ASSERT_EQ(p.size(), 1u);
    supported_reply = p[0];
  }
  void no_ack() { EXPECT_EQ(ask("QStartNoAckMode"), "OK"); }

  FakeTarget target;
  CaptureTransport tx;
  Session s;
  std::string supported_reply;
};

Input feed_decoder(Decoder& d, const std::string& bytes) {
  Input last = Input::None;
  for (unsigned char c : bytes) {
    Input in = d.feed(c);
    if (in != Input::None) last = in;
  }
  return last;
}

std::string payload_of(const Decoder& d) { return std::string(reinterpret_cast<const char*>(d.payload()), d.size()); }

}  // namespace

// --- framing -----------------------------------------------------------------------------

TEST(GdbPacket, ChecksumIsSumOfBytesAsSent) {
  EXPECT_EQ(gdbstub::checksum(reinterpret_cast<const u8*>("OK"), 2), 0x9a);
  EXPECT_EQ(encode("OK"), "$OK#9a");
  EXPECT_EQ(encode(""), "$#00");
  EXPECT_EQ(encode("qSupported", false), frame("qSupported"));
}

TEST(GdbPacket, DecoderDeliversPacketsAndAcks) {
  Decoder d;
  EXPECT_EQ(feed_decoder(d, "$qC#b4"), Input::Packet);
  EXPECT_EQ(payload_of(d), "qC");
  EXPECT_FALSE(d.in_packet());
  EXPECT_EQ(d.feed('+'), Input::Ack);
  EXPECT_EQ(d.feed('-'), Input::Nak);
  EXPECT_EQ(d.feed(0x03), Input::Interrupt);
  EXPECT_EQ(d.feed('x'), Input::None);  // noise between packets
  EXPECT_EQ(feed_decoder(d, "$#00"), Input::Packet);
  EXPECT_EQ(d.size(), 0u);
  // Upper-case checksum digits are accepted too.
  std::string f = frame("qAttached");  // checksum 8f
  f[f.size() - 1] = 'F';
  EXPECT_EQ(feed_decoder(d, f), Input::Packet);
}

TEST(GdbPacket, BadChecksums) {
  Decoder d;
  EXPECT_EQ(feed_decoder(d, "$qC#b5"), Input::BadChecksum);
  EXPECT_EQ(feed_decoder(d, "$qC#zz"), Input::BadChecksum);
  EXPECT_EQ(feed_decoder(d, "$qC#b"), Input::None);
  EXPECT_TRUE(d.in_packet());
  EXPECT_EQ(d.feed('g'), Input::BadChecksum);
  EXPECT_FALSE(d.in_packet());
}

TEST(GdbPacket, InterruptByteInsideAPacketIsData) {
  Decoder d;
  std::string p = "X0,1:";
  p.push_back(0x03);
  EXPECT_EQ(feed_decoder(d, frame(p)), Input::Packet);
  EXPECT_EQ(payload_of(d), p);
}

TEST(GdbPacket, DollarRestartsAPacket) {
  Decoder d;
  EXPECT_EQ(feed_decoder(d, "$m1234,"), Input::None);
  EXPECT_TRUE(d.in_packet());
  EXPECT_EQ(feed_decoder(d, "$g#67"), Input::Packet);
  EXPECT_EQ(payload_of(d), "g");
  // Also inside the checksum digits.
  EXPECT_EQ(feed_decoder(d, "$g#6$?#3f"), Input::Packet);
  EXPECT_EQ(payload_of(d), "?");
}

TEST(GdbPacket, ResetDropsAPartialPacket) {
  Decoder d;
  EXPECT_EQ(feed_decoder(d, "$qSupp"), Input::None);
  EXPECT_TRUE(d.in_packet());
  d.reset();
  EXPECT_FALSE(d.in_packet());
  EXPECT_EQ(feed_decoder(d, "orted#37"), Input::None);  // now noise
  EXPECT_EQ(d.feed('+'), Input::Ack);
}

TEST(GdbPacket, EscapesAreUndone) {
  Decoder d;
  std::string data = "a$b#c}d*e";
  data.push_back(static_cast<char>(0xff));
  data.push_back(0);
  EXPECT_EQ(feed_decoder(d, frame("X10," + std::to_string(data.size()) + ":" + escape(data))), Input::Packet);
  EXPECT_EQ(payload_of(d), "X10," + std::to_string(data.size()) + ":" + data);
  // A dangling escape before '#' is dropped (checksum over what was sent).
  EXPECT_EQ(feed_decoder(d, frame("ab}")), Input::Packet);
  EXPECT_EQ(payload_of(d), "ab");
}

TEST(GdbPacket, OverflowIsReportedAfterTheChecksum) {
  Decoder d;
  std::string fits(Decoder::kCapacity, 'a');
  EXPECT_EQ(feed_decoder(d, frame(fits)), Input::Packet);
  EXPECT_EQ(d.size(), Decoder::kCapacity);
  std::string longer(Decoder::kCapacity + 1, 'a');
  std::string f = frame(longer);
  // Nothing is reported before the checksum is in.
  for (size_t i = 0; i + 1 < f.size(); ++i) EXPECT_EQ(d.feed(static_cast<u8>(f[i])), Input::None);
  EXPECT_EQ(d.feed(static_cast<u8>(f.back())), Input::Overflow);
  // A wrong checksum is still a wrong checksum.
  f[f.size() - 1] = f[f.size() - 1] == '0' ? '1' : '0';
  EXPECT_EQ(feed_decoder(d, f), Input::BadChecksum);
  EXPECT_EQ(feed_decoder(d, "$g#67"), Input::Packet);  // and the next packet is fine
}

TEST(GdbPacket, RunLengthEncodingPerSpec) {
  // RSP "Overview": "0* " is four zeros; counts 6 and 7 ('#', '$') are never used.
  EXPECT_EQ(encode("000"), "$000#90");
  EXPECT_EQ(encode("0000").substr(0, 4), "$0* ");
  EXPECT_EQ(encode("00000000").substr(0, 6), "$0*\"00");  // the spec's own example
  EXPECT_EQ(encode("0000000").substr(0, 5), "$0*\"0");
  for (size_t n = 1; n < 400; ++n) {
    std::string run(n, 'x');
    std::string f = encode(run);
    std::vector<gdbwire::Item> it;
    std::string err;
    ASSERT_TRUE(gdbwire::parse(f, &it, &err)) << n << ": " << err;
    ASSERT_EQ(it.size(), 1u);
    EXPECT_EQ(it[0].payload, run) << n;
    EXPECT_LE(it[0].raw.size(), n);
    for (size_t i = 0; i + 1 < it[0].raw.size(); ++i)
      if (it[0].raw[i] == '*') {
        unsigned char c = static_cast<unsigned char>(it[0].raw[i + 1]);
        EXPECT_TRUE(c >= 32 && c <= 126 && c != '#' && c != '$') << n;
      }
  }
  // No run-length encoding when switched off.
  EXPECT_EQ(encode("0000", false), "$0000#c0");
}

TEST(GdbPacket, RunLengthEncodingKeepsEscapesWhole) {
  // Binary data with runs of escaped and plain bytes; gdb expands runs, then unescapes.
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string data;
    size_t n = rng() % 300;
    const char alphabet[] = {'0', ']', '}', '*', '#', '$', 'x', '\x7d', '\x0a', '\x03'};
    while (data.size() < n) data.append(rng() % 12, alphabet[rng() % sizeof alphabet]);
    gdbstub::Reply r;
    r.start(gdbstub::kMaxPacketSize);
    for (unsigned char c : data) r.put_binary(c);
    ASSERT_FALSE(r.overflowed());
    std::string escaped(reinterpret_cast<const char*>(r.data()), r.size());
    EXPECT_EQ(escaped, escape(data));
    std::vector<gdbwire::Item> it;
    std::string err;
    ASSERT_TRUE(gdbwire::parse(encode(escaped), &it, &err)) << err;
    ASSERT_EQ(it.size(), 1u);
    EXPECT_EQ(gdbwire::unescape(it[0].payload), data);
  }
}

TEST(GdbPacket, EncodeFrameRefusesWhatDoesNotFit) {
  u8 out[8];
  EXPECT_EQ(gdbstub::encode_frame(reinterpret_cast<const u8*>("abcd"), 4, false, out, sizeof out), 8u);
  EXPECT_EQ(gdbstub::encode_frame(reinterpret_cast<const u8*>("abcde"), 5, false, out, sizeof out), 0u);
}

// --- registers ----------------------------------------------------------------------------

TEST(GdbRegs, LayoutIsQemus) {
  EXPECT_EQ(gdbstub::kNumRegs, 66u);
  EXPECT_EQ(gdbstub::kRegFileBytes, 608u);
  EXPECT_STREQ(gdbstub::kRegDescs[static_cast<usize>(Reg::Eflags)].name, "eflags");
  EXPECT_STREQ(gdbstub::kRegDescs[static_cast<usize>(Reg::KernelGsBase)].name, "k_gs_base");
  EXPECT_STREQ(gdbstub::kRegDescs[static_cast<usize>(Reg::Mxcsr)].name, "mxcsr");
  EXPECT_EQ(gdbstub::reg_size(Reg::St7), 10u);
  EXPECT_EQ(gdbstub::reg_size(Reg::Xmm15), 16u);
  EXPECT_EQ(gdbstub::reg_size(Reg::Gs), 4u);
  Reg r;
  EXPECT_TRUE(gdbstub::reg_from_number(65, &r));
  EXPECT_EQ(r, Reg::Mxcsr);
  EXPECT_FALSE(gdbstub::reg_from_number(66, &r));
}

TEST(GdbRegs, UnavailableRegistersAreSentAsXx) {
  RegFile f;
  f.clear();
  f.set_u64(Reg::Rax, 0x1122334455667788ULL);
  f.set_u64(Reg::Eflags, 0x246);
  gdbstub::Reply out;
  out.start(gdbstub::kMaxPacketSize);
  gdbstub::put_registers(f, out);
  std::string s(reinterpret_cast<const char*>(out.data()), out.size());
  // 'g' stops after gs (164 bytes); the rest is gdb's to read with 'p'.
  ASSERT_EQ(s.size(), 2 * gdbstub::kGBytes);
  EXPECT_EQ(gdbstub::kGBytes, 164u);
  EXPECT_EQ(s.substr(0, 16), "8877665544332211");
  EXPECT_EQ(s.substr(16, 16), std::string(16, 'x'));
  EXPECT_EQ(s.substr(2 * 136, 8), "46020000");
  EXPECT_EQ(s.substr(2 * 160, 8), "xxxxxxxx");  // gs
  // Back again: the x registers stay unavailable.
  RegFile g;
  ASSERT_TRUE(gdbstub::parse_registers(out.data(), out.size(), g));
  EXPECT_TRUE(g.available(Reg::Rax));
  EXPECT_EQ(g.get_u64(Reg::Rax), 0x1122334455667788ULL);
  EXPECT_FALSE(g.available(Reg::Rbx));
  EXPECT_EQ(g.get_u64(Reg::Eflags), 0x246u);
  // A register mixing x and digits, a short packet, a bad digit: refused.
  s[0] = 'x';
  EXPECT_FALSE(gdbstub::parse_registers(reinterpret_cast<const u8*>(s.data()), s.size(), g));
  EXPECT_FALSE(gdbstub::parse_registers(out.data(), out.size() - 2, g));
  EXPECT_FALSE(gdbstub::parse_registers(out.data(), 0, g));
  std::string t(reinterpret_cast<const char*>(out.data()), out.size());
  t[5] = 'g';
  EXPECT_FALSE(gdbstub::parse_registers(reinterpret_cast<const u8*>(t.data()), t.size(), g));
  // G as long as gdb likes, ending on a register: rax alone; everything (608 bytes) with
  // mxcsr last; past the end or inside mxcsr refused.
  ASSERT_TRUE(gdbstub::parse_registers(out.data(), 16, g));
  EXPECT_TRUE(g.available(Reg::Rax));
  EXPECT_FALSE(g.available(Reg::Eflags));
  std::string all = std::string(out.data(), out.data() + out.size()) + std::string(2 * (604 - 164), 'x') + "801f0000";
  ASSERT_EQ(all.size(), 2 * gdbstub::kRegFileBytes);
  ASSERT_TRUE(gdbstub::parse_registers(reinterpret_cast<const u8*>(all.data()), all.size(), g));
  EXPECT_EQ(g.get_u64(Reg::Mxcsr), 0x1f80u);
  EXPECT_FALSE(g.available(Reg::Cr0));
  std::string longer = all + "00";
  EXPECT_FALSE(gdbstub::parse_registers(reinterpret_cast<const u8*>(longer.data()), longer.size(), g));
  EXPECT_FALSE(gdbstub::parse_registers(reinterpret_cast<const u8*>(all.data()), all.size() - 2, g));
  EXPECT_TRUE(gdbstub::parse_register(Reg::St0, reinterpret_cast<const u8*>("0000000000000080ff3f"), 20, g));
  EXPECT_EQ(g.bytes(Reg::St0)[9], 0x3f);
  EXPECT_FALSE(gdbstub::parse_register(Reg::St0, reinterpret_cast<const u8*>("0000000000000080ff3"), 19, g));
}

// --- target.xml -----------------------------------------------------------------------------

namespace {
class StrSink final : public lib::Sink {
 public:
  void write(const char* s, usize n) override { data.append(s, n); }
  std::string data;
};
std::string target_xml() {
  StrSink s;
  gdbstub::write_target_xml(s);
  return s.data;
}
}  // namespace

TEST(GdbTargetXml, DescribesEveryRegisterInOrder) {
  std::string x = target_xml();
  EXPECT_EQ(x, target_xml());  // deterministic
  EXPECT_NE(x.find("<architecture>i386:x86-64</architecture>"), std::string::npos);
  EXPECT_NE(x.find("<feature name=\"org.gnu.gdb.i386.core\">"), std::string::npos);
  EXPECT_EQ(x.find_first_of("$#}*"), std::string::npos);
  size_t pos = 0;
  for (const gdbstub::RegDesc& r : gdbstub::kRegDescs) {
    std::string want =
        std::string("<reg name=\"") + r.name + "\" bitsize=\"" + std::to_string(r.bits) + "\" type=\"" + r.type + "\"";
    size_t at = x.find(want, pos);
    ASSERT_NE(at, std::string::npos) << r.name;
    pos = at + 1;
    // Every type a register names is predefined or defined before it.
    std::string t = r.type;
    if (t.rfind("x64_", 0) == 0 || t == "vec128") {
      size_t def = x.find("id=\"" + t + "\"");
      ASSERT_NE(def, std::string::npos) << t;
      EXPECT_LT(def, at) << t;
    }
  }
  EXPECT_NE(x.find("<field name=\"IOPL\" start=\"12\" end=\"13\"/>"), std::string::npos);
  EXPECT_NE(x.find("<field name=\"PDBR\" start=\"12\" end=\"63\"/>"), std::string::npos);
}

// --- the session: connection, acks --------------------------------------------------------

TEST(GdbSession, QSupportedRepliesExactly) {
  Harness h;
  h.attach();
  EXPECT_EQ(h.supported_reply,
            "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+");
  Config small;
  small.packet_size = 1500;
  Harness h2(4, small);
  h2.attach();
  EXPECT_EQ(h2.supported_reply.substr(0, 15), "PacketSize=5dc;");
  Config tiny;
  tiny.packet_size = 10;  // clamped: a 'g' reply must fit
  Harness h3(4, tiny);
  EXPECT_EQ(h3.s.packet_size(), gdbstub::kMinPacketSize);
}

TEST(GdbSession, AttachWaitsForTheStopThenAnswers) {
  Harness h;
  EXPECT_EQ(h.s.state(), State::Running);
  EXPECT_EQ(h.send("qSupported:swbreak+"), Event::Attach);
  // Acked at once (gdb's ack timer runs), answered once the machine is stopped.
  EXPECT_EQ(h.tx.bytes, "+");
  EXPECT_EQ(h.s.feed('$'), Event::Attach);  // fed too early: dropped
  h.tx.take();
  StopEvent ev;
  ev.tid = 3;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  EXPECT_EQ(h.s.state(), State::Stopped);
  std::vector<std::string> p = h.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].substr(0, 11), "PacketSize=");
  EXPECT_EQ(h.ask("?"), "T05thread:3;");
  EXPECT_EQ(h.ask("qC"), "QC3");
}

TEST(GdbSession, InterruptWhileRunningAttaches) {
  Harness h;
  EXPECT_EQ(h.s.feed(0x03), Event::Attach);
  StopEvent ev;
  ev.signal = gdbstub::kSigInt;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  EXPECT_EQ(h.tx.bytes, "");  // nobody asked yet
  EXPECT_EQ(h.ask("?"), "T02thread:1;");
  // Stopped: another 0x03 has nothing to stop.
  EXPECT_EQ(h.s.feed(0x03), Event::None);
}

TEST(GdbSession, StopBeforeAttachIsRememberedForQuestionMark) {
  Harness h;
  StopEvent ev;
  ev.tid = 2;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);  // debug.gdb.wait: stopped before gdb came
  EXPECT_EQ(h.tx.bytes, "");
  EXPECT_EQ(h.ask("qSupported"), h.ask("qSupported"));
  EXPECT_EQ(h.ask("?"), "T05thread:2;");
}

TEST(GdbSession, NoThreadsAtAll) {
  // A Target that lists no thread (not the kernel's case): nothing breaks.
  Harness h;
  h.target.set_threads(0);
  h.attach();
  EXPECT_EQ(h.ask("qfThreadInfo"), "l");
  EXPECT_EQ(h.ask("g"), std::string(2 * gdbstub::kGBytes, 'x'));
  EXPECT_EQ(h.ask("qC"), "QC1");
  EXPECT_EQ(h.ask("Hg1"), "E22");
  EXPECT_EQ(h.ask("vCont;s:1"), "E22");
}

TEST(GdbSession, StopWhileStoppedIsIgnored) {
  Harness h;
  h.attach();
  EXPECT_EQ(h.ask("Hg3"), "OK");
  StopEvent ev;
  ev.tid = 2;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  EXPECT_EQ(h.tx.take(), "");
  EXPECT_EQ(h.ask("?"), "T05thread:1;");
  h.ask("g");
  EXPECT_EQ(h.target.last_reg_tid, 3u);  // gdb's selection stands
}

TEST(GdbSession, PacketNamesMatchWhole) {
  Harness h;
  h.attach();
  h.no_ack();
  // Not qSupported: no reset to ack mode, the empty reply.
  EXPECT_EQ(h.ask("qSupportedX"), "");
  EXPECT_TRUE(h.s.no_ack());
  EXPECT_EQ(h.ask("qCX"), "");
  EXPECT_EQ(h.ask("qfThreadInfoX"), "");
  EXPECT_EQ(h.ask("QStartNoAckModeX"), "");
  EXPECT_EQ(h.ask("qSupported").substr(0, 11), "PacketSize=");
  EXPECT_FALSE(h.s.no_ack());
}

TEST(GdbSession, BadChecksumIsNakedAndGdbsNakResends) {
  Harness h;
  h.attach();
  std::string f = frame("qC");
  f.back() = f.back() == '0' ? '1' : '0';
  EXPECT_EQ(h.feed(f), Event::None);
  EXPECT_EQ(h.tx.take(), "-");
  EXPECT_EQ(h.ask("qC"), "QC1");
  // gdb did not like our reply: the same bytes again.
  h.send("qAttached");
  std::string first = h.tx.take();
  EXPECT_EQ(first.substr(0, 1), "+");
  EXPECT_EQ(h.feed("-"), Event::None);
  EXPECT_EQ(h.tx.take(), first.substr(1));
  EXPECT_EQ(h.feed("-"), Event::None);
  EXPECT_EQ(h.tx.take(), first.substr(1));
  EXPECT_EQ(h.feed("+"), Event::None);
  EXPECT_EQ(h.tx.take(), "");
}

TEST(GdbSession, NoAckMode) {
  Harness h;
  h.attach();
  h.send("QStartNoAckMode");
  EXPECT_EQ(h.tx.take(), "+" + frame("OK"));  // the OK itself is still acked by gdb
  EXPECT_TRUE(h.s.no_ack());
  h.feed("+");  // gdb's ack of that OK
  h.send("qC");
  EXPECT_EQ(h.tx.take(), frame("QC1"));  // no '+'
  std::string bad = frame("qC");
  bad.back() = bad.back() == '0' ? '1' : '0';
  h.feed(bad);
  EXPECT_EQ(h.tx.take(), "");  // no '-'
  h.feed("-");
  EXPECT_EQ(h.tx.take(), "");  // no resend
  // A new gdb on the same line starts with qSupported, in ack mode.
  h.send("qSupported:swbreak+");
  std::string s = h.tx.take();
  EXPECT_EQ(s.substr(0, 2), "+$");
  EXPECT_FALSE(h.s.no_ack());
}

TEST(GdbSession, OverflowIsAckedAndAnsweredWithAnError) {
  Harness h;
  h.attach();
  h.feed(frame("M0," + std::string(Decoder::kCapacity + 10, '0')));
  EXPECT_EQ(h.tx.take(), "+" + frame("E22"));  // not '-': gdb would resend it forever
  // While running, it wakes the stub like any packet and is answered after the stop.
  Harness r;
  EXPECT_EQ(r.feed(frame(std::string(Decoder::kCapacity + 1, 'q'))), Event::Attach);
  EXPECT_EQ(r.s.report_stop(StopEvent{}), Event::None);
  EXPECT_EQ(r.tx.take(), "+" + frame("E22"));
}

TEST(GdbSession, DropPartialPacket) {
  Harness h;
  h.attach();
  h.no_ack();
  EXPECT_FALSE(h.s.in_packet());
  h.feed("$m0,");
  EXPECT_TRUE(h.s.in_packet());
  h.s.drop_partial_packet();
  EXPECT_FALSE(h.s.in_packet());
  EXPECT_TRUE(h.s.no_ack());  // the connection itself stays as it was
  h.feed("1#00");             // the rest of the old packet: noise now
  EXPECT_EQ(h.tx.take(), "");
  EXPECT_EQ(h.ask("qC"), "QC1");
}

TEST(GdbSession, ResetConnection) {
  Harness h;
  h.attach();
  h.no_ack();
  h.feed("$qC");  // the line drops mid-packet
  h.s.reset_connection();
  EXPECT_FALSE(h.s.no_ack());
  EXPECT_EQ(h.ask("qC"), "QC1");
}

// --- threads -------------------------------------------------------------------------------

TEST(GdbSession, SelectThreadsAndAskAboutThem) {
  Harness h(4);
  h.attach();
  EXPECT_EQ(h.ask("Hg2"), "OK");
  EXPECT_EQ(h.ask("g").size(), 2 * gdbstub::kGBytes);
  EXPECT_EQ(h.target.last_reg_tid, 2u);
  EXPECT_EQ(h.ask("m" + hexnum(gdbfake::kDataBase) + ",1"), "00");
  EXPECT_EQ(h.target.last_mem_tid, 2u);
  EXPECT_EQ(h.ask("Hg0"), "OK");  // any: the stopped thread
  h.ask("g");
  EXPECT_EQ(h.target.last_reg_tid, 1u);
  EXPECT_EQ(h.ask("Hg-1"), "OK");
  EXPECT_EQ(h.ask("Hg5"), "E22");
  EXPECT_EQ(h.ask("Hc-1"), "OK");
  EXPECT_EQ(h.ask("Hc4"), "OK");
  EXPECT_EQ(h.ask("Hx1"), "E22");
  EXPECT_EQ(h.ask("Hgp1.1"), "E22");  // multiprocess ids: not offered
  EXPECT_EQ(h.ask("Hg"), "E22");
  EXPECT_EQ(h.ask("T1"), "OK");
  EXPECT_EQ(h.ask("T4"), "OK");
  EXPECT_EQ(h.ask("T5"), "E01");
  EXPECT_EQ(h.ask("Tzz"), "E22");
  EXPECT_EQ(h.ask("qC"), "QC1");
  EXPECT_EQ(h.ask("qAttached"), "1");
  EXPECT_EQ(h.ask("qAttached:1"), "1");
  EXPECT_EQ(unhex(h.ask("qThreadExtraInfo,3")), "cpu 2 apic 4 online");
  EXPECT_EQ(h.ask("qThreadExtraInfo,9"), "E01");
  EXPECT_EQ(h.ask("qThreadExtraInfo,"), "E22");
  h.target.long_extra_info = true;
  EXPECT_EQ(unhex(h.ask("qThreadExtraInfo,1")).size(), gdbstub::kMaxExtraInfo);
}

namespace {
// All thread ids through qfThreadInfo/qsThreadInfo, checking each page.
std::vector<u32> list_threads(Harness& h, size_t* pages) {
  std::vector<u32> tids;
  std::string r = h.ask("qfThreadInfo");
  *pages = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    EXPECT_LE(r.size(), h.s.packet_size());
    if (r == "l") break;
    EXPECT_EQ(r[0], 'm');
    ++*pages;
    size_t i = 1;
    while (i < r.size()) {
      size_t comma = r.find(',', i);
      if (comma == std::string::npos) comma = r.size();
      tids.push_back(static_cast<u32>(std::stoul(r.substr(i, comma - i), nullptr, 16)));
      i = comma + 1;
    }
    r = h.ask("qsThreadInfo");
  }
  return tids;
}
}  // namespace

TEST(GdbSession, ThreadListsArePaged) {
  struct Case {
    u32 threads;
    u32 first;
    u32 stride;
    usize packet;
    size_t min_pages;
  };
  const Case cases[] = {
      {1, 1, 1, gdbstub::kMaxPacketSize, 1},
      {4, 1, 1, gdbstub::kMaxPacketSize, 1},
      {255, 1, 1, gdbstub::kMaxPacketSize, 1},
      {512, 1, 1, gdbstub::kMaxPacketSize, 1},
      {512, 1, 1, gdbstub::kMinPacketSize, 2},
      {4096, 1, 1, gdbstub::kMaxPacketSize, 4},
      {600, 0x10000, 0x1001, gdbstub::kMinPacketSize, 4},
  };
  for (const Case& c : cases) {
    Config cfg;
    cfg.packet_size = c.packet;
    Harness h(1, cfg);
    h.target.set_threads(c.threads, c.first, c.stride);
    h.attach("", c.first);
    size_t pages = 0;
    std::vector<u32> got = list_threads(h, &pages);
    ASSERT_EQ(got.size(), c.threads) << c.threads;
    for (u32 i = 0; i < c.threads; ++i) EXPECT_EQ(got[i], c.first + i * c.stride);
    EXPECT_GE(pages, c.min_pages) << c.threads;
    // Asked again, the list starts over.
    EXPECT_EQ(list_threads(h, &pages).size(), c.threads);
    EXPECT_EQ(h.ask("qsThreadInfo"), "l");
  }
}

// --- target.xml through qXfer ------------------------------------------------------------

TEST(GdbSession, TargetXmlInChunks) {
  const std::string whole = target_xml();
  for (u64 chunk : {1ULL, 7ULL, 100ULL, 1000ULL, 0xffbULL, 0x100000ULL}) {
    Harness h;
    h.attach();
    std::string got;
    for (int guard = 0; guard < 10000; ++guard) {
      std::string r = h.ask("qXfer:features:read:target.xml:" + hexnum(got.size()) + "," + hexnum(chunk));
      ASSERT_FALSE(r.empty());
      ASSERT_TRUE(r[0] == 'm' || r[0] == 'l') << r;
      std::string data = gdbwire::unescape(r.substr(1));
      EXPECT_LE(data.size(), chunk);
      got += data;
      if (r[0] == 'l') break;
      ASSERT_FALSE(data.empty());
    }
    EXPECT_EQ(got, whole) << chunk;
  }
  Harness h;
  h.attach();
  EXPECT_EQ(h.ask("qXfer:features:read:target.xml:" + hexnum(whole.size()) + ",100"), "l");
  EXPECT_EQ(h.ask("qXfer:features:read:target.xml:ffffffffffffffff,ffffffffffffffff"), "l");
  EXPECT_EQ(h.ask("qXfer:features:read:other.xml:0,100"), "E00");
  EXPECT_EQ(h.ask("qXfer:features:read:target.xml:0"), "E00");
  EXPECT_EQ(h.ask("qXfer:threads:read::0,100"), "");  // not offered (see supported())
}

// --- registers through g/G/p/P -------------------------------------------------------------

TEST(GdbSession, ReadRegisters) {
  Harness h;
  h.attach();
  EXPECT_EQ(h.ask("Hg3"), "OK");
  std::string g = h.ask("g");
  ASSERT_EQ(g.size(), 2 * gdbstub::kGBytes);
  RegFile want = FakeTarget::initial_regs(3);
  gdbstub::Reply r;
  r.start(gdbstub::kMaxPacketSize);
  gdbstub::put_registers(want, r);
  EXPECT_EQ(g, std::string(reinterpret_cast<const char*>(r.data()), r.size()));
  EXPECT_EQ(h.ask("p10"), "00032080ffffffff");  // rip = 0xffffffff80200300
  EXPECT_EQ(h.ask("p11"), "46020000");
  EXPECT_EQ(h.ask("p21"), "0000000000000080ff3f");  // st0
  EXPECT_EQ(h.ask("p1a"), std::string(16, 'x'));    // k_gs_base
  EXPECT_EQ(h.ask("p41"), "xxxxxxxx");              // mxcsr
  EXPECT_EQ(h.ask("p42"), "E22");
  EXPECT_EQ(h.ask("p"), "E22");
  EXPECT_EQ(h.ask("gx"), "E22");
}

TEST(GdbSession, WriteRegisters) {
  Harness h;
  h.attach();
  EXPECT_EQ(h.ask("Hg2"), "OK");
  EXPECT_EQ(h.ask("P0=efbeadde00000000"), "OK");
  EXPECT_EQ(h.target.regs[2].get_u64(Reg::Rax), 0xdeadbeefULL);
  EXPECT_EQ(h.ask("p0"), "efbeadde00000000");
  unsigned writes = h.target.register_writes;
  // Rewriting a read-only register with its own value is not a write.
  EXPECT_EQ(h.ask("P12=08000000"), "OK");
  EXPECT_EQ(h.target.register_writes, writes);
  EXPECT_EQ(h.ask("P12=10000000"), "E22");  // the fake refuses cs
  EXPECT_EQ(h.ask("P0=1234"), "E22");       // wrong size
  EXPECT_EQ(h.ask("P0=xxxxxxxxxxxxxxxx"), "E22");
  EXPECT_EQ(h.ask("P99=00"), "E22");
  // G: everything back with one register changed writes just that one.
  std::string g = h.ask("g");
  std::string rbx = "0100000000000000";
  g.replace(2 * gdbstub::reg_offset(Reg::Rbx), 16, rbx);
  writes = h.target.register_writes;
  EXPECT_EQ(h.ask("G" + g), "OK");
  EXPECT_EQ(h.target.register_writes, writes + 1);
  EXPECT_EQ(h.target.regs[2].get_u64(Reg::Rbx), 1u);
  EXPECT_EQ(h.ask("G" + g), "OK");
  EXPECT_EQ(h.target.register_writes, writes + 1);  // nothing changed: nothing written
  g.replace(2 * gdbstub::reg_offset(Reg::Ss), 8, "18000000");
  EXPECT_EQ(h.ask("G" + g), "E22");
  EXPECT_EQ(h.ask("G" + g.substr(2)), "E22");
  EXPECT_EQ(h.ask("G"), "E22");
}

// --- memory ---------------------------------------------------------------------------------

TEST(GdbSession, ReadMemory) {
  Harness h;
  h.attach();
  std::string data = hexnum(gdbfake::kDataBase);
  EXPECT_EQ(h.ask("m" + data + ",10"), "000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(h.ask("m" + hexnum(gdbfake::kDataBase + 0x41) + ",2"), "4142");
  // The end of a region: the readable prefix.
  EXPECT_EQ(h.ask("m" + hexnum(gdbfake::kDataBase + gdbfake::kDataSize - 2) + ",8"), "feff");
  EXPECT_EQ(h.ask("m0,8"), "E14");
  EXPECT_EQ(h.ask("mffffffffffffffff,2"), "E14");
  // At most PacketSize / 2 bytes per reply.
  EXPECT_EQ(h.ask("m" + data + ",100000").size(), gdbstub::kMaxPacketSize);
  EXPECT_EQ(h.ask("m" + data + ",0"), "E22");
  EXPECT_EQ(h.ask("m" + data), "E22");
  EXPECT_EQ(h.ask("m" + data + ",1,"), "E22");
  EXPECT_EQ(h.ask("m10000000000000000,1"), "E22");  // wider than 64 bits
}

TEST(GdbSession, WriteMemoryHexAndBinary) {
  Harness h;
  h.attach();
  std::string a = hexnum(gdbfake::kDataBase + 0x100);
  EXPECT_EQ(h.ask("M" + a + ",4:deadbeef"), "OK");
  EXPECT_EQ(h.ask("m" + a + ",4"), "deadbeef");
  EXPECT_EQ(h.ask("M" + a + ",4:deadbe"), "E22");
  EXPECT_EQ(h.ask("M" + a + ",2:zz00"), "E22");
  EXPECT_EQ(h.ask("M" + a + ",0:"), "OK");
  EXPECT_EQ(h.ask("M" + hexnum(gdbfake::kRoBase) + ",1:00"), "E14");
  EXPECT_EQ(h.ask("M" + hexnum(gdbfake::kDataBase + gdbfake::kDataSize - 1) + ",2:0000"), "E14");
  // X: binary, escaped by gdb.
  EXPECT_EQ(h.ask("X" + a + ",0:"), "OK");  // gdb's probe for X
  std::string bin = "}#$*";
  bin.push_back(0);
  bin.push_back(static_cast<char>(0xff));
  bin.push_back(0x03);
  EXPECT_EQ(h.ask("X" + a + "," + hexnum(bin.size()) + ":" + escape(bin)), "OK");
  EXPECT_EQ(unhex(h.ask("m" + a + "," + hexnum(bin.size()))), bin);
  EXPECT_EQ(h.ask("X" + a + ",3:ab"), "E22");
  EXPECT_EQ(h.ask("X" + hexnum(gdbfake::kRoBase) + ",1:a"), "E14");
  EXPECT_EQ(h.ask("X" + a + ",1"), "E22");
}

// --- breakpoints ------------------------------------------------------------------------------

TEST(GdbSession, BreakpointsAndWatchpoints) {
  Harness h;
  h.attach();
  std::string t = hexnum(gdbfake::kTextBase + 0x10);
  std::string d = hexnum(gdbfake::kDataBase);
  EXPECT_EQ(h.ask("Z0," + t + ",1"), "OK");
  EXPECT_EQ(h.ask("Z1," + t + ",1"), "OK");
  EXPECT_EQ(h.ask("Z2," + d + ",8"), "OK");
  EXPECT_EQ(h.ask("Z4," + d + ",4"), "OK");
  ASSERT_EQ(h.target.bps.size(), 4u);
  EXPECT_EQ(h.target.bps[2].kind, BreakpointKind::WriteWatch);
  EXPECT_EQ(h.target.bps[2].length, 8u);
  // x86 has no read-only watchpoint: the Target says so.
  EXPECT_EQ(h.ask("Z3," + d + ",4"), "");
  h.target.read_watch_status = Status::Invalid;
  EXPECT_EQ(h.ask("Z3," + d + ",4"), "E22");
  EXPECT_EQ(h.ask("Z2," + d + ",3"), "E22");  // the fake: lengths 1, 2, 4, 8
  EXPECT_EQ(h.ask("Z1," + hexnum(gdbfake::kTextBase) + ",1"), "OK");
  EXPECT_EQ(h.ask("Z1," + hexnum(gdbfake::kTextBase + 1) + ",1"), "E28");  // DR0-DR3 used up
  EXPECT_EQ(h.ask("Z0,0,1"), "E14");
  EXPECT_EQ(h.ask("Z0," + t + ",1;X1,0f"), "OK");  // conditions ignored
  EXPECT_EQ(h.ask("Z5," + t + ",1"), "E22");
  EXPECT_EQ(h.ask("Z0," + t), "E22");
  EXPECT_EQ(h.ask("Z0," + t + ",1x"), "E22");
  EXPECT_EQ(h.ask("z0," + t + ",1"), "OK");
  EXPECT_EQ(h.ask("z1," + t + ",1"), "OK");
  EXPECT_EQ(h.ask("z2," + d + ",8"), "OK");
  EXPECT_EQ(h.ask("z4," + d + ",4"), "OK");
  EXPECT_EQ(h.target.bps.size(), 1u);
}

// --- running ---------------------------------------------------------------------------------

TEST(GdbSession, LegacyResume) {
  Harness h;
  h.attach();
  EXPECT_EQ(h.send("c"), Event::Resume);
  EXPECT_EQ(h.s.state(), State::Resumed);
  EXPECT_EQ(h.tx.take(), "+");  // no reply until the stop
  const gdbstub::Resume& r = h.s.resume();
  EXPECT_EQ(r.action_for(1).mode, RunMode::Continue);
  EXPECT_EQ(r.action_for(4).mode, RunMode::Continue);
  EXPECT_FALSE(r.has_addr);
  StopEvent ev;
  ev.tid = 2;
  ev.reason = StopReason::SwBreak;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  EXPECT_EQ(h.packets(), std::vector<std::string>{"T05thread:2;swbreak:;"});
  // The stopped thread is the current one now.
  EXPECT_EQ(h.ask("qC"), "QC2");
  h.ask("g");
  EXPECT_EQ(h.target.last_reg_tid, 2u);

  EXPECT_EQ(h.send("s"), Event::Resume);
  EXPECT_EQ(h.s.resume().action_for(2).mode, RunMode::Step);
  EXPECT_EQ(h.s.resume().action_for(1).mode, RunMode::Stay);
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  h.tx.take();
  EXPECT_EQ(h.ask("Hc3"), "OK");
  EXPECT_EQ(h.send("s" + hexnum(gdbfake::kTextBase)), Event::Resume);
  EXPECT_EQ(h.s.resume().action_for(3).mode, RunMode::Step);
  EXPECT_TRUE(h.s.resume().has_addr);
  EXPECT_EQ(h.s.resume().addr, gdbfake::kTextBase);
  EXPECT_EQ(h.s.resume().addr_tid, 3u);
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  h.tx.take();
  EXPECT_EQ(h.send("C0f"), Event::Resume);
  EXPECT_EQ(h.s.resume().action_for(1).signal, 0x0f);
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  h.tx.take();
  EXPECT_EQ(h.send("S05;1000"), Event::Resume);
  EXPECT_EQ(h.s.resume().action_for(3).mode, RunMode::Step);
  EXPECT_EQ(h.s.resume().addr, 0x1000u);
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  h.tx.take();
  EXPECT_EQ(h.ask("Cxx"), "E22");
  EXPECT_EQ(h.ask("c12,"), "E22");
  EXPECT_EQ(h.ask("S05,1000"), "E22");
}

TEST(GdbSession, VCont) {
  Harness h;
  h.attach();
  EXPECT_EQ(h.ask("vCont?"), "vCont;c;C;s;S");
  EXPECT_EQ(h.send("vCont;s:2;c"), Event::Resume);
  const gdbstub::Resume& r = h.s.resume();
  EXPECT_EQ(r.count, 2u);
  EXPECT_EQ(r.action_for(2).mode, RunMode::Step);
  EXPECT_EQ(r.action_for(1).mode, RunMode::Continue);
  EXPECT_EQ(r.action_for(3).mode, RunMode::Continue);
  StopEvent ev;
  ev.tid = 2;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  EXPECT_EQ(h.packets(), std::vector<std::string>{"T05thread:2;"});
  // scheduler-locking: only thread 3 runs.
  EXPECT_EQ(h.send("vCont;s:3"), Event::Resume);
  EXPECT_EQ(h.s.resume().action_for(3).mode, RunMode::Step);
  EXPECT_EQ(h.s.resume().action_for(1).mode, RunMode::Stay);
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  h.tx.take();
  EXPECT_EQ(h.send("vCont;c"), Event::Resume);
  EXPECT_EQ(h.s.resume().action_for(4).mode, RunMode::Continue);
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  h.tx.take();
  // The leftmost match wins; signals and -1.
  EXPECT_EQ(h.send("vCont;C0b:1;S05:1;c:-1"), Event::Resume);
  EXPECT_EQ(h.s.resume().action_for(1).mode, RunMode::Continue);
  EXPECT_EQ(h.s.resume().action_for(1).signal, 0x0b);
  EXPECT_EQ(h.s.resume().action_for(2).mode, RunMode::Continue);
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  h.tx.take();
  EXPECT_EQ(h.ask("vCont;t"), "E22");
  EXPECT_EQ(h.ask("vCont;r1000,2000"), "E22");
  EXPECT_EQ(h.ask("vCont;c:9"), "E22");  // no such thread
  EXPECT_EQ(h.ask("vCont;c:0"), "E22");
  EXPECT_EQ(h.ask("vCont;"), "E22");
  EXPECT_EQ(h.ask("vCont"), "E22");
  EXPECT_EQ(h.ask("vCont;s:1;;c"), "E22");
  EXPECT_EQ(h.ask("vCont!"), "E22");
  std::string many = "vCont";
  for (size_t i = 0; i <= gdbstub::kMaxResumeActions; ++i) many += ";s:1";
  EXPECT_EQ(h.ask(many), "E22");
  EXPECT_EQ(h.s.state(), State::Stopped);
}

TEST(GdbSession, InterruptWhileResumed) {
  Harness h;
  h.attach();
  h.no_ack();
  EXPECT_EQ(h.send("vCont;c"), Event::Resume);
  EXPECT_EQ(h.s.feed('+'), Event::None);
  EXPECT_EQ(h.s.feed(0x03), Event::Interrupt);
  StopEvent ev;
  ev.tid = 1;
  ev.signal = gdbstub::kSigInt;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  EXPECT_EQ(h.tx.take(), frame("T02thread:1;"));
  EXPECT_EQ(h.ask("?"), "T02thread:1;");
}

TEST(GdbSession, NotifyOnlyWhileGdbWaitsForAStop) {
  Harness h;
  h.attach();
  h.no_ack();
  h.tx.take();
  EXPECT_FALSE(h.s.notify("stopped: no\n"));  // gdb would take it for the reply to its next packet
  EXPECT_TRUE(h.tx.take().empty());
  EXPECT_EQ(h.send("vCont;c"), Event::Resume);
  h.tx.take();
  EXPECT_TRUE(h.s.notify("the machine panicked\n"));
  std::vector<std::string> p = h.packets();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "O" + hex("the machine panicked\n"));
  EXPECT_EQ(h.s.state(), gdbstub::State::Resumed);  // still waiting for the stop reply
}

TEST(GdbSession, PacketWhileResumedIsANewGdb) {
  Harness h;
  h.attach();
  EXPECT_EQ(h.send("c"), Event::Resume);
  h.tx.take();
  EXPECT_EQ(h.send("qSupported:swbreak+"), Event::Attach);
  EXPECT_EQ(h.s.report_stop(StopEvent{}), Event::None);
  std::vector<std::string> p = h.packets();
  ASSERT_EQ(p.size(), 1u);  // the qSupported reply, no stray stop reply
  EXPECT_EQ(p[0].substr(0, 11), "PacketSize=");
}

TEST(GdbSession, StopReasons) {
  struct Case {
    StopReason reason;
    u64 addr;
    const char* with;     // gdb announced swbreak+ and hwbreak+
    const char* without;  // it did not
  };
  const Case cases[] = {
      {StopReason::None, 0, "T05thread:3;", "T05thread:3;"},
      {StopReason::SwBreak, 0, "T05thread:3;swbreak:;", "T05thread:3;"},
      {StopReason::HwBreak, 0, "T05thread:3;hwbreak:;", "T05thread:3;"},
      {StopReason::Watch, 0xffffffff80300010ULL, "T05thread:3;watch:ffffffff80300010;",
       "T05thread:3;watch:ffffffff80300010;"},
      {StopReason::ReadWatch, 0x10, "T05thread:3;rwatch:10;", "T05thread:3;rwatch:10;"},
      {StopReason::AccessWatch, 0, "T05thread:3;awatch:0;", "T05thread:3;awatch:0;"},
  };
  for (int announce = 0; announce < 2; ++announce) {
    for (const Case& c : cases) {
      Harness h;
      h.attach(announce ? "swbreak+;hwbreak+" : "multiprocess+");
      EXPECT_EQ(h.send("c"), Event::Resume);
      h.tx.take();
      StopEvent ev;
      ev.tid = 3;
      ev.reason = c.reason;
      ev.watch_addr = c.addr;
      EXPECT_EQ(h.s.report_stop(ev), Event::None);
      EXPECT_EQ(h.packets(), std::vector<std::string>{announce ? c.with : c.without});
      EXPECT_EQ(h.ask("?"), announce ? c.with : c.without);
    }
  }
  // Signals and thread ids in hex.
  Harness h(600);
  h.attach();
  h.send("c");
  h.tx.take();
  StopEvent ev;
  ev.tid = 0x200;
  ev.signal = 11;
  EXPECT_EQ(h.s.report_stop(ev), Event::None);
  EXPECT_EQ(h.packets(), std::vector<std::string>{"T0bthread:200;"});
}

TEST(GdbSession, DetachAndKill) {
  Harness h;
  h.attach();
  h.no_ack();
  EXPECT_EQ(h.send("D"), Event::Detach);
  EXPECT_EQ(h.tx.take(), frame("OK"));  // in the mode gdb was in
  EXPECT_EQ(h.s.state(), State::Running);
  EXPECT_FALSE(h.s.no_ack());
  // A second gdb attaches.
  h.attach();
  EXPECT_EQ(h.ask("qC"), "QC1");
  EXPECT_EQ(h.send("D;1"), Event::Detach);
  EXPECT_EQ(h.packets(), std::vector<std::string>{"OK"});
  h.attach();
  EXPECT_EQ(h.send("k"), Event::Kill);
  EXPECT_EQ(h.tx.take(), "+");  // no reply to k
  EXPECT_EQ(h.s.state(), State::Running);
}

// --- monitor ------------------------------------------------------------------------------------

namespace {
// Sends `monitor <cmd>`; returns the output of the O packets and the final reply.
std::pair<std::string, std::string> monitor(Harness& h, const std::string& cmd, size_t* o_packets = nullptr) {
  EXPECT_EQ(h.send("qRcmd," + hex(cmd)), Event::None);
  std::string out;
  std::string last;
  size_t n = 0;
  for (const std::string& p : h.packets()) {
    if (!last.empty()) ADD_FAILURE() << "packet after the final reply: " << p;
    if (p.size() > 1 && p[0] == 'O' && p != "OK") {
      out += unhex(p.substr(1));
      ++n;
    } else {
      last = p;
    }
  }
  if (o_packets != nullptr) *o_packets = n;
  return {out, last};
}
}  // namespace

TEST(GdbSession, MonitorOutputIsStreamed) {
  Harness h;
  h.attach();
  size_t n = 0;
  auto r = monitor(h, "help", &n);
  EXPECT_EQ(r.second, "OK");
  EXPECT_EQ(h.target.last_command, "help");
  EXPECT_EQ(r.first.substr(0, 20), "help   this list\ncpu");
  EXPECT_EQ(n, 5u);  // a packet per line
  r = monitor(h, "cpus");
  EXPECT_EQ(r.first, "index apic state\n0 0 online\n1 2 online\n2 4 online\n3 6 online\n");
  r = monitor(h, "echo hello, world");
  EXPECT_EQ(r.first, "hello, world\n");
  r = monitor(h, "lines 1000", &n);
  EXPECT_EQ(n, 1000u);
  EXPECT_EQ(r.first.substr(r.first.size() - 18), "line 1000 of 1000\n");
  // Output without newlines is split by the packet size.
  r = monitor(h, "raw 5000", &n);
  EXPECT_EQ(r.first.size(), 5000u);
  EXPECT_EQ(n, 3u);  // (4096 - 1) / 2 = 2047 characters a packet
  r = monitor(h, "fail");
  EXPECT_EQ(r.first, "error: this command fails\n");
  EXPECT_EQ(r.second, "E22");
  r = monitor(h, "");
  EXPECT_EQ(r.second, "OK");
  EXPECT_EQ(h.ask("qRcmd,6"), "E22");
  EXPECT_EQ(h.ask("qRcmd,zz"), "E22");
}

TEST(GdbSession, MonitorWithSmallPackets) {
  Config cfg;
  cfg.packet_size = gdbstub::kMinPacketSize;
  Harness h(4, cfg);
  h.attach();
  size_t n = 0;
  auto r = monitor(h, "raw 3000", &n);
  EXPECT_EQ(r.first.size(), 3000u);
  EXPECT_EQ(n, 5u);  // (1280 - 1) / 2 = 639 characters a packet
}

// --- everything else -----------------------------------------------------------------------------

TEST(GdbSession, UnknownPacketsGetTheEmptyReply) {
  Harness h;
  h.attach();
  for (const char* p :
       {"qTStatus", "vMustReplyEmpty", "qSymbol::", "qOffsets", "vKill;1", "vFile:setfs:0", "qTfV", "!", "R00", "i",
        "bc", "qL1200000000000000000", "QNonStop:0", "QThreadEvents:1", "qGetTIBAddr:1", "x", "", "?x", "Q"})
    EXPECT_EQ(h.ask(p), "") << p;
  EXPECT_EQ(h.s.state(), State::Stopped);
}

TEST(GdbSession, RunLengthEncodingCanBeSwitchedOff) {
  Config cfg;
  cfg.rle = false;
  Harness h(4, cfg);
  h.attach();
  h.send("p1a");
  EXPECT_EQ(h.tx.take(), "+" + frame(std::string(16, 'x')));
  Harness on;
  on.attach();
  on.send("p1a");
  EXPECT_EQ(on.tx.take(), "+" + encode(std::string(16, 'x')));
  EXPECT_EQ(encode(std::string(16, 'x')).substr(0, 4), "$x*,");
}

// A whole gdb-like conversation (what gdb 13 sends at `target remote`), checked byte for
// byte at the wire level by the reference reader.
TEST(GdbSession, TypicalAttachConversation) {
  Harness h(4);
  h.attach(
      "multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;"
      "vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386");
  h.no_ack();
  EXPECT_EQ(h.ask("vMustReplyEmpty"), "");
  EXPECT_EQ(h.ask("Hg0"), "OK");
  std::string r = h.ask("qXfer:features:read:target.xml:0,ffb");
  EXPECT_EQ(r[0], 'm');
  EXPECT_EQ(h.ask("qTStatus"), "");
  EXPECT_EQ(h.ask("?"), "T05thread:1;");
  EXPECT_EQ(h.ask("qfThreadInfo"), "m1,2,3,4");
  EXPECT_EQ(h.ask("qsThreadInfo"), "l");
  EXPECT_EQ(h.ask("qAttached"), "1");
  EXPECT_EQ(h.ask("Hc-1"), "OK");
  EXPECT_EQ(h.ask("qOffsets"), "");
  EXPECT_EQ(h.ask("g").size(), 2 * gdbstub::kGBytes);
}
