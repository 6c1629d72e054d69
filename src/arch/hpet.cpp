#include "arch/hpet.hpp"

#include "lib/boot_code.hpp"

namespace arch::hpet {
namespace {
volatile u64* g_regs;
Status g_status = Status::NotFound;
u64 g_caps;

// 2.3.2: registers are read whole, 64 bits at their own offset.
u64 reg(u64 off) { return g_regs[off / 8]; }
void set_reg(u64 off, u64 v) { g_regs[off / 8] = v; }
}  // namespace

const char* status_text(Status s) {
  switch (s) {
    case Status::NotFound: return "no HPET table";
    case Status::NoDevice: return "no device answers at the table's base address";
    case Status::BadPeriod: return "counter period outside 1 fs..100 ns";
    case Status::Ready: return "ready";
  }
  return "?";
}

BOOT_CODE Status init(u64 va) {
  if (va == 0) return g_status = Status::NotFound;
  g_regs = reinterpret_cast<volatile u64*>(va);
  g_caps = reg(kRegCapabilities);
  // An address nothing decodes reads as all ones; 2.3.4 forbids REV_ID 0.
  if (g_caps == ~u64{0} || CapRevId::get(g_caps) == 0) return g_status = Status::NoDevice;
  const u64 period = CapPeriodFs::get(g_caps);
  if (period == 0 || period > kMaxPeriodFs) return g_status = Status::BadPeriod;
  const u64 cfg = reg(kRegConfig);
  if (CfgEnable::get(cfg) == 0) set_reg(kRegConfig, CfgEnable::set(cfg, 1));
  return g_status = Status::Ready;
}

Status status() { return g_status; }
u64 read() { return reg(kRegMainCounter); }
unsigned counter_bits() { return CapCount64::get(g_caps) != 0 ? 64 : 32; }
u64 period_fs() { return CapPeriodFs::get(g_caps); }
u64 capabilities() { return g_caps; }

}  // namespace arch::hpet
