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

// A line longer than this comes out of dmesg -j as several strings, in order (the text
// form has no limit: it prints the ring's pieces as they come).
constexpr usize kJsonLineBytes = 1024;

// dmesg -j: {"lines":[...]}, each line as printed without its "\r\n". A line whose rest
// was overwritten while it was read is dropped, not cut (the ring's resyncs).
void dmesg_json(lib::Sink& out, const lib::LogRing& log, lib::LogRing::Cursor c) {
  lib::Json j(out);
  j.begin_object().key("lines").begin_array();
  char line[kJsonLineBytes];
  usize len = 0;
  auto flush = [&] {
    usize n = len;
    if (n > 0 && line[n - 1] == '\r') --n;
    j.str(line, n);
    len = 0;
  };
  char piece[256];
  for (;;) {
    const u64 resyncs = c.resyncs;
    const usize got = log.next(&c, piece, sizeof piece);
    if (got == 0) break;
    if (c.resyncs != resyncs) len = 0;  // the held start of a line was overwritten
    for (usize i = 0; i < got; ++i) {
      if (piece[i] == '\n') {
        flush();
        continue;
      }
      if (len == sizeof line) flush();
      line[len++] = piece[i];
    }
  }
  if (len != 0) flush();  // output still being printed when we looked
  j.end_array().end_object();
  (void)j.finish();
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
