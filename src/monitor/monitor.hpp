// The serial debug monitor: the prompt loop, the command table (each command registers
// itself with MONITOR_COMMAND in its own file; the linker gathers them in .monitor_cmds,
// sorted by name), and the panic shell.
#pragma once
#include "debug/stop.hpp"
#include "lib/fmt.hpp"
#include "monitor/cpu_arg.hpp"  // parse_cpu: every command with a CPU argument
#include "monitor/parse.hpp"

namespace monitor {

lib::Sink& out();
// Runs one command line with every line of its output going to `to` (gdb's `monitor`):
// false if it printed an error. In the stop and panic shells only read-only commands run.
bool run_command(const char* line, lib::Sink& to);
// Prints "error: <message>\n"; under `-j`, {"error":"<message>"} on one line instead.
// Returns 1, for `return error(...)` from a handler.
__attribute__((format(printf, 1, 2))) int error(const char* fmt, ...);
// The command running now was given `-j` (only commands registered with kJsonView are):
// it prints one JSON document on one line (lib::Json) and nothing else, and checks its
// arguments before it writes anything, so an error is still a single line.
bool json();
// parse_address / parse_count for a command's argument: on failure their own error line,
// or under -j that line's message as the one {"error":...} document.
[[nodiscard]] bool parse_address_arg(const char* s, u64* v);
[[nodiscard]] bool parse_count_arg(const char* s, u64* v);
// True in the panic shell and in the debugger's stop shell: the other CPUs are stopped,
// so commands read what they saved instead of asking them.
bool in_panic_shell();
bool in_stop_shell();
// The debugger's stop shell (kstop>): runs until `continue` or `step`.
debug::ResumePlan stop_shell(const debug::StopInfo& why);
// `continue` / `step` at kstop>: the shell returns this plan.
void leave_stop_shell(const debug::ResumePlan& plan);
const Command* commands_begin();
const Command* commands_end();

[[noreturn]] void run();
[[noreturn]] void panic_shell();

}  // namespace monitor

#define MONITOR_CAT2(a, b) a##b
#define MONITOR_CAT(a, b) MONITOR_CAT2(a, b)
// MONITOR_COMMAND(name, usage, summary, handler, keywords, panic_safe)
#define MONITOR_COMMAND(name, ...)                                                                         \
  [[gnu::used, gnu::section(".monitor_cmds." #name), gnu::aligned(8)]] const monitor::Command MONITOR_CAT( \
      kMonitorCommand_, name) = {#name, __VA_ARGS__}
