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

// Interrupts off while holding the console lock, so a cross-CPU call handler that
// prints cannot deadlock against the code it interrupted.
struct IrqLock {
  u64 flags;
  IrqLock() : flags(arch::read_rflags()) {
    arch::cli();
    g_lock.lock();
  }
  ~IrqLock() {
    g_lock.unlock();
    if (flags & arch::kRflagsIf) arch::sti();
  }
};

u64 g_locked_flags;

}  // namespace

lib::Sink& sink() { return g_sink; }

void vprintf(const char* fmt, va_list ap) {
  IrqLock l;
  lib::vformat(g_sink, fmt, ap);
}

void printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

void puts(const char* s) {
  IrqLock l;
  g_sink.write(s, lib::strlen(s));
}

Locked::Locked() {
  u64 f = arch::read_rflags();
  arch::cli();
  g_lock.lock();
  g_locked_flags = f;
}

Locked::~Locked() {
  u64 f = g_locked_flags;
  g_lock.unlock();
  if (f & arch::kRflagsIf) arch::sti();
}

void break_lock() { g_lock.force_unlock(); }

}  // namespace console
