// The two legacy 8259A interrupt controllers of the PC/AT (Intel 8259A data sheet, order
// no. 231468), which the kernel does not use: every interrupt it takes comes through the
// local APIC. Firmware leaves them as the BIOS uses them, the master's IRQ0-7 at vectors
// 0x08-0x0f, the exception vectors of protected mode. The local APIC's LINT0 (virtual-wire
// mode) is masked, which keeps them out on real hardware, but not every model of the
// machine gates them there: Bochs 2.7 delivers the master's INTR to the BSP whatever LINT0
// says, so the PIT's IRQ0 arrived as a "#DF" with no error code once the monitor enabled
// interrupts. So they are reprogrammed to vectors 0x20-0x2f, clear of the exceptions, with
// every line masked.
#pragma once
#include "lib/types.hpp"

namespace arch::pic8259 {

// I/O ports of the PC/AT wiring: each chip's command and data (interrupt mask) port.
constexpr u16 kMasterCommand = 0x20;
constexpr u16 kMasterData = 0x21;
constexpr u16 kSlaveCommand = 0xa0;
constexpr u16 kSlaveData = 0xa1;
// The vectors the remapped chips would use (never delivered: all lines masked).
constexpr u8 kMasterBase = 0x20;
constexpr u8 kSlaveBase = 0x28;

// Remaps both chips to kMasterBase/kSlaveBase and masks every line. Harmless on a machine
// without them (ports nobody decodes); call before interrupts are first enabled.
void disable();

}  // namespace arch::pic8259
