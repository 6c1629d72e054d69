// One gdb connection's protocol state: takes the bytes gdb sends (feed), answers through
// the Transport, and asks the Target for threads, registers, memory, breakpoints and
// monitor commands. Running the machine is the caller's business: resume, detach and
// kill requests come back as Events, and the caller reports the next stop with
// report_stop(). Nothing blocks, nothing is allocated; every buffer is a member sized by
// the constants in protocol.hpp (a Session is about 20 KiB: give the kernel a static one).
//
// The caller's loop (the kernel's gdb glue):
//
//   for each byte b from the gdb line:
//     switch (session.feed(b)) {
//       case Event::Attach:     // gdb spoke while the machine runs: stop it, then
//       case Event::Interrupt:  // gdb sent ^C while resumed: stop it, then
//         stop every CPU; session.report_stop({.tid = cpu + 1, .signal = kSigTrap or kSigInt});
//       case Event::Resume:     // apply session.resume() per CPU, let them run
//       case Event::Detach:     // gdb is gone: resume everything (gdb removed its breakpoints)
//       case Event::Kill:       // gdb wants the target dead: the kernel decides (resume, reboot)
//       case Event::None: break;
//     }
//   when a CPU hits a breakpoint, a watchpoint or ends a step while resumed:
//     stop every CPU; (void)session.report_stop({...});   // sends the T stop reply
//
// (report_stop returns an Event too: after Attach, the packet that woke the stub is
// answered then, and might itself be, say, a detach.)
#pragma once
#include "gdbstub/packet.hpp"
#include "gdbstub/protocol.hpp"
#include "gdbstub/regs.hpp"
#include "gdbstub/reply.hpp"
#include "gdbstub/resume.hpp"
#include "gdbstub/target.hpp"
#include "lib/fmt.hpp"
#include "lib/types.hpp"

namespace gdbstub {

// qThreadExtraInfo text kept per thread.
constexpr usize kMaxExtraInfo = 128;

struct Config {
  // The PacketSize offered to gdb; clamped to [kMinPacketSize, kMaxPacketSize]. Replies
  // are kept within it too (thread lists, memory, target.xml and monitor output are
  // split to fit).
  usize packet_size = kMaxPacketSize;
  // Run-length encode replies (RSP "Overview"): a 'g' reply of a mostly-zero or
  // unavailable register file shrinks from 1216 bytes to a few hundred.
  bool rle = true;
};

enum class Event : u8 {
  None,
  Attach,     // gdb sent a packet while the machine runs: stop it, then report_stop()
  Interrupt,  // gdb sent 0x03 while resumed: stop the machine, report_stop() with kSigInt
  Resume,     // let the machine run as resume() says; report the next stop
  Detach,     // gdb detached ("OK" already sent): let everything run
  Kill,       // gdb sent 'k' (no reply is expected)
};

enum class State : u8 {
  Running,        // the machine runs and gdb waits for nothing (before attach, after D or k)
  AttachPending,  // Event::Attach was returned: waiting for report_stop()
  Stopped,        // the machine is stopped: packets are answered
  Resumed,        // gdb let the machine run and waits for a stop reply
};

class Session {
 public:
  Session(Target& target, Transport& transport, const Config& config = {});

  // One byte from gdb. While state() is AttachPending the caller must call
  // report_stop() first (bytes fed before that are dropped).
  [[nodiscard]] Event feed(u8 byte);
  // The machine is stopped (every CPU), ev says which thread and why. Resumed: sends the
  // stop reply. AttachPending: answers the packet that caused Event::Attach, and returns
  // what that packet asks (usually None). Running: a stop of the kernel's own (debug.gdb.wait,
  // a panic): remembered for gdb's '?', nothing sent. Stopped: ignored (already stopped).
  [[nodiscard]] Event report_stop(const StopEvent& ev);
  // After Event::Resume: what each thread is to do.
  const Resume& resume() const { return resume_; }
  // While gdb waits for a stop reply (Resumed): text for gdb's console, as 'O' packets
  // (RSP "Stop Reply Packets", O XX...). gdb prints it and keeps waiting. Nothing is sent
  // in any other state (gdb would take an 'O' for the reply to its next packet). True if
  // it was sent.
  bool notify(const char* text);

  // A packet has started and not ended. A caller whose line goes quiet in mid-packet (gdb
  // killed while sending, line noise that looked like a '$') drops it after a timeout of
  // its choosing; gdb resends what it still wants answered.
  bool in_packet() const { return decoder_.in_packet(); }
  void drop_partial_packet() { decoder_.reset(); }

  // The line was closed and may be reopened by another gdb (the host server's socket):
  // ack mode again, any partial packet dropped, gdb's qSupported features forgotten.
  // A serial line has no such signal; there a qSupported (the first packet of every
  // connection) does the same.
  void reset_connection();

  State state() const { return state_; }
  bool no_ack() const { return no_ack_; }
  usize packet_size() const { return packet_size_; }

 private:
  // Streams `monitor` output to gdb as 'O' packets (RSP "Stop Reply Packets", O XX...),
  // a packet per line (or per packet's worth of a longer line), sent as soon as it is
  // complete.
  class MonitorOut final : public lib::Sink {
   public:
    explicit MonitorOut(Session& s) : s_(s) {}
    void write(const char* s, usize n) override;
    void flush();

   private:
    Session& s_;
  };
  enum class Pending : u8 { None, Packet, Overflow };

  Event dispatch(Input in);
  Event handle(const u8* p, usize n);
  void query(Cursor& in);
  Event resume_legacy(Cursor& in, char cmd);
  Event resume_vcont(Cursor& in);
  void read_regs(Cursor& in, bool one);
  void write_regs(Cursor& in, bool one);
  void read_mem(Cursor& in);
  void write_mem(Cursor& in, bool binary);
  void breakpoint(Cursor& in, bool insert);
  void set_thread(Cursor& in);
  void thread_page(ThreadId after);
  void thread_extra(Cursor& in);
  void xfer(Cursor& in, const char* annex, void (Session::*write)(lib::Sink&));
  void write_features(lib::Sink& out);
  void monitor(Cursor& in);
  void supported(Cursor& in);
  void put_stop_reply();
  void put_status(Status st);

  bool thread_exists(ThreadId tid);
  // A concrete thread for an H selection that may be "any" or "all": the thread of the
  // last stop, else the first one.
  ThreadId resolve(ThreadId tid);

  void send_reply();
  void send_raw(u8 b) { transport_.write(&b, 1); }

  Target& target_;
  Transport& transport_;
  usize packet_size_;
  Decoder decoder_;
  Reply reply_;
  // The last packet sent, for a '-' from gdb (ack mode).
  u8 frame_[kMaxPacketSize + kFrameOverhead] = {};
  usize frame_len_ = 0;
  // Memory data (m, M), the decoded monitor command (qRcmd), extra info text.
  u8 scratch_[kMaxPacketSize / 2 + 1] = {};
  char monitor_line_[kMaxPacketSize / 2] = {};
  usize monitor_len_ = 0;
  RegFile regs_cur_;
  RegFile regs_new_;
  Resume resume_;
  StopEvent last_stop_;
  ThreadId general_tid_ = kAnyThread;  // Hg: registers and memory
  ThreadId cont_tid_ = kAnyThread;     // Hc: which thread a legacy 's' steps
  ThreadId thread_cursor_ = 0;         // qsThreadInfo continues after this thread
  State state_ = State::Running;
  Pending pending_ = Pending::None;
  bool rle_;
  bool no_ack_ = false;
  bool have_stop_ = false;
  bool gdb_swbreak_ = false;  // gdb announced swbreak+ / hwbreak+ in its qSupported: only
  bool gdb_hwbreak_ = false;  // then may a stop reply carry those reasons
};

}  // namespace gdbstub
