// The serial ports a boot uses: the monitor's console (`console=com1|com2`, default COM1)
// and the gdb stub's (`debug.gdb=com2|com1|off`, default COM2, never the console's), each
// probed for a UART (arch::serial::probe) before it is used.
#pragma once
#include "lib/types.hpp"

namespace boot {

struct SerialPorts {
  u16 console;         // the monitor's port, initialised and made the console
  u16 gdb;             // the stub's port, initialised; 0 when there is no stub
  char gdb_note[160];  // the boot report's line about the stub (why there is none, or where it is)
};

// Reads the options, probes and initialises the ports, moves the console if asked (saying
// so on the port it leaves), and falls back to the other port when the chosen one has no
// UART (saying so on the one it uses). Runs before the banner.
SerialPorts choose_serial_ports(const char* cmdline);

}  // namespace boot
