#include "lib/console.hpp"

#include "arch/cpu.hpp"
#include "arch/serial.hpp"
#include "lib/spinlock.hpp"
#include "lib/string.hpp"

namespace console {
namespace {

class SerialSink final : public lib::Sink {
 public:
  // "\n" becomes "\r\n"; a "\r\n" that the writer already spelled out (the line editor
  // does) stays as it is.
  void write(const char* s, usize n) override {
    for (usize i = 0; i < n; ++i) {
      if (s[i] == '\n' && last_ != '\r') serial::put_raw('\r');
      serial::put_raw(s[i]);
      last_ = s[i];
    }
  }

 private:
  char last_ = 0;
};

SerialSink g_sink;
lib::Spinlock g_lock;

}  // namespace

lib::Sink& sink() { return g_sink; }

void vprintf(const char* fmt, va_list ap) {
  Locked l;
  lib::vformat(g_sink, fmt, ap);
}

void printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

void puts(const char* s) {
  Locked l;
  g_sink.write(s, lib::strlen(s));
}

// Interrupts off while holding the console lock, so a cross-CPU call handler that
// prints cannot deadlock against the code it interrupted.
Locked::Locked() : flags_(arch::read_rflags()) {
  arch::cli();
  g_lock.lock();
}

Locked::~Locked() {
  g_lock.unlock();
  if (flags_ & arch::kRflagsIf) arch::sti();
}

void break_lock() { g_lock.force_unlock(); }

}  // namespace console
