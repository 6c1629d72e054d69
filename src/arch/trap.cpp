#include "arch/trap.hpp"

#include "arch/cpu.hpp"
#include "arch/lapic.hpp"
#include "arch/serial.hpp"

namespace arch {
namespace {

TrapHandler g_handlers[256];
TrapHandler g_exception_handler;
void (*g_account)(u64 vector);

const char* const kNames[32] = {"#DE divide error",
                                "#DB debug",
                                "NMI",
                                "#BP breakpoint",
                                "#OF overflow",
                                "#BR bound range",
                                "#UD invalid opcode",
                                "#NM device not available",
                                "#DF double fault",
                                "coprocessor overrun",
                                "#TS invalid TSS",
                                "#NP segment not present",
                                "#SS stack fault",
                                "#GP general protection",
                                "#PF page fault",
                                "reserved 15",
                                "#MF x87 error",
                                "#AC alignment check",
                                "#MC machine check",
                                "#XM SIMD error",
                                "#VE virtualization",
                                "#CP control protection",
                                "reserved 22",
                                "reserved 23",
                                "reserved 24",
                                "reserved 25",
                                "reserved 26",
                                "reserved 27",
                                "#HV hypervisor injection",
                                "#VC VMM communication",
                                "#SX security",
                                "reserved 31"};

}  // namespace

const char* exception_name(u64 vector) { return vector < 32 ? kNames[vector] : "interrupt"; }

void set_trap_handler(u8 vector, TrapHandler h) { g_handlers[vector] = h; }
void set_exception_handler(TrapHandler h) { g_exception_handler = h; }
void set_trap_accounting(void (*count)(u64 vector)) { g_account = count; }

}  // namespace arch

extern "C" void trap_dispatch(arch::TrapFrame* f) {
  using namespace arch;
  if (g_account != nullptr) g_account(f->vector);
  u64 v = f->vector & 0xff;
  if (g_handlers[v] != nullptr) {
    g_handlers[v](f);
    return;
  }
  switch (v) {
    case vec::kApicError:
      // Reading the ESR needs a write first (SDM Vol. 3A 11.5.3); nothing else to do.
      arch::lapic::write(arch::lapic::Reg::Esr, 0);
      arch::lapic::eoi();
      return;
    case vec::kApicTimer:
    case vec::kWake: arch::lapic::eoi(); return;  // the wake-up is the interrupt itself
    case vec::kSpurious: return;                  // no EOI for a spurious interrupt (SDM Vol. 3A 11.9)
    default:
      if (v < 32) {
        if (g_exception_handler != nullptr) g_exception_handler(f);
        // Before any handler is registered (the first instructions of kernel_main) an
        // exception cannot be reported by the kernel's console: say it on COM1 and stop.
        const char* const parts[] = {"\r\nexception before the trap handlers were registered: ", exception_name(v),
                                     "; halting\r\n"};
        for (const char* m : parts)
          for (const char* c = m; *c != 0; ++c) arch::serial::put_raw(*c);
        halt_forever();
      }
      arch::lapic::eoi();  // an interrupt nobody asked for: acknowledge it
      return;
  }
}
