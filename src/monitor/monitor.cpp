#include "monitor/monitor.hpp"

#include "arch/cpu.hpp"
#include "arch/serial.hpp"
#include "arch/trap.hpp"
#include "debug/panic.hpp"
#include "kernel/console.hpp"
#include "lib/string.hpp"
#include "monitor/line_editor.hpp"
#include "smp/percpu.hpp"

extern "C" const monitor::Command __monitor_cmds_start[], __monitor_cmds_end[];

namespace monitor {
namespace {

bool g_panic_shell;
bool g_stop_shell;       // at kstop>: the debugger holds the machine
int g_stop_action = -1;  // set by `continue` / `step` to leave the stop shell
bool g_idle_at_prompt;   // the main loop waits for a key with an empty line

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
  if ((g_panic_shell || g_stop_shell) && !cmd->panic_safe) {
    error("'%s' is not available while the other CPUs are stopped (read-only commands only)", cmd->name);
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
  static LineEditor editor(kernel::console::sink(), completer());
  for (;;) {
    editor.start(prompt);
    for (;;) {
      u8 b;
      if (!arch::serial::try_get(&b)) {
        g_idle_at_prompt = !g_panic_shell && editor.length() == 0;
        arch::pause();
        continue;
      }
      g_idle_at_prompt = false;
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

lib::Sink& out() { return kernel::console::sink(); }

int error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lib::format(out(), "error: ");
  lib::vformat(out(), fmt, ap);
  lib::format(out(), "\n");
  va_end(ap);
  return 1;
}

bool in_panic_shell() { return g_panic_shell || g_stop_shell; }
const Command* commands_begin() { return __monitor_cmds_start; }
const Command* commands_end() { return __monitor_cmds_end; }

[[noreturn]] void run() {
  debug::set_monitor_cpu(smp::this_cpu()->index);
  loop("kmon> ");
}

debug::StopAction stop_shell() {
  // Its own editor: the main loop's may hold a half-typed line on a stopped CPU.
  static LineEditor editor(kernel::console::sink(), completer());
  g_stop_shell = true;
  g_stop_action = -1;
  lib::format(out(), "stopped: read-only commands, bt, regs, x work here; 'continue' or 'step' goes on\n");
  while (g_stop_action < 0) {
    editor.start("kstop> ");
    for (;;) {
      u8 b;
      if (!arch::serial::try_get(&b)) {
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
  g_stop_shell = false;
  auto a = static_cast<debug::StopAction>(g_stop_action);
  // The main loop was waiting at an empty prompt on another CPU: show it again, since
  // the stop printed over it.
  if (a == debug::StopAction::Continue && g_idle_at_prompt) lib::format(out(), "kmon> ");
  return a;
}

bool in_stop_shell() { return g_stop_shell; }

bool parse_running_cpu(const char* s, u64* index, const char* what) {
  if (!lib::parse_u64(s, index) || *index >= smp::g_cpu_count) {
    error("no cpu '%s' (a decimal index below %lu; see cpus)", s, smp::g_cpu_count);
    return false;
  }
  smp::PerCpu* p = smp::cpu(*index);
  if (p == nullptr || (p->state != smp::CpuState::Online && p != smp::this_cpu())) {
    error("cpu %lu is %s", *index, smp::cpu_state_name(p != nullptr ? p->state : smp::g_cpus[*index].state));
    return false;
  }
  if (in_panic_shell() && p != smp::this_cpu()) {
    error("cpu %lu is stopped (panic shell): only this cpu, %lu, %s", *index, smp::this_cpu()->index, what);
    return false;
  }
  return true;
}
void leave_stop_shell(debug::StopAction a) { g_stop_action = static_cast<int>(a); }

[[noreturn]] void panic_shell() {
  g_panic_shell = true;
  lib::format(out(), "panic shell: read-only commands work here; 'help' lists them\n");
  loop("kpanic> ");
}

}  // namespace monitor
