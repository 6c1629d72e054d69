#include "debug/frames.hpp"

#include "debug/panic.hpp"
#include "debug/stop.hpp"
#include "kernel/ksyms.hpp"
#include "mm/layout.hpp"
#include "smp/percpu.hpp"

// The table gen_unwind.py emits into .ksyms; weak: the first link stage has none.
extern "C" __attribute__((weak)) const u64 kunwind_count;
extern "C" __attribute__((weak)) const debug::UnwindEntry kunwind_table[];
extern "C" char boot_stack_bottom[], boot_stack_top[];

namespace debug {
namespace {
bool read_direct(u64 addr, u64* out, void*) {
  *out = *reinterpret_cast<const volatile u64*>(addr);  // inside a backed stack (unwind checks)
  return true;
}
}  // namespace

const UnwindTable& unwind_table() {
  static const UnwindTable t{&kunwind_count == nullptr ? nullptr : kunwind_table,
                             &kunwind_count == nullptr ? 0 : kunwind_count, mm::layout::kKernelBase};
  return t;
}

usize cpu_stacks(const smp::PerCpu* p, StackRange* r) {
  usize n = 0;
  if (p != nullptr) {
    r[n++] = {p->stack_lo, p->stack_hi};
    for (unsigned k = 0; k < mm::layout::kIstCount; ++k) r[n++] = {p->ist_lo[k], p->ist_hi[k]};
    if (shell_cpu() == p->index) r[n++] = shell_stack();
  }
  if (p == nullptr || p->index == 0)
    r[n++] = {reinterpret_cast<u64>(boot_stack_bottom), reinterpret_cast<u64>(boot_stack_top)};
  return n;
}

void backtrace(const smp::PerCpu* p, const arch::TrapFrame& f, Frames* out) {
  StackRange r[kMaxStackRanges];
  usize n = cpu_stacks(p, r);
  unwind(unwind_table(), FrameRegs{f.rip, f.rsp, f.rbp}, r, n, read_direct, nullptr, out);
}

const char* frame_symbol(const Frames& f, usize k, u64* offset) {
  u64 off = 0;
  const char* name = kernel::ksyms::lookup(symbol_pc(f, k), &off);
  // The offset from the symbol to pc itself (a return address may end its function).
  if (name != nullptr) *offset = f.pc[k] - (symbol_pc(f, k) - off);
  return name;
}

void print_frames(lib::Sink& out, const Frames& f, const char* prefix, bool quiet_end) {
  for (usize k = 0; k < f.count; ++k) {
    lib::format(out, "%s#%lu 0x%016lx ", prefix, static_cast<u64>(k), f.pc[k]);
    u64 off = 0;
    const char* name = frame_symbol(f, k, &off);
    if (name == nullptr)
      lib::format(out, "?\n");
    else
      lib::format(out, "%s+0x%lx\n", name, off);
  }
  if (!quiet_end) lib::format(out, "%s(%s)\n", prefix, f.end);
}

}  // namespace debug
