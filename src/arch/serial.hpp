// The serial ports, polled, 115200 8N1 (the contract's console). COM1 is set up first
// thing in kernel_main so that every later failure can be read; the console then moves
// to the port `console=` names if a UART answers there (probe()).
#pragma once
#include "lib/types.hpp"

namespace arch::serial {

// A 16550 at `base` (arch::uart::kCom1, kCom2): initialise, probe, write, read.
void init(u16 base);
// True if a UART answers at base: its scratch register keeps what is written to it, and in
// loopback mode a byte sent comes back. Leaves the port as it found it (MCR restored); a
// port with nothing behind it reads 0xff and fails at once, never hangs.
bool probe(u16 base);
void put(u16 base, char c);       // bounded wait for the transmitter: a dead UART cannot hang
bool try_get(u16 base, u8* out);  // non-blocking read of one received byte
bool data_ready(u16 base);        // a received byte is waiting (LSR.DR)
const char* name(u16 base);       // "COM1", "COM2", or "0x<base>"

// The console port (COM1 until boot moves it): what the kernel console writes and the
// monitor reads.
void set_console(u16 base);
u16 console();
void put_raw(char c);   // to the console: no newline translation, no lock
bool try_get(u8* out);  // from the console

}  // namespace arch::serial
