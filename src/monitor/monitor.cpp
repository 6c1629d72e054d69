#include "monitor/monitor.hpp"

#include "arch/cpu.hpp"
#include "arch/serial.hpp"
#include "arch/trap.hpp"
#include "lib/console.hpp"
#include "lib/string.hpp"
#include "monitor/line_editor.hpp"
#include "smp/percpu.hpp"

extern "C" const monitor::Command __monitor_cmds_start[], __monitor_cmds_end[];

namespace monitor {
namespace {

bool g_panic_shell;

usize command_count() { return static_cast<usize>(__monitor_cmds_end - __monitor_cmds_start); }

struct Invocation {
  const Command* cmd;
  const Args* args;
};

void invoke(void* p) {
  auto* inv = static_cast<Invocation*>(p);
  inv->cmd->handler(*inv->args);
}

void execute(const char* text) {
  char line[kMaxLine + 1];
  usize n = lib::strnlen(text, kMaxLine);
  memcpy(line, text, n);
  line[n] = '\0';
  Args args{};
  TokError te = tokenize(line, &args);
  if (te != TokError::None) {
    print_error(out(), te);
    return;
  }
  if (args.argc == 0) return;
  LookupError le = LookupError::None;
  const Command* cmd = lookup(__monitor_cmds_start, command_count(), args.argv[0], &le);
  if (cmd == nullptr) {
    print_lookup_error(out(), __monitor_cmds_start, command_count(), args.argv[0], le);
    return;
  }
  if (g_panic_shell && !cmd->panic_safe) {
    error("'%s' is not available in the panic shell (read-only commands only)", cmd->name);
    return;
  }
  // A fault inside the command is reported by the exception handler, which then
  // resumes here (guard_resume) instead of panicking.
  smp::PerCpu* self = smp::this_cpu();
  Invocation inv{cmd, &args};
  u64 flags = arch::read_rflags();
  self->guard_armed = true;
  int faulted = guarded_call(invoke, &inv, self->guard_buf);
  self->guard_armed = false;
  if (faulted) {
    if (flags & arch::kRflagsIf) arch::sti();
    error("'%s' was stopped by an exception (report above)", cmd->name);
  }
}

TableCompleter* completer() {
  static TableCompleter c(__monitor_cmds_start, command_count());
  return &c;
}

[[noreturn]] void loop(const char* prompt) {
  static LineEditor editor(console::sink(), completer());
  for (;;) {
    editor.start(prompt);
    for (;;) {
      u8 b;
      if (!serial::try_get(&b)) {
        arch::pause();
        continue;
      }
      LineEditor::Result r = editor.feed(b);
      if (r == LineEditor::Result::Line) {
        execute(editor.line());
        break;
      }
      if (r == LineEditor::Result::Cancel) break;
    }
  }
}

}  // namespace

lib::Sink& out() { return console::sink(); }

int error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lib::format(out(), "error: ");
  lib::vformat(out(), fmt, ap);
  lib::format(out(), "\n");
  va_end(ap);
  return 1;
}

bool in_panic_shell() { return g_panic_shell; }
const Command* commands_begin() { return __monitor_cmds_start; }
const Command* commands_end() { return __monitor_cmds_end; }

[[noreturn]] void run() { loop("kmon> "); }

[[noreturn]] void panic_shell() {
  g_panic_shell = true;
  lib::format(out(), "panic shell: read-only commands work here; 'help' lists them\n");
  loop("kpanic> ");
}

}  // namespace monitor
