#include "boot/ports.hpp"

#include "arch/serial.hpp"
#include "arch/uart_regs.hpp"
#include "boot/multiboot2.hpp"
#include "kernel/console.hpp"
#include "lib/boot_code.hpp"
#include "lib/fmt.hpp"
#include "lib/string.hpp"

namespace boot {
namespace {

constexpr u16 other(u16 port) { return port == arch::uart::kCom1 ? arch::uart::kCom2 : arch::uart::kCom1; }

// com1 / com2 as a port; 0 for anything else.
BOOT_CODE u16 port_named(const char* v) {
  if (lib::streq(v, "com1")) return arch::uart::kCom1;
  if (lib::streq(v, "com2")) return arch::uart::kCom2;
  return 0;
}

}  // namespace

BOOT_CODE SerialPorts choose_serial_ports(const char* cmdline) {
  SerialPorts p{};
  using arch::serial::name;
  char val[32];
  // The console. COM1 is set up already (kernel_main's first call), so whatever is said
  // here before the move is said there.
  u16 want = arch::uart::kCom1;
  if (cmdline_option(cmdline, "console", val, sizeof val)) {
    want = port_named(val);
    if (want == 0) {
      kernel::console::printf("kmon: console=%s: not com1 or com2; the console is on COM1\n", val);
      want = arch::uart::kCom1;
    }
  }
  bool present[2] = {arch::serial::probe(arch::uart::kCom1), arch::serial::probe(arch::uart::kCom2)};
  auto has = [&](u16 port) { return present[port == arch::uart::kCom1 ? 0 : 1]; };
  u16 use = want;
  if (!has(want) && has(other(want))) use = other(want);
  if (use != arch::uart::kCom1) {
    kernel::console::printf("kmon: the console moves to %s (0x%x)%s\n", name(use), use,
                            want == use ? "" : ": nothing answers on COM1");
    arch::serial::init(use);
    arch::serial::set_console(use);
  }
  if (use != want)
    kernel::console::printf("kmon: console=%s: no UART answers at %s (0x%x); the console is on %s\n",
                            want == arch::uart::kCom1 ? "com1" : "com2", name(want), want, name(use));
  p.console = use;

  // The stub: never on the console's port (the monitor's `gdb` command hands that one over
  // on purpose).
  u16 stub = arch::uart::kCom2;
  bool asked = cmdline_option(cmdline, "debug.gdb", val, sizeof val);
  if (asked && lib::streq(val, "off")) {
    lib::snformat(p.gdb_note, sizeof p.gdb_note, "stub off (debug.gdb=off)");
    return p;
  }
  if (asked) {
    stub = port_named(val);
    if (stub == 0) {
      lib::snformat(p.gdb_note, sizeof p.gdb_note, "debug.gdb=%s: not com1, com2 or off; stub off", val);
      return p;
    }
  }
  const char* moved = "";
  if (stub == use) {
    stub = other(use);
    moved = asked ? " (the port asked for is the monitor's)" : " (COM2 is the monitor's)";
  }
  if (!has(stub)) {
    lib::snformat(p.gdb_note, sizeof p.gdb_note, "no UART at %s (0x%x)%s: stub off ('gdb' hands it %s)", name(stub),
                  stub, moved, name(use));
    return p;
  }
  arch::serial::init(stub);
  p.gdb = stub;
  lib::snformat(p.gdb_note, sizeof p.gdb_note, "stub on %s (0x%x)%s, 115200 8N1", name(stub), stub, moved);
  return p;
}

}  // namespace boot
