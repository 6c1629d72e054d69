// gdb: the kernel's gdb stub (debug/gdb_stub) from the monitor, DDB style: with no
// argument the stub takes the monitor's own serial port (for a board with one line) and
// the machine waits there for gdb; gdb's `detach` gives the port and the prompt back.
// `gdb status` says where the stub listens.
#include "arch/serial.hpp"
#include "debug/gdb_stub.hpp"
#include "debug/stop.hpp"
#include "lib/string.hpp"
#include "monitor/monitor.hpp"

namespace {

const char* const kGdbKeywords[] = {"status", nullptr};

int cmd_gdb(const monitor::Args& a) {
  if (a.argc > 2 || (a.argc == 2 && !lib::streq(a.argv[1], "status"))) return monitor::error("usage: gdb [status]");
  if (a.argc == 2) {
    debug::gdb::describe(monitor::out());
    return 0;
  }
  if (monitor::in_panic_shell())
    return monitor::error("the machine is stopped: gdb attaches on the stub's own port (gdb status)");
  const char* port = arch::serial::name(arch::serial::console());
  lib::format(monitor::out(),
              "gdb: the stub takes %s now and the machine stops; connect gdb to this line "
              "(target remote <this serial line>); gdb's detach gives the prompt back\n",
              port);
  if (const char* why = debug::gdb::take_console()) return monitor::error("%s", why);
  debug::stop_here("gdb: waiting for gdb on the console's port");
  return 0;
}

const char kGdbHelp[] =
    "Hands this serial port (the monitor's) to the kernel's gdb stub, for a board with one\n"
    "line: the machine stops, gdb attaches on this port (115200 8N1), and gdb's `detach`\n"
    "gives the kmon> prompt back here. Meanwhile console output goes only to the log\n"
    "(dmesg). The stub also listens on its own port (debug.gdb=com2 by default).\n"
    "  gdb           hand this port over\n"
    "  gdb status    where the stub listens, whether gdb is attached";

}  // namespace

MONITOR_COMMAND(gdb, "[status]", "hand this serial port to the gdb stub until gdb detaches", cmd_gdb, kGdbKeywords,
                false, kGdbHelp);
