// libFuzzer target: arbitrary serial input into a LineEditor with a completer.
// Checks the invariants the monitor relies on: the line stays NUL-terminated,
// printable and within kMaxLine, the cursor within it, the history bounded and
// made of non-empty printable lines; the sanitizers catch any overflow.
#include <stddef.h>
#include <stdint.h>

#include "lib/string.hpp"
#include "monitor/line_editor.hpp"
#include "monitor/parse.hpp"

namespace {

// Discards output but checks that what the editor writes is bounded per byte fed:
// even a completion listing is at most a few KB.
class NullSink final : public lib::Sink {
 public:
  void write(const char*, usize n) override { written += n; }
  usize written = 0;
};

int noop(const monitor::Args&) { return 0; }
const char* const kKw[] = {"all", "a", "al", "0", "1", nullptr};
const monitor::Command kTable[] = {
    {"help", "", "", noop, nullptr, true},    {"halt", "", "", noop, nullptr, true},
    {"percpu", "", "", noop, kKw, true},      {"pml4", "", "", noop, nullptr, true},
    {"physmap", "", "", noop, nullptr, true}, {"phys", "", "", noop, kKw, true},
    {"x", "", "", noop, nullptr, true},       {"xx", "", "", noop, nullptr, true},
};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_line(const char* s, usize max) {
  usize n = lib::strnlen(s, max + 1);
  check(n <= max);
  for (usize i = 0; i < n; ++i) check(s[i] >= 0x20 && s[i] <= 0x7e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  NullSink out;
  monitor::TableCompleter comp(kTable, sizeof kTable / sizeof kTable[0]);
  monitor::LineEditor ed(out, &comp);
  ed.start("kmon> ");
  for (size_t i = 0; i < size; ++i) {
    usize before = out.written;
    monitor::LineEditor::Result r = ed.feed(data[i]);
    check(out.written - before <= 8192);
    check_line(ed.line(), monitor::kMaxLine);
    check(lib::strlen(ed.line()) == ed.length());
    check(ed.cursor() <= ed.length());
    if (r == monitor::LineEditor::Result::Line) {
      // What the monitor does next: tokenize a copy and look the command up.
      char copy[monitor::kMaxLine + 1];
      memcpy(copy, ed.line(), ed.length() + 1);
      monitor::Args args;
      if (monitor::tokenize(copy, &args) == monitor::TokError::None) {
        check(args.argc <= monitor::kMaxArgs);
        if (args.argc > 0) {
          monitor::LookupError err;
          monitor::lookup(kTable, sizeof kTable / sizeof kTable[0], args.argv[0], &err);
        }
      }
    }
    if (r != monitor::LineEditor::Result::None) ed.start("kmon> ");
  }
  check(ed.history_size() <= monitor::LineEditor::kHistory);
  for (usize i = 0; i < ed.history_size(); ++i) {
    const char* h = ed.history_at(i);
    check(h != nullptr && h[0] != '\0');
    check_line(h, monitor::kMaxLine);
  }
  check(ed.history_at(ed.history_size()) == nullptr);
  return 0;
}
