#include "gdbstub/session.hpp"

#include "gdbstub/target_xml.hpp"
#include "lib/string.hpp"

namespace gdbstub {

namespace {

// Error replies (RSP "Standard Replies": E NN). gdb shows none of the numbers; these are
// errno values written as QEMU's stub writes them.
constexpr const char* kErrFault = "E14";     // EFAULT: memory that cannot be accessed
constexpr const char* kErrInvalid = "E22";   // EINVAL: malformed packet, bad argument
constexpr const char* kErrNoSpace = "E28";   // ENOSPC: no debug register left
constexpr const char* kErrNoThread = "E01";  // T/qThreadExtraInfo for a thread that is not there
// qXfer for an annex we do not have (RSP "General Query Packets", qXfer read: E00).
constexpr const char* kErrAnnex = "E00";

usize clamp_packet_size(usize n) {
  if (n < kMinPacketSize) return kMinPacketSize;
  if (n > kMaxPacketSize) return kMaxPacketSize;
  return n;
}

// The packet is `name` alone or `name:...` (RSP "General Query Packets": stubs must match
// the full name and check for a separator, as names share prefixes).
bool is_packet(const u8* p, usize n, const char* name) {
  usize k = lib::strlen(name);
  return n >= k && memcmp(p, name, k) == 0 && (n == k || p[k] == ':');
}

// Hands the bytes [offset, offset + max) of what is written to it to a Reply as binary
// data, as long as they fit; counts everything, so the caller learns the total length.
class WindowSink final : public lib::Sink {
 public:
  WindowSink(Reply& out, u64 offset, u64 max) : out_(out), offset_(offset), max_(max) {}
  void write(const char* s, usize n) override {
    for (usize i = 0; i < n; ++i, ++total_) {
      if (total_ < offset_ || full_) continue;
      u8 b = static_cast<u8>(s[i]);
      if (taken_ == max_ || out_.room() < Reply::binary_size(b)) {
        full_ = true;
        continue;
      }
      out_.put_binary(b);
      ++taken_;
    }
  }
  u64 total() const { return total_; }
  u64 taken() const { return taken_; }

 private:
  Reply& out_;
  u64 offset_;
  u64 max_;
  u64 total_ = 0;
  u64 taken_ = 0;
  bool full_ = false;
};

}  // namespace

Session::Session(Target& target, Transport& transport, const Config& config)
    : target_(target), transport_(transport), packet_size_(clamp_packet_size(config.packet_size)), rle_(config.rle) {}

void Session::reset_connection() {
  decoder_.reset();
  no_ack_ = false;
  gdb_swbreak_ = false;
  gdb_hwbreak_ = false;
  frame_len_ = 0;
}

Event Session::feed(u8 byte) {
  if (state_ == State::AttachPending) return Event::Attach;
  Input in = decoder_.feed(byte);
  switch (in) {
    case Input::None:
    case Input::Ack: return Event::None;
    case Input::Nak:
      // RSP "Overview": '-' asks for the last packet again. Only the last one is kept:
      // a stub that does not block on input cannot wait for each ack.
      if (!no_ack_ && frame_len_ != 0) transport_.write(frame_, frame_len_);
      return Event::None;
    case Input::BadChecksum:
      if (!no_ack_) send_raw('-');
      return Event::None;
    case Input::Interrupt:
      if (state_ == State::Resumed) return Event::Interrupt;
      if (state_ == State::Running) {
        // gdb's `set remote interrupt-on-connect`: stop, then it asks '?'.
        state_ = State::AttachPending;
        pending_ = Pending::None;
        return Event::Attach;
      }
      return Event::None;  // already stopped: nothing to interrupt
    case Input::Packet:
    case Input::Overflow: break;
  }
  // gdb opens every connection with qSupported (gdb 13's remote_start_remote; the attach
  // conversation in gdbstub_test), and a new gdb starts in ack mode (RSP "Packet
  // Acknowledgment") even if the last one had turned it off.
  if (in == Input::Packet && is_packet(decoder_.payload(), decoder_.size(), "qSupported")) {
    no_ack_ = false;
  }
  if (!no_ack_) send_raw('+');
  if (state_ == State::Running || state_ == State::Resumed) {
    // A packet while the machine runs: a gdb that attaches (or one that reconnected
    // while the last waited for a stop). Its answer waits until the machine is stopped.
    state_ = State::AttachPending;
    pending_ = in == Input::Packet ? Pending::Packet : Pending::Overflow;
    return Event::Attach;
  }
  return dispatch(in);
}

Event Session::report_stop(const StopEvent& ev) {
  // Already stopped: gdb was told (or will ask), and its thread selection stands.
  if (state_ == State::Stopped) return Event::None;
  last_stop_ = ev;
  have_stop_ = true;
  // After a stop reply both sides take the stopped thread as the one Hg selects (gdb's
  // remote.c records it as the current thread; gdbserver does the same).
  general_tid_ = ev.tid;
  State was = state_;
  state_ = State::Stopped;
  if (was == State::Resumed) {
    reply_.start(packet_size_);
    put_stop_reply();
    send_reply();
    return Event::None;
  }
  if (was == State::AttachPending) {
    Pending p = pending_;
    pending_ = Pending::None;
    if (p == Pending::Packet) return dispatch(Input::Packet);
    if (p == Pending::Overflow) return dispatch(Input::Overflow);
  }
  return Event::None;
}

Event Session::dispatch(Input in) {
  reply_.start(packet_size_);
  if (in == Input::Overflow) {
    reply_.put(kErrInvalid);
    send_reply();
    return Event::None;
  }
  return handle(decoder_.payload(), decoder_.size());
}

Event Session::handle(const u8* p, usize n) {
  Cursor in(p, n);
  Event ev = Event::None;
  int c = in.peek();
  (void)in.eat(static_cast<char>(c));
  switch (c) {
    case '?':
      if (in.at_end()) put_stop_reply();
      break;
    case 'g':
    case 'p': read_regs(in, c == 'p'); break;
    case 'G':
    case 'P': write_regs(in, c == 'P'); break;
    case 'm': read_mem(in); break;
    case 'M':
    case 'X': write_mem(in, c == 'X'); break;
    case 'Z':
    case 'z': breakpoint(in, c == 'Z'); break;
    case 'H': set_thread(in); break;
    case 'T': {
      ThreadId tid = 0;
      bool ok = in.thread_id(&tid) && in.at_end();
      reply_.put(!ok ? kErrInvalid : thread_exists(tid) ? "OK" : kErrNoThread);
      break;
    }
    case 'c':
    case 's':
    case 'C':
    case 'S': ev = resume_legacy(in, static_cast<char>(c)); break;
    case 'v':
      if (in.eat("Cont?") && in.at_end()) {
        reply_.put("vCont;c;C;s;S");
      } else if (in.eat("Cont")) {
        ev = resume_vcont(in);
      }
      // Anything else (vMustReplyEmpty, vKill, vFile:, vRun, ...): the empty reply.
      break;
    case 'D':
      // D or D;pid (RSP "Packets"): the reply goes out in the mode gdb is in, then the
      // next gdb starts from scratch.
      reply_.put("OK");
      send_reply();
      state_ = State::Running;
      no_ack_ = false;
      return Event::Detach;
    case 'k':
      // No reply: gdb does not wait for one (RSP "Packets", k).
      state_ = State::Running;
      no_ack_ = false;
      return Event::Kill;
    case 'q': query(in); break;
    case 'Q':
      if (in.eat("StartNoAckMode") && in.at_end()) {
        // RSP "Packet Acknowledgment": the OK is still acked by gdb; from then on
        // neither side sends '+' or '-'.
        reply_.put("OK");
        send_reply();
        no_ack_ = true;
        return Event::None;
      }
      break;
    default: break;  // the empty reply: "not supported" (RSP "Overview", "Standard Replies")
  }
  if (ev == Event::Resume) {
    state_ = State::Resumed;
    return ev;
  }
  send_reply();
  return Event::None;
}

void Session::query(Cursor& in) {
  if (in.eat("Supported") && (in.at_end() || in.peek() == ':')) {
    supported(in);
  } else if (in.eat("Attached")) {
    // Attached to an existing process (the kernel was running before gdb came), so
    // gdb's quit detaches instead of killing.
    if (in.at_end() || in.eat(':')) reply_.put("1");
  } else if (in.eat("C") && in.at_end()) {
    reply_.put("QC");
    reply_.put_hex_num(resolve(general_tid_));
  } else if (in.eat("fThreadInfo") && in.at_end()) {
    thread_cursor_ = 0;
    thread_page(0);
  } else if (in.eat("sThreadInfo") && in.at_end()) {
    thread_page(thread_cursor_);
  } else if (in.eat("ThreadExtraInfo,")) {
    thread_extra(in);
  } else if (in.eat("Xfer:features:read:")) {
    xfer(in, kTargetXmlAnnex, &Session::write_features);
  } else if (in.eat("Rcmd,")) {
    monitor(in);
  }
  // Anything else (qTStatus, qSymbol, qOffsets, qTfV, ...): the empty reply.
}

void Session::supported(Cursor& in) {
  gdb_swbreak_ = false;
  gdb_hwbreak_ = false;
  thread_cursor_ = 0;
  if (in.eat(':')) {
    // gdb's features, ';'-separated: the two we may use in stop replies.
    while (!in.at_end()) {
      if (in.eat("swbreak+")) {
        gdb_swbreak_ = true;
      } else if (in.eat("hwbreak+")) {
        gdb_hwbreak_ = true;
      } else {
        while (!in.at_end() && in.peek() != ';') (void)in.eat(static_cast<char>(in.peek()));
      }
      (void)in.eat(';');
    }
  }
  reply_.put("PacketSize=");
  reply_.put_hex_num(packet_size_);
  // Not qXfer:threads:read: gdb rereads that whole list (~58 bytes a CPU) at attach and
  // at every `info threads`, where qfThreadInfo costs 3 bytes a CPU and qThreadExtraInfo
  // is asked only by `info threads` (at 255 CPUs on 115200 baud: +2.6 s an attach).
  reply_.put(";qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+");
}

void Session::put_stop_reply() {
  if (!have_stop_) {
    reply_.put("S05");  // no stop known yet: a plain SIGTRAP (RSP "Stop Reply Packets")
    return;
  }
  const StopEvent& ev = last_stop_;
  reply_.put('T');
  reply_.put_hex_byte(ev.signal);
  reply_.put("thread:");
  reply_.put_hex_num(ev.tid);
  reply_.put(';');
  // RSP "Stop Reply Packets": swbreak and hwbreak only to a gdb that asked for them;
  // the watch reasons are understood by every gdb.
  switch (ev.reason) {
    case StopReason::None: break;
    case StopReason::SwBreak:
      if (gdb_swbreak_) reply_.put("swbreak:;");
      break;
    case StopReason::HwBreak:
      if (gdb_hwbreak_) reply_.put("hwbreak:;");
      break;
    case StopReason::Watch:
    case StopReason::ReadWatch:
    case StopReason::AccessWatch:
      reply_.put(ev.reason == StopReason::Watch       ? "watch:"
                 : ev.reason == StopReason::ReadWatch ? "rwatch:"
                                                      : "awatch:");
      reply_.put_hex_num(ev.watch_addr);
      reply_.put(';');
      break;
  }
}

void Session::put_status(Status st) {
  switch (st) {
    case Status::Ok: reply_.put("OK"); break;
    case Status::Unsupported: break;
    case Status::Fault: reply_.put(kErrFault); break;
    case Status::Invalid: reply_.put(kErrInvalid); break;
    case Status::NoSpace: reply_.put(kErrNoSpace); break;
  }
}

bool Session::thread_exists(ThreadId tid) { return tid != kAnyThread && tid != kAllThreads && target_.has_thread(tid); }

ThreadId Session::resolve(ThreadId tid) {
  if (tid != kAnyThread && tid != kAllThreads) return tid;
  if (have_stop_ && thread_exists(last_stop_.tid)) return last_stop_.tid;
  ThreadId first = target_.next_thread(0);
  return first != 0 ? first : 1;
}

void Session::set_thread(Cursor& in) {
  // H op thread-id (RSP "Packets"): 'g' for registers and memory, 'c' for a legacy
  // step. 0 (any) and -1 (all) are kept and resolved at use.
  int op = in.peek();
  ThreadId tid = 0;
  if ((op != 'g' && op != 'c') || !in.eat(static_cast<char>(op)) || !in.thread_id(&tid) || !in.at_end()) {
    reply_.put(kErrInvalid);
    return;
  }
  if (tid != kAnyThread && tid != kAllThreads && !thread_exists(tid)) {
    reply_.put(kErrInvalid);
    return;
  }
  (op == 'g' ? general_tid_ : cont_tid_) = tid;
  reply_.put("OK");
}

void Session::thread_page(ThreadId after) {
  // qfThreadInfo / qsThreadInfo (RSP "General Query Packets"): "m" and as many ids as
  // fit the packet, then more on each qsThreadInfo, "l" when none are left.
  ThreadId tid = target_.next_thread(after);
  if (tid == 0) {
    reply_.put('l');
    return;
  }
  reply_.put('m');
  for (bool first = true; tid != 0; tid = target_.next_thread(tid), first = false) {
    usize digits = 1;
    while (digits < 8 && (tid >> (4 * digits)) != 0) ++digits;
    if (reply_.room() < digits + (first ? 0 : 1)) break;
    if (!first) reply_.put(',');
    reply_.put_hex_num(tid);
    thread_cursor_ = tid;
  }
}

void Session::thread_extra(Cursor& in) {
  ThreadId tid = 0;
  if (!in.thread_id(&tid) || !in.at_end()) {
    reply_.put(kErrInvalid);
    return;
  }
  if (!thread_exists(tid)) {
    reply_.put(kErrNoThread);
    return;
  }
  char text[kMaxExtraInfo + 1];
  lib::BufSink sink(text, sizeof text);
  target_.thread_extra_info(tid, sink);
  // The text goes as hex (RSP "General Query Packets", qThreadExtraInfo).
  reply_.put_hex(reinterpret_cast<const u8*>(sink.str()), sink.size());
}

void Session::xfer(Cursor& in, const char* annex, void (Session::*write)(lib::Sink&)) {
  // qXfer:object:read:annex:offset,length (RSP "General Query Packets"): 'm' and data
  // when more follows, 'l' and data (maybe none) for the last part. The document is
  // written whole for every part (it is the same while the machine is stopped); the
  // window keeps the part asked for.
  u64 offset = 0;
  u64 len = 0;
  if ((*annex != '\0' && !in.eat(annex)) || !in.eat(':')) {
    reply_.put(kErrAnnex);
    return;
  }
  if (!in.hex_u64(&offset) || !in.eat(',') || !in.hex_u64(&len) || !in.at_end()) {
    reply_.put(kErrAnnex);
    return;
  }
  reply_.put('m');
  WindowSink window(reply_, offset, len);
  (this->*write)(window);
  if (offset >= window.total() || window.total() - offset <= window.taken()) reply_.patch(0, 'l');
}

void Session::write_features(lib::Sink& out) { write_target_xml(out); }

void Session::monitor(Cursor& in) {
  // qRcmd,hex (RSP "General Query Packets"): the command in hex; output as 'O' packets
  // while it runs, then OK (or an error).
  usize digits = in.remaining();
  usize n = digits / 2;
  if (digits % 2 != 0 || n >= sizeof scratch_ || !hex_decode(in.here(), n, scratch_)) {
    reply_.put(kErrInvalid);
    return;
  }
  scratch_[n] = 0;
  MonitorOut out(*this);
  monitor_len_ = 0;
  Status st = target_.monitor_command(reinterpret_cast<const char*>(scratch_), out);
  out.flush();
  reply_.start(packet_size_);
  if (st == Status::Ok) {
    reply_.put("OK");
  } else {
    put_status(st == Status::Unsupported ? Status::Invalid : st);
  }
}

bool Session::notify(const char* text) {
  if (state_ != State::Resumed) return false;
  MonitorOut out(*this);
  usize n = 0;
  while (text[n] != '\0') ++n;
  out.write(text, n);
  out.flush();
  return true;
}

void Session::MonitorOut::write(const char* s, usize n) {
  // An 'O' packet carries up to (packet size - 1) / 2 characters as hex.
  usize max = (s_.packet_size_ - 1) / 2;
  for (usize i = 0; i < n; ++i) {
    s_.monitor_line_[s_.monitor_len_++] = s[i];
    if (s[i] == '\n' || s_.monitor_len_ == max) flush();
  }
}

void Session::MonitorOut::flush() {
  if (s_.monitor_len_ == 0) return;
  s_.reply_.start(s_.packet_size_);
  s_.reply_.put('O');
  s_.reply_.put_hex(reinterpret_cast<const u8*>(s_.monitor_line_), s_.monitor_len_);
  s_.monitor_len_ = 0;
  s_.send_reply();
}

void Session::read_regs(Cursor& in, bool one) {
  Reg r = Reg::Rax;
  u64 num = 0;
  if (one ? (!in.hex_u64(&num) || !reg_from_number(num, &r) || !in.at_end()) : !in.at_end()) {
    reply_.put(kErrInvalid);
    return;
  }
  regs_cur_.clear();
  target_.read_registers(resolve(general_tid_), regs_cur_);
  if (one) {
    put_register(regs_cur_, r, reply_);
  } else {
    put_registers(regs_cur_, reply_);
  }
}

void Session::write_regs(Cursor& in, bool one) {
  Reg r = Reg::Rax;
  u64 num = 0;
  bool ok = one ? in.hex_u64(&num) && reg_from_number(num, &r) && in.eat('=') &&
                      parse_register(r, in.here(), in.remaining(), regs_new_)
                : parse_registers(in.here(), in.remaining(), regs_new_);
  if (!ok) {
    reply_.put(kErrInvalid);
    return;
  }
  ThreadId tid = resolve(general_tid_);
  regs_cur_.clear();
  target_.read_registers(tid, regs_cur_);
  // Only what changes goes to the Target: gdb's G sends every register, read-only ones
  // (cs, cr0) included, and the Target should not have to tell "unchanged" from "refused".
  bool any = false;
  for (usize i = 0; i < kNumRegs; ++i) {
    Reg k = static_cast<Reg>(i);
    if (!regs_new_.available(k)) continue;
    if (regs_new_.same(k, regs_cur_)) {
      regs_new_.set_unavailable(k);
    } else {
      any = true;
    }
  }
  put_status(any ? target_.write_registers(tid, regs_new_) : Status::Ok);
}

void Session::read_mem(Cursor& in) {
  u64 addr = 0;
  u64 len = 0;
  if (!in.hex_u64(&addr) || !in.eat(',') || !in.hex_u64(&len) || !in.at_end() || len == 0) {
    reply_.put(kErrInvalid);
    return;
  }
  // gdb asks for at most PacketSize / 2 bytes; a shorter reply is a partial read, and
  // gdb asks again for the rest.
  usize max = packet_size_ / 2;
  usize n = len < max ? static_cast<usize>(len) : max;
  usize got = target_.read_memory(resolve(general_tid_), addr, scratch_, n);
  if (got == 0) {
    reply_.put(kErrFault);
    return;
  }
  reply_.put_hex(scratch_, got < n ? got : n);
}

void Session::write_mem(Cursor& in, bool binary) {
  u64 addr = 0;
  u64 len = 0;
  if (!in.hex_u64(&addr) || !in.eat(',') || !in.hex_u64(&len) || !in.eat(':')) {
    reply_.put(kErrInvalid);
    return;
  }
  const u8* data = in.here();
  if (binary) {
    // X: raw bytes, already unescaped by the Decoder. `X addr,0:` is gdb's probe for
    // X support (RSP "Packets", X): OK says yes.
    if (in.remaining() != len) {
      reply_.put(kErrInvalid);
      return;
    }
  } else {
    if (len > sizeof scratch_ || in.remaining() != 2 * len || !hex_decode(data, static_cast<usize>(len), scratch_)) {
      reply_.put(kErrInvalid);
      return;
    }
    data = scratch_;
  }
  if (len == 0) {
    reply_.put("OK");
    return;
  }
  usize n = static_cast<usize>(len);
  reply_.put(target_.write_memory(resolve(general_tid_), addr, data, n) == n ? "OK" : kErrFault);
}

void Session::breakpoint(Cursor& in, bool insert) {
  // Z type,addr,kind[;cond...] (RSP "Packets"): conditions and commands are only sent to
  // a stub that offers them, which we do not; anything after ';' is ignored.
  u64 type = 0;
  u64 addr = 0;
  u64 kind = 0;
  if (!in.hex_u64(&type) || type > 4 || !in.eat(',') || !in.hex_u64(&addr) || !in.eat(',') || !in.hex_u64(&kind) ||
      (!in.at_end() && !in.eat(';'))) {
    reply_.put(kErrInvalid);
    return;
  }
  auto k = static_cast<BreakpointKind>(type);
  put_status(insert ? target_.insert_breakpoint(k, addr, kind) : target_.remove_breakpoint(k, addr, kind));
}

Event Session::resume_legacy(Cursor& in, char cmd) {
  // c [addr], s [addr], C sig[;addr], S sig[;addr] (RSP "Packets"). c continues every
  // thread; s steps the thread Hc selected (the stopped one for "any"/"all") and leaves
  // the others stopped.
  resume_ = Resume{};
  ThreadAction a;
  a.mode = (cmd == 'c' || cmd == 'C') ? RunMode::Continue : RunMode::Step;
  bool with_sig = cmd == 'C' || cmd == 'S';
  if (with_sig) {
    u64 sig = 0;
    if (!in.hex_u64(&sig) || sig > 0xff) {
      reply_.put(kErrInvalid);
      return Event::None;
    }
    a.signal = static_cast<u8>(sig);
  }
  if (!in.at_end()) {
    if ((with_sig && !in.eat(';')) || !in.hex_u64(&resume_.addr) || !in.at_end()) {
      reply_.put(kErrInvalid);
      return Event::None;
    }
    resume_.has_addr = true;
  }
  ThreadId current = resolve(cont_tid_);
  a.tid = a.mode == RunMode::Continue ? kAllThreads : current;
  resume_.actions[0] = a;
  resume_.count = 1;
  resume_.addr_tid = current;
  return Event::Resume;
}

Event Session::resume_vcont(Cursor& in) {
  if (!parse_vcont(in, &resume_)) {
    reply_.put(kErrInvalid);
    return Event::None;
  }
  for (usize i = 0; i < resume_.count; ++i) {
    ThreadId tid = resume_.actions[i].tid;
    if (tid != kAllThreads && !thread_exists(tid)) {
      reply_.put(kErrInvalid);
      return Event::None;
    }
  }
  return Event::Resume;
}

void Session::send_reply() {
  if (reply_.overflowed()) {
    // Cannot happen by construction (every handler sizes its output); an error beats a
    // truncated answer.
    reply_.start(packet_size_);
    reply_.put(kErrInvalid);
  }
  frame_len_ = encode_frame(reply_.data(), reply_.size(), rle_, frame_, sizeof frame_);
  if (frame_len_ != 0) transport_.write(frame_, frame_len_);
}

}  // namespace gdbstub
