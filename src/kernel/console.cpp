#include "kernel/console.hpp"

#include "arch/cpu.hpp"
#include "arch/serial.hpp"
#include "config.hpp"
#include "lib/spinlock.hpp"
#include "lib/string.hpp"

namespace kernel::console {
namespace {

alignas(64) char g_log_bytes[config::kLogBytes];

}  // namespace

// Not in the anonymous namespace: gdb's kdmesg finds it by name.
constinit lib::LogRing g_log(g_log_bytes, sizeof g_log_bytes);

namespace {

bool g_uart_on = true;

class SerialSink final : public lib::Sink {
 public:
  // "\n" becomes "\r\n"; a "\r\n" that the writer already spelled out (the line editor
  // does) stays as it is. Every byte also goes to the kernel log, with "\n" line ends:
  // a "\r" is held back until the next byte shows it does not start a "\r\n".
  void write(const char* s, usize n) override {
    char log[128];
    usize m = 0;
    for (usize i = 0; i < n; ++i) {
      char c = s[i];
      if (g_uart_on) {
        if (c == '\n' && last_ != '\r') arch::serial::put_raw('\r');
        arch::serial::put_raw(c);
      }
      last_ = c;
      if (cr_pending_) {
        cr_pending_ = false;
        if (c != '\n') log[m++] = '\r';
      }
      if (c == '\r')
        cr_pending_ = true;
      else
        log[m++] = c;
      if (m >= sizeof log - 1) {
        g_log.append(log, m);
        m = 0;
      }
    }
    if (m != 0) g_log.append(log, m);
  }

 private:
  char last_ = 0;
  bool cr_pending_ = false;
};

SerialSink g_sink;
lib::OwnerLock g_lock;

// The calling CPU's token for g_lock: its GS base (its per-CPU pointer once it has a slot;
// the BSP before that has 0, and runs alone).
u64 me() {
  u64 gs = arch::rdmsr(arch::msr::kGsBase);
  return gs != 0 ? gs : 1;
}

}  // namespace

lib::Sink& sink() { return g_sink; }
const lib::LogRing& log() { return g_log; }

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
  (void)g_lock.lock(me());  // unbounded: only one line is printed at a time
}

Locked::~Locked() {
  g_lock.unlock();
  if (flags_ & arch::kRflagsIf) arch::sti();
}

void break_lock() { g_lock.force_unlock(); }
void set_uart_output(bool on) { g_uart_on = on; }

// The holder's token is kept and given back: the interrupted holder's own unlock pairs up.
u64 g_stolen_from;

bool steal_lock() {
  g_stolen_from = g_lock.owner();
  g_lock.force_unlock();
  return g_stolen_from != 0;
}

void return_lock(bool held) {
  if (held) (void)g_lock.lock(g_stolen_from, 0);
}

}  // namespace kernel::console
