// Constants of the GDB Remote Serial Protocol as this stub uses them, shared by the
// framing, the register file and the session. Sizes are compile-time: the stub allocates
// nothing, every buffer is a fixed array sized from these.
#pragma once
#include "lib/types.hpp"

namespace gdbstub {

// The largest packet we accept and build, the PacketSize we offer in qSupported (RSP
// "General Query Packets", qSupported: gdb then never sends a packet longer than this,
// '$', '#' and checksum included). A reply payload is at most this long too, so a
// framed reply is at most kMaxPacketSize + kFrameOverhead bytes. QEMU's stub uses the
// same 4 KiB; at 115200 baud it is 0.36 s of line time.
constexpr usize kMaxPacketSize = 4096;
// The smallest packet size a Session may be configured with: a whole 'g' reply (every
// register as hex) must fit one packet.
constexpr usize kMinPacketSize = 1280;
// '$' before the payload, '#' and two checksum digits after it.
constexpr usize kFrameOverhead = 4;

// Thread ids as gdb sees them: CPU index + 1. RSP "Packets", thread-id: 0 means any
// thread and -1 all threads; both are kept as these two values.
using ThreadId = u32;
constexpr ThreadId kAnyThread = 0;
constexpr ThreadId kAllThreads = 0xffffffffU;

// gdb's own signal numbers (include/gdb/signals.def), not the host's.
constexpr u8 kSigInt = 2;   // T02: stopped because gdb sent an interrupt (0x03)
constexpr u8 kSigTrap = 5;  // T05: breakpoint, watchpoint, single step, attach

}  // namespace gdbstub
