#include "arch/idt.hpp"

#include "arch/gdt.hpp"
#include "arch/trap_frame.hpp"
#include "lib/boot_code.hpp"

extern "C" const u64 isr_stub_table[];

namespace arch {
namespace {

struct __attribute__((packed)) Gate {  // SDM Vol. 3A 6.14.1, Figure 6-8
  u16 offset_low;
  u16 selector;
  u8 ist;
  u8 type_attr;
  u16 offset_mid;
  u32 offset_high;
  u32 reserved;
};
static_assert(sizeof(Gate) == 16);

constexpr u8 kInterruptGate = 0x8e;  // present, DPL 0, 64-bit interrupt gate (IF cleared)

alignas(16) Gate g_idt[256];

void set_gate(u8 vector, u64 handler, u8 ist) {
  g_idt[vector] = Gate{static_cast<u16>(handler),
                       sel::kKernelCode,
                       ist,
                       kInterruptGate,
                       static_cast<u16>(handler >> 16),
                       static_cast<u32>(handler >> 32),
                       0};
}

// IST assignment: #DF must not use the stack it faulted on (a kernel stack overflow
// ends there), NMI and #MC can arrive at any instruction, including mid-stack-switch.
u8 ist_for(u8 vector) {
  switch (vector) {
    case vec::kDoubleFault: return 1;
    case vec::kNmi: return 2;
    case vec::kMachineCheck: return 3;
    default: return 0;
  }
}

}  // namespace

BOOT_CODE void idt_init() {
  for (u8 v = 0; v < 32; ++v) set_gate(v, isr_stub_table[v], ist_for(v));
  set_gate(vec::kCrossCall, isr_stub_table[32], 0);
  set_gate(vec::kApicTimer, isr_stub_table[33], 0);
  set_gate(vec::kTlbFlush, isr_stub_table[34], 0);
  set_gate(vec::kApicError, isr_stub_table[35], 0);
  set_gate(vec::kSpurious, isr_stub_table[36], 0);
  set_gate(vec::kWake, isr_stub_table[37], 0);
}

void idt_load() {
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } p{sizeof(g_idt) - 1, reinterpret_cast<u64>(g_idt)};
  asm volatile("lidt %0" : : "m"(p));
}

}  // namespace arch
