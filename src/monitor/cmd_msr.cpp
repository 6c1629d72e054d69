// rdmsr / wrmsr on a chosen CPU. MSRs are per CPU (or per core), so the access runs on
// that CPU through a cross-CPU call, inside the monitor's fault guard: an MSR the CPU
// does not have raises #GP (SDM Vol. 3A 6.15, "Interrupt 13"; Vol. 4 2.1), which the
// exception path reports and turns into a return from guarded_call, not a panic.
#include "arch/cache_config.hpp"
#include "arch/cpu.hpp"
#include "arch/trap.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};

// Generous: a faulting access prints the exception report on the target CPU while the
// caller waits.
constexpr u64 kXcallTimeoutUs = 2000000;

// In the panic shell the guard does not catch faults after a deliberate `crash` (its
// expect-crash flag stands), so only MSRs every x86-64 CPU has are read there (SDM
// Vol. 4 Table 2-2).
constexpr u32 kPanicSafeMsrs[] = {
    0x10,        // IA32_TIME_STAMP_COUNTER
    0x1b,        // IA32_APIC_BASE
    0x277,       // IA32_PAT
    0xc0000080,  // IA32_EFER
    0xc0000081,  // IA32_STAR
    0xc0000082,  // IA32_LSTAR
    0xc0000084,  // IA32_FMASK
    0xc0000100,  // IA32_FS_BASE
    0xc0000101,  // IA32_GS_BASE
    0xc0000102,  // IA32_KERNEL_GS_BASE
};

struct MsrOp {
  u32 msr;
  bool write;
  u64 value;  // to write; the value read (after a write: read back)
  bool faulted;
};

void access(void* arg) {
  auto* op = static_cast<MsrOp*>(arg);
  if (op->write) arch::wrmsr(op->msr, op->value);
  op->value = arch::rdmsr(op->msr);
}

// On the target CPU (in its IPI handler, or directly on the monitor's own CPU, whose
// guard for the running command is saved and put back around ours).
void guarded_access(void* arg, const arch::TrapFrame*) {
  auto* op = static_cast<MsrOp*>(arg);
  smp::PerCpu* self = smp::this_cpu();
  u64 saved[sizeof self->guard_buf / sizeof self->guard_buf[0]];
  memcpy(saved, self->guard_buf, sizeof saved);
  bool armed = self->guard_armed;
  self->guard_armed = true;
  self->guard_quiet = true;  // a faulting MSR is an answer here, not an exception to report
  op->faulted = guarded_call(access, op, self->guard_buf) != 0;
  self->guard_quiet = false;
  memcpy(self->guard_buf, saved, sizeof saved);
  self->guard_armed = armed;
}

// MSRs the kernel itself depends on: writing them from the monitor breaks the CPU for
// good (or the machine), so wrmsr refuses them and says why.
struct Refused {
  u32 msr;
  const char* why;
};
constexpr Refused kRefused[] = {
    {arch::msr::kApicBase,
     "IA32_APIC_BASE: the local APIC's mode and address; cross-CPU calls, IPIs and NMIs depend on it"},
    {arch::msr::kEfer, "IA32_EFER: long mode and NX; clearing LME or NXE faults the CPU at once"},
    {arch::msr::kGsBase, "IA32_GS_BASE, the per-CPU pointer"},
    {arch::msr::kKernelGsBase, "IA32_KERNEL_GS_BASE: swapgs would make it the per-CPU pointer"},
    {arch::cache::kPat, "IA32_PAT: the memory types of every mapping; all CPUs must have the same (SDM 11.12.4)"},
};

bool is_mtrr(u32 msr) {
  if (msr == arch::cache::kMtrrDefType) return true;
  for (u32 m : arch::cache::kFixedMtrrs)
    if (m == msr) return true;
  return msr >= arch::cache::kMtrrPhysBase0 && msr < arch::cache::kMtrrPhysBase0 + 2 * 256;
}

bool parse_msr(const char* s, u32* msr) {
  u64 v;
  if (!monitor::parse_address(s, &v) || v > 0xffffffff) {
    monitor::error("invalid msr '%s' (hex, 0x optional, at most 0xffffffff)", s);
    return false;
  }
  *msr = static_cast<u32>(v);
  return true;
}

int run(u64 cpu, MsrOp* op) {
  smp::XcallResult r = smp::xcall(cpu, guarded_access, op, kXcallTimeoutUs);
  if (r != smp::XcallResult::Done && r != smp::XcallResult::DoneViaNmi)
    return monitor::error("cpu %lu did not answer (%s)", cpu, smp::xcall_result_name(r));
  if (op->faulted)
    return monitor::error("%s of msr 0x%x faulted on cpu %lu (#GP: no such MSR, or a reserved bit set)",
                          op->write ? "wrmsr" : "rdmsr", op->msr, cpu);
  if (monitor::json()) {
    // rdmsr -j: {"cpu","msr","value"}, the line's fields.
    lib::Json j(monitor::out());
    j.begin_object().member("cpu", cpu).member_hex("msr", op->msr, 8).member_hex("value", op->value, 16).end_object();
    (void)j.finish();
    return 0;
  }
  lib::format(monitor::out(), "cpu %lu msr 0x%08x 0x%016lx\n", cpu, op->msr, op->value);
  return 0;
}

int cmd_rdmsr(const monitor::Args& a) {
  if (a.argc != 3) return monitor::error("usage: rdmsr <cpu> <msr>");
  u64 cpu;
  MsrOp op{};
  if (!monitor::parse_cpu(a.argv[1], monitor::CpuArg::Running, &cpu, "can be asked") || !parse_msr(a.argv[2], &op.msr))
    return 1;
  if (monitor::in_panic_shell()) {
    bool safe = false;
    for (u32 m : kPanicSafeMsrs) safe = safe || m == op.msr;
    if (!safe)
      return monitor::error(
          "msr 0x%x: the panic shell reads only architectural MSRs (EFER, STAR, LSTAR, "
          "FMASK, FS/GS bases, APIC base, PAT, TSC)",
          op.msr);
  }
  return run(cpu, &op);
}

int cmd_wrmsr(const monitor::Args& a) {
  if (a.argc != 4) return monitor::error("usage: wrmsr <cpu> <msr> <value>");
  u64 cpu;
  MsrOp op{};
  op.write = true;
  if (!monitor::parse_cpu(a.argv[1], monitor::CpuArg::Running, &cpu, "can be asked") || !parse_msr(a.argv[2], &op.msr))
    return 1;
  if (!monitor::parse_address(a.argv[3], &op.value))
    return monitor::error("invalid value '%s' (hex, 0x optional, 64 bits)", a.argv[3]);
  for (const Refused& r : kRefused)
    if (op.msr == r.msr) return monitor::error("msr 0x%x is not written from the monitor: %s", op.msr, r.why);
  int rc = run(cpu, &op);
  if (rc == 0 && is_mtrr(op.msr))
    lib::format(monitor::out(),
                "warning: cpu %lu's MTRRs may now differ from the other CPUs', which SDM 11.11.8 forbids; "
                "write the same value on every CPU\n",
                cpu);
  return rc;
}

}  // namespace

MONITOR_COMMAND(rdmsr, "<cpu> <msr>", "read an MSR on that CPU; a faulting MSR gives an error", cmd_rdmsr, kNoKeywords,
                true,
                "Reads the MSR on CPU <cpu> itself (cross-CPU call), under the command guard: a\n"
                "#GP (no such MSR) is reported and gives an error line. The MSR number is hex, 0x\n"
                "optional; the output's last field is the value.\n"
                "  rdmsr 1 0xc0000080     cpu 1 msr 0xc0000080 0x0000000000000d01   (EFER)\n"
                "  rdmsr 0 1b             IA32_APIC_BASE of cpu 0",
                monitor::kJsonView);
MONITOR_COMMAND(wrmsr, "<cpu> <msr> <value>", "write an MSR on that CPU, then read it back", cmd_wrmsr, kNoKeywords,
                false,
                "Writes <value> (hex, 0x optional) to the MSR on CPU <cpu> itself and prints what it\n"
                "reads back; a #GP (no such MSR, reserved bits) gives an error line. Refused in the\n"
                "panic shell, and for the MSRs the kernel depends on: IA32_APIC_BASE, IA32_EFER,\n"
                "IA32_GS_BASE, IA32_KERNEL_GS_BASE, IA32_PAT. An MTRR is written with a warning\n"
                "(all CPUs must have the same, SDM 11.11.8).\n"
                "  wrmsr 1 0xc0000102 0x1234   IA32_KERNEL_GS_BASE of cpu 1");
