// dmesg: the kernel log (kernel/console's ring, lib/log_ring), oldest first, each line
// as it went out on the serial port. Its own output goes into the same ring while it
// reads; the reader copies a piece before printing it, so what it prints overwrites
// only what it has already read.
#include "kernel/console.hpp"
#include "lib/string.hpp"
#include "monitor/monitor.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};

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
                "  dmesg 20   its last 20 lines before this command");
