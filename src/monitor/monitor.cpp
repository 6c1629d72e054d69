#include "monitor/monitor.hpp"

#include "arch/cpu.hpp"
#include "arch/serial.hpp"
#include "arch/trap.hpp"
#include "arch/tsc.hpp"
#include "debug/gdb_stub.hpp"
#include "debug/panic.hpp"
#include "kernel/console.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/examine.hpp"
#include "monitor/line_editor.hpp"
#include "smp/percpu.hpp"

extern "C" const monitor::Command __monitor_cmds_start[], __monitor_cmds_end[];

namespace monitor {
namespace {

bool g_panic_shell;
// Where command output goes: the console, or gdb's `monitor` command's O packets while it
// runs one (one command at a time: they run on the one CPU that serves the shell).
lib::Sink* g_out;
bool g_stop_shell;         // at kstop>: the debugger holds the machine
bool g_leave_stop;         // set by `continue` / `step` to leave the stop shell
debug::ResumePlan g_plan;  // and what they chose
bool g_idle_at_prompt;     // the main loop waits for a key with an empty line
bool g_json;               // the running command was given -j
constexpr usize kMaxErrorText = 512;

usize command_count() { return static_cast<usize>(__monitor_cmds_end - __monitor_cmds_start); }

struct Invocation {
  const Command* cmd;
  const Args* args;
  int rc;
};

void invoke(void* p) {
  auto* inv = static_cast<Invocation*>(p);
  inv->rc = inv->cmd->handler(*inv->args);
}

// Runs one command line; false if it printed an error (or faulted).
bool execute(const char* text) {
  char line[kMaxLine + 1];
  usize n = lib::strnlen(text, kMaxLine);
  memcpy(line, text, n);
  line[n] = '\0';
  Args args{};
  TokError te = tokenize(line, &args);
  if (te != TokError::None) {
    print_error(out(), te);
    return false;
  }
  if (args.argc == 0) return true;
  LookupError le = LookupError::None;
  const Command* cmd = lookup(__monitor_cmds_start, command_count(), args.argv[0], &le);
  if (cmd == nullptr) {
    print_lookup_error(out(), __monitor_cmds_start, command_count(), args.argv[0], le);
    return false;
  }
  // `-j` right after the name: the JSON twin of a view. Taken out of the arguments, so
  // the handler parses the same ones in both forms.
  const bool want_json = args.argc >= 2 && lib::strcmp(args.argv[1], "-j") == 0;
  struct JsonScope {
    explicit JsonScope(bool on) { g_json = on; }
    ~JsonScope() { g_json = false; }
  } scope(want_json);
  if (want_json) {
    if (!cmd->json) {
      error("'%s' has no -j view (help lists the commands that take -j)", cmd->name);
      return false;
    }
    for (usize i = 1; i + 1 < args.argc; ++i) args.argv[i] = args.argv[i + 1];
    --args.argc;
  }
  if ((g_panic_shell || g_stop_shell) && !cmd->panic_safe) {
    error("'%s' is not available while the other CPUs are stopped (read-only commands only)", cmd->name);
    return false;
  }
  // A fault inside the command is reported by the exception handler, which then
  // resumes here (guard_resume) instead of panicking.
  smp::PerCpu* self = smp::this_cpu();
  Invocation inv{cmd, &args, 0};
  u64 flags = arch::read_rflags();
  self->guard_armed = true;
  int faulted = guarded_call(invoke, &inv, self->guard_buf);
  self->guard_armed = false;
  if (faulted) {
    if (flags & arch::kRflagsIf) arch::sti();
    error("'%s' was stopped by an exception (report above)", cmd->name);
    return false;
  }
  return inv.rc == 0;
}

TableCompleter* completer() {
  static TableCompleter c(__monitor_cmds_start, command_count());
  return &c;
}

// Between two polls of an idle serial port: a UART read is a port access, which an emulator
// serialises with its own I/O thread (QEMU's big lock), so polling flat out would slow the
// very bytes it waits for. 20 us is a fifth of a character time at 115200 baud.
constexpr u64 kIdlePollUs = 20;
void idle_wait() { arch::tsc::delay_us(kIdlePollUs); }

// The panicking CPU's frame, for gdb's stop reply in the panic shell.
const arch::TrapFrame* panic_frame() {
  smp::PerCpu* self = smp::this_cpu();
  return self->stopped_frame;
}

[[noreturn]] void loop(const char* prompt) {
  static LineEditor editor(kernel::console::sink(), completer());
  bool first_panic_turn = true;
  for (;;) {
    editor.start(prompt);
    for (;;) {
      if (g_panic_shell) {
        debug::gdb::serve_panic(panic_frame(), first_panic_turn);  // gdb, if one is attached
        first_panic_turn = false;
      }
      if (debug::gdb::owns_console()) {
        // The console's port carries gdb's packets (`gdb`): nothing to read here until gdb
        // detaches, then a fresh prompt.
        while (debug::gdb::owns_console()) idle_wait();
        lib::format(out(), "\ngdb detached: the monitor is back on %s\n", arch::serial::name(arch::serial::console()));
        break;
      }
      u8 b;
      if (!arch::serial::try_get(&b)) {
        g_idle_at_prompt = !g_panic_shell && editor.length() == 0;
        idle_wait();
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

lib::Sink& out() { return g_out != nullptr ? *g_out : kernel::console::sink(); }

bool run_command(const char* line, lib::Sink& to) {
  lib::Sink* before = g_out;
  g_out = &to;
  bool ok = execute(line);
  g_out = before;
  return ok;
}

int error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (g_json) {
    char text[kMaxErrorText];
    lib::BufSink msg(text, sizeof text);
    lib::vformat(msg, fmt, ap);
    lib::Json j(out());
    j.begin_object().key("error").str(msg.str(), msg.size()).end_object();
    (void)j.finish();  // complete by construction
  } else {
    lib::format(out(), "error: ");
    lib::vformat(out(), fmt, ap);
    lib::format(out(), "\n");
  }
  va_end(ap);
  return 1;
}

bool json() { return g_json; }

bool parse_address_arg(const char* s, u64* v) {
  if (!g_json) return parse_address(s, v, &out());
  ErrorLine e;
  if (parse_address(s, v, &e)) return true;
  error("%s", e.message());
  return false;
}

bool parse_count_arg(const char* s, u64* v) {
  if (!g_json) return parse_count(s, v, &out());
  ErrorLine e;
  if (parse_count(s, v, &e)) return true;
  error("%s", e.message());
  return false;
}

bool in_panic_shell() { return g_panic_shell || g_stop_shell; }
const Command* commands_begin() { return __monitor_cmds_start; }
const Command* commands_end() { return __monitor_cmds_end; }

[[noreturn]] void run() {
  debug::set_monitor_cpu(smp::this_cpu()->index);
  // Interrupts on: the gdb stub's poll timer (and cross-CPU calls) reach this CPU too.
  arch::sti();
  loop("kmon> ");
}

debug::ResumePlan stop_shell(const debug::StopInfo& why) {
  // Its own editor: the main loop's may hold a half-typed line on a stopped CPU.
  static LineEditor editor(kernel::console::sink(), completer());
  g_stop_shell = true;
  g_leave_stop = false;
  g_plan = debug::ResumePlan{};
  bool by_gdb = false, first = true;
  lib::format(out(), "stopped: read-only commands, bt, regs, x work here; 'continue' or 'step' goes on\n");
  while (!g_leave_stop) {
    editor.start("kstop> ");
    for (;;) {
      // gdb and kstop> share the stop: whichever resumes first decides, and the other is told.
      const char* what = nullptr;
      if (debug::gdb::serve_stop(why, first, &g_plan, &what)) {
        lib::format(out(), "\n%s: leaving kstop>\n", what);
        g_leave_stop = by_gdb = true;
        break;
      }
      first = false;
      u8 b;
      if (debug::gdb::owns_console() || !arch::serial::try_get(&b)) {
        idle_wait();
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
  if (!by_gdb && debug::gdb::attached()) {
    debug::gdb::monitor_resumed();
    lib::format(out(), "gdb is attached and believes the machine stopped: it is told when it next speaks\n");
  }
  // The main loop was waiting at an empty prompt on another CPU: show it again, since
  // the stop printed over it.
  if (g_plan.step_cpu == debug::kNoCpu && g_idle_at_prompt) lib::format(out(), "kmon> ");
  return g_plan;
}

bool in_stop_shell() { return g_stop_shell; }

void leave_stop_shell(const debug::ResumePlan& plan) {
  g_plan = plan;
  g_leave_stop = true;
}

[[noreturn]] void panic_shell() {
  g_panic_shell = true;
  lib::format(out(), "panic shell: read-only commands work here; 'help' lists them\n");
  loop("kpanic> ");
}

}  // namespace monitor
