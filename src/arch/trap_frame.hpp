// The register frame isr.asm builds on the stack for every interrupt and exception.
// isr.asm pushes in the reverse order of this struct; it reads every offset (TF_*) from
// asm_offsets.inc, generated from this struct (export/asm_offsets.cpp), and checks its
// push order against them.
#pragma once
#include "lib/bits.hpp"
#include "lib/types.hpp"

namespace arch {

struct TrapFrame {
  u64 r15, r14, r13, r12, r11, r10, r9, r8;
  u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
  u64 vector;
  u64 error_code;  // 0 for vectors without one
  // Pushed by the CPU (SDM Vol. 3A 6.14.1, Figure 6-9, 64-bit mode stack frame).
  u64 rip, cs, rflags, rsp, ss;
};

// The shape the CPU's frame imposes: 15 saved registers, the vector and error code the
// stubs push, then what the CPU pushed.
constexpr usize kTrapFrameVectorOffset = 15 * 8;
constexpr usize kTrapFrameSize = 22 * 8;
static_assert(__builtin_offsetof(TrapFrame, vector) == kTrapFrameVectorOffset);
static_assert(__builtin_offsetof(TrapFrame, rip) == 17 * 8);
static_assert(sizeof(TrapFrame) == kTrapFrameSize);

// Vectors (SDM Vol. 3A 6.3.1, Table 6-1) and the ones this kernel assigns.
namespace vec {
constexpr u8 kDivide = 0, kDebug = 1, kNmi = 2, kBreakpoint = 3, kInvalidOpcode = 6;
constexpr u8 kDoubleFault = 8, kGeneralProtection = 13, kPageFault = 14, kMachineCheck = 18;
constexpr u8 kCrossCall = 0xf0;  // cross-CPU function call
constexpr u8 kApicTimer = 0xf1;
constexpr u8 kTlbFlush = 0xf2;  // reload CR3 (broadcast after page-table changes)
constexpr u8 kWake = 0xf3;      // wakes a CPU the debugger holds in hlt (debug/stop.cpp)
constexpr u8 kApicError = 0xfe;
constexpr u8 kSpurious = 0xff;  // SVR low byte; low nibble must be all ones on old APICs
}  // namespace vec

const char* exception_name(u64 vector);

// Page-fault error code (SDM Vol. 3A 4.7, Figure 4-12).
namespace pf {
inline constexpr lib::Bit kPresent{u64{1} << 0};      // P: 0 not-present page, 1 protection violation
inline constexpr lib::Bit kWrite{u64{1} << 1};        // W/R: the access was a write
inline constexpr lib::Bit kUser{u64{1} << 2};         // U/S: user-mode access
inline constexpr lib::Bit kReservedBit{u64{1} << 3};  // RSVD: a reserved bit was set in an entry
inline constexpr lib::Bit kFetch{u64{1} << 4};        // I/D: instruction fetch
}  // namespace pf

}  // namespace arch
