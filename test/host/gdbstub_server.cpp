// The gdb stub's protocol core (src/gdbstub) served over TCP on 127.0.0.1, with the fake
// machine of gdbstub_fake.hpp behind it: what test/gdb/test_gdbstub_fake.py points
// Debian's gdb at, and a bench for the bytes a session costs.
//
//   gdbstub_server [--port N] [--threads N] [--packet-size N] [--no-rle]
//                  [--read-watch empty|error] [--log FILE]
//
// Prints "listening on 127.0.0.1:PORT" once it accepts connections (port 0, the default,
// picks a free one). One connection at a time; the fake machine and the Session outlive
// connections, as the kernel's do (a second gdb attaches to the same machine).
//
// The fake machine: threads 1..N stopped; a step moves the thread's rip on by one byte
// (the fake text is all NOPs); a continue stops
//   - at a write or access watchpoint if one is set (thread 2, or 1; a write changes the
//     watched byte: gdb only reports a write watchpoint whose value changed),
//   - else at the lowest breakpoint if one is set (thread 2, or 1, rip = its address),
//   - else not at all: the machine runs until gdb interrupts it (0x03).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gdbstub/session.hpp"
#include "gdbstub_fake.hpp"

namespace {

using gdbfake::FakeTarget;
using gdbstub::BreakpointKind;
using gdbstub::Event;
using gdbstub::Reg;
using gdbstub::RunMode;
using gdbstub::StopEvent;
using gdbstub::StopReason;

FILE* g_log = nullptr;

void log_bytes(const char* dir, const u8* p, usize n) {
  if (g_log == nullptr) return;
  std::fprintf(g_log, "%s ", dir);
  for (usize i = 0; i < n; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
      std::fputc(p[i], g_log);
    } else {
      std::fprintf(g_log, "\\x%02x", p[i]);
    }
  }
  std::fputc('\n', g_log);
  std::fflush(g_log);
}

class SocketTransport final : public gdbstub::Transport {
 public:
  void write(const u8* data, usize n) override {
    log_bytes("->", data, n);
    while (n > 0 && fd >= 0) {
      ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        fd = -1;  // gdb went away; the read side notices too
        return;
      }
      data += w;
      n -= static_cast<usize>(w);
    }
  }
  int fd = -1;
};

// What the fake machine does with a resume request; returns true and the stop when it
// stops at once, false when it runs until interrupted.
bool run_machine(FakeTarget& t, const gdbstub::Resume& r, StopEvent* stop) {
  if (r.has_addr) t.regs[r.addr_tid].set_u64(Reg::Rip, r.addr);
  for (gdbstub::ThreadId tid : t.tids) {
    if (r.action_for(tid).mode != RunMode::Step) continue;
    t.regs[tid].set_u64(Reg::Rip, t.regs[tid].get_u64(Reg::Rip) + 1);
    *stop = StopEvent{};
    stop->tid = tid;
    return true;
  }
  gdbstub::ThreadId who = 0;
  for (gdbstub::ThreadId tid : {2u, 1u})
    if (r.action_for(tid).mode == RunMode::Continue && t.regs.count(tid) != 0) {
      who = tid;
      break;
    }
  if (who == 0) return false;
  for (const gdbfake::Breakpoint& b : t.bps) {
    if (b.kind != BreakpointKind::WriteWatch && b.kind != BreakpointKind::AccessWatch) continue;
    // A write changes the byte; an access watchpoint reads it (gdb, emulating rwatch
    // with awatch, reports only hits that left the value alone).
    u8* p = t.byte_at(b.addr, true);
    if (p != nullptr && b.kind == BreakpointKind::WriteWatch) ++*p;
    t.regs[who].set_u64(Reg::Rip, t.regs[who].get_u64(Reg::Rip) + 4);
    *stop = StopEvent{};
    stop->tid = who;
    stop->reason = b.kind == BreakpointKind::WriteWatch ? StopReason::Watch : StopReason::AccessWatch;
    stop->watch_addr = b.addr;
    return true;
  }
  const gdbfake::Breakpoint* lowest = nullptr;
  for (const gdbfake::Breakpoint& b : t.bps)
    if ((b.kind == BreakpointKind::Software || b.kind == BreakpointKind::Hardware) &&
        (lowest == nullptr || b.addr < lowest->addr))
      lowest = &b;
  if (lowest == nullptr) return false;
  t.regs[who].set_u64(Reg::Rip, lowest->addr);
  *stop = StopEvent{};
  stop->tid = who;
  stop->reason = lowest->kind == BreakpointKind::Software ? StopReason::SwBreak : StopReason::HwBreak;
  return true;
}

int usage() {
  std::fprintf(stderr,
               "usage: gdbstub_server [--port N] [--threads N] [--packet-size N] [--no-rle] "
               "[--read-watch empty|error] [--log FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  unsigned threads = 4;
  gdbstub::Config cfg;
  FakeTarget target;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--no-rle") {
      cfg.rle = false;
    } else if (v == nullptr) {
      return usage();
    } else if (a == "--port") {
      port = std::atoi(argv[++i]);
    } else if (a == "--threads") {
      threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (a == "--packet-size") {
      cfg.packet_size = static_cast<usize>(std::atoi(argv[++i]));
    } else if (a == "--read-watch") {
      std::string m = argv[++i];
      if (m != "empty" && m != "error") return usage();
      target.read_watch_status = m == "empty" ? gdbstub::Status::Unsupported : gdbstub::Status::Invalid;
    } else if (a == "--log") {
      g_log = std::fopen(argv[++i], "w");
      if (g_log == nullptr) return usage();
    } else {
      return usage();
    }
  }
  target.set_threads(threads);
  SocketTransport tx;
  gdbstub::Session session(target, tx, cfg);

  int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (ls < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(ls, 1) != 0 ||
      ::getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("gdbstub_server: listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  gdbstub::ThreadId stopped_tid = 1;
  for (;;) {
    int fd = ::accept(ls, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR) continue;
      std::perror("gdbstub_server: accept");
      return 1;
    }
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    tx.fd = fd;
    session.reset_connection();
    if (g_log != nullptr) std::fprintf(g_log, "## connection\n");
    u8 buf[4096];
    bool open = true;
    while (open) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || tx.fd < 0) break;
      log_bytes("<-", buf, static_cast<usize>(n));
      for (ssize_t i = 0; i < n && open; ++i) {
        Event ev = session.feed(buf[i]);
        // Events may chain: the packet answered after an Attach can itself resume.
        while (ev != Event::None) {
          StopEvent stop;
          stop.tid = stopped_tid;
          if (ev == Event::Attach) {
            ev = session.report_stop(stop);
          } else if (ev == Event::Interrupt) {
            stop.signal = gdbstub::kSigInt;
            ev = session.report_stop(stop);
          } else if (ev == Event::Resume) {
            if (run_machine(target, session.resume(), &stop)) {
              stopped_tid = stop.tid;
              ev = session.report_stop(stop);
            } else {
              ev = Event::None;  // running until gdb sends 0x03
            }
          } else {
            // Detach: gdb closes the line. Kill: so do we.
            if (ev == Event::Kill) open = false;
            ev = Event::None;
          }
        }
      }
    }
    ::close(fd);
    tx.fd = -1;
    if (g_log != nullptr) std::fprintf(g_log, "## closed\n");
  }
}
