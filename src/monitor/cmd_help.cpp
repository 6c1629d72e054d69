#include "lib/string.hpp"
#include "monitor/monitor.hpp"

namespace {
int cmd_help(const monitor::Args& a) {
  auto& out = monitor::out();
  const monitor::Command* b = monitor::commands_begin();
  usize n = static_cast<usize>(monitor::commands_end() - b);
  if (a.argc > 2) return monitor::error("usage: help [command]");
  if (a.argc == 2) {
    monitor::LookupError le;
    const monitor::Command* c = monitor::lookup(b, n, a.argv[1], &le);
    if (c == nullptr) {
      monitor::print_lookup_error(out, b, n, a.argv[1], le);
      return 1;
    }
    lib::format(out, "%s %s%s\n  %s%s\n", c->name, c->json ? "[-j] " : "", c->usage, c->summary,
                c->panic_safe ? "" : " (not in the panic shell)");
    if (c->help != nullptr) {
      // Each line of the long text indented under the summary.
      lib::format(out, "  ");
      for (const char* p = c->help; *p != '\0'; ++p) {
        out.put(*p);
        if (*p == '\n') lib::format(out, "  ");
      }
      lib::format(out, "\n");
    }
    return 0;
  }
  for (const monitor::Command* c = b; c != monitor::commands_end(); ++c) {
    if (monitor::in_panic_shell() && !c->panic_safe) continue;
    lib::format(out, "%-8s %-22s %s%s\n", c->name, c->usage, c->summary, c->json ? " (-j: JSON)" : "");
  }
  return 0;
}
const char* const kHelpKeywords[] = {nullptr};
const char kHelpHelp[] =
    "help: one line per command (name, arguments, summary); in the panic shell only the\n"
    "  read-only ones. help <command>: its usage, summary and this longer text. A unique\n"
    "  prefix names a command; x/... and xp/... name x and xp. Commands marked (-j: JSON)\n"
    "  print one JSON document on one line when -j follows their name (cpus -j).\n"
    "examples: help    help x    help wa";
}  // namespace

MONITOR_COMMAND(help, "[command]", "list commands, or describe one", cmd_help, kHelpKeywords, true, kHelpHelp);
