// The kernel console: formatted output to COM1, "\n" becomes "\r\n" (the contract's
// line ending). Output from several CPUs is serialised line by line.
#pragma once
#include "lib/fmt.hpp"
#include "lib/log_ring.hpp"

namespace kernel::console {

// A Sink that writes to the serial port with newline translation. Holding it does not
// take the console lock; use Locked for multi-line output that must stay together.
lib::Sink& sink();
// The kernel log: every byte sink() sent, from the first, with "\n" line ends (`dmesg`).
const lib::LogRing& log();

__attribute__((format(printf, 1, 2))) void printf(const char* fmt, ...);
void vprintf(const char* fmt, va_list ap);
void puts(const char* s);

// Takes the console lock for the scope (re-entrant per CPU is not supported).
class Locked {
 public:
  Locked();
  ~Locked();
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

 private:
  u64 flags_;  // RFLAGS on entry: interrupts come back on only if they were on
};

// Whether console output reaches the serial port (it always reaches the log): off while
// the gdb stub has the console's port (the monitor's `gdb` command).
void set_uart_output(bool on);

// After a panic has stopped the other CPUs: take over the console even if a stopped
// CPU held its lock.
void break_lock();
// While the debugger has every other CPU stopped (debug/stop.cpp): take the console over
// whoever held its lock (returns whether someone did), and give it back on resume so the
// interrupted holder's own unlock still pairs up.
bool steal_lock();
void return_lock(bool held);

}  // namespace kernel::console
