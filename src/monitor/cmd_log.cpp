// dmesg: the kernel log (kernel/console's ring, lib/log_ring), oldest first, each line
// as it went out on the serial port. Its own output goes into the same ring while it
// reads; the reader copies a piece before printing it, so what it prints overwrites
// only what it has already read.
#include "kernel/console.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/monitor.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};

// Writes every '>' as "\u003e". The log holds earlier prompts ("kmon> "); escaped, the
// document holds none, so a client that reads a command's output up to the next prompt
// (test/qemu/machine.py, python/kmon.py) gets the whole line. dmesg -j writes '>' only
// inside strings, where the escape is the same character.
class NoPromptSink final : public lib::Sink {
 public:
  explicit NoPromptSink(lib::Sink& to) : to_(to) {}
  void write(const char* s, usize n) override {
    usize run = 0;
    for (usize i = 0; i < n; ++i) {
      if (s[i] != '>') continue;
      to_.write(s + run, i - run);
      to_.write("\\u003e", 6);
      run = i + 1;
    }
    to_.write(s + run, n - run);
  }

 private:
  lib::Sink& to_;
};

// The "lines" array of dmesg -j, written piece by piece as the ring gives them (a line may
// be longer than any buffer here: the log holds other -j documents): each line a JSON
// string without its "\r\n". The '\r' before a '\n' may end one piece and the '\n' start
// the next, so a trailing '\r' waits for what follows.
class LineArray {
 public:
  explicit LineArray(lib::Sink& out) : out_(out) {}
  // Text of the current line, no '\n' in it.
  void text(const char* s, usize n) {
    if (n == 0) return;
    open();
    flush_cr();
    if (s[n - 1] == '\r') {
      cr_ = true;
      --n;
    }
    lib::json_escape(out_, s, n);
  }
  // A '\n': the line ends (a '\r' just before it is the line end, not text).
  void newline() {
    open();
    cr_ = false;
    close();
  }
  // The line stops here without its '\n': the ring overwrote the rest, or the log ends.
  void cut() {
    if (!open_) return;
    flush_cr();
    close();
  }

 private:
  void open() {
    if (open_) return;
    if (any_) out_.put(',');
    out_.put('"');
    any_ = open_ = true;
  }
  void close() {
    out_.put('"');
    open_ = false;
  }
  void flush_cr() {
    if (cr_) lib::json_escape(out_, "\r", 1);
    cr_ = false;
  }

  lib::Sink& out_;
  bool any_ = false, open_ = false, cr_ = false;
};

// dmesg -j: {"lines":[...]}, each line as printed without its "\r\n" ('>' escaped, see
// NoPromptSink). A line whose rest was overwritten while it was read ends where it was cut.
void dmesg_json(lib::Sink& to, const lib::LogRing& log, lib::LogRing::Cursor c) {
  NoPromptSink out(to);
  out.write("{\"lines\":[", 10);
  LineArray lines(out);
  char piece[256];
  for (;;) {
    const u64 resyncs = c.resyncs;
    const usize got = log.next(&c, piece, sizeof piece);
    if (got == 0) break;
    if (c.resyncs != resyncs) lines.cut();
    usize from = 0;
    for (usize i = 0; i < got; ++i) {
      if (piece[i] != '\n') continue;
      lines.text(piece + from, i - from);
      lines.newline();
      from = i + 1;
    }
    lines.text(piece + from, got - from);
  }
  lines.cut();  // output still being printed when we looked
  out.write("]}\n", 3);
}

int cmd_dmesg(const monitor::Args& a) {
  if (a.argc > 2) return monitor::error("usage: dmesg [n]");
  u64 n = 0;
  if (a.argc == 2 && (!monitor::parse_count(a.argv[1], &n) || n == 0))
    return monitor::error("invalid line count '%s' (a positive number)", a.argv[1]);
  const lib::LogRing& log = kernel::console::log();
  // The log up to this command: its own line (the prompt and the echo of `dmesg n`, the
  // newest line) is not one of the n.
  lib::LogRing::Cursor own = log.lines(1);
  lib::LogRing::Cursor c = log.lines(n == 0 ? 0 : static_cast<usize>(n) + 1);
  if (own.pos >= c.pos && own.pos <= c.end) c.end = own.pos;
  auto& out = monitor::out();
  if (monitor::json()) {
    dmesg_json(out, log, c);
    return 0;
  }
  char piece[256];
  char last = '\n';
  for (usize len; (len = log.next(&c, piece, sizeof piece)) != 0;) {
    out.write(piece, len);
    last = piece[len - 1];
  }
  if (last != '\n') out.write("\n", 1);  // output still being printed when we looked
  return 0;
}

}  // namespace

MONITOR_COMMAND(dmesg, "[n]", "the kernel log (or its last n lines), oldest first, as printed", cmd_dmesg, kNoKeywords,
                true,
                "Everything the console printed since the banner (echo and prompts included), kept in\n"
                "a ring of KCONFIG_LOG_BYTES bytes that drops the oldest lines; lines end in \\r\\n on\n"
                "the serial port as they did the first time. Works in the panic shell. The line of\n"
                "the dmesg command itself is not shown.\n"
                "  dmesg      the whole log\n"
                "  dmesg 20   its last 20 lines before this command",
                monitor::kJsonView);
