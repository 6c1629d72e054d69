#include "smp/percpu.hpp"

#include "arch/cpu.hpp"
#include "arch/idt.hpp"
#include "kernel/console.hpp"
#include "lib/string.hpp"
#include "mm/kvm.hpp"

namespace smp {

CpuEntry g_cpus[config::kMaxCpus];
u64 g_cpu_count;
NoSlotCpu g_noslot[config::kMaxMadtCpus];
u64 g_noslot_count;
u64 g_noslot_enabled;
u64 g_cpus_listed = 1;  // the BSP alone until a firmware table says otherwise
const char* g_cpu_list_source;
u64 g_online_count;
extern "C" {
u32 g_cpu_apic_ids[config::kMaxCpus];
u64 g_cpu_apic_count;
}

const char* cpu_state_name(CpuState s) {
  switch (s) {
    case CpuState::Offline: return "offline";
    case CpuState::Starting: return "starting";
    case CpuState::Online: return "online";
    case CpuState::Failed: return "failed";
    case CpuState::Stopped: return "stopped";
    case CpuState::Kstop: return "kstop";
    case CpuState::Kpanic: return "kpanic";
  }
  return "?";
}

const char* stop_source_text(StopSource s) {
  switch (s) {
    case StopSource::None: return "not stopped";
    case StopSource::Exception: return "saved by this cpu when it took the exception";
    case StopSource::Panic: return "saved by this cpu when it called panic";
    case StopSource::PanicNmi: return "saved when stopped by the panic NMI";
    case StopSource::Breakpoint: return "saved by this cpu at the debug exception";
    case StopSource::DebuggerNmi: return "saved when stopped by the debugger's NMI";
    case StopSource::HeldStep: return "saved by this cpu after a single step";
  }
  return "?";
}

namespace {
// Backs [off, off + size) of a slot with fresh zeroed frames.
bool back(u64 slot, u64 off, u64 size, mm::Purpose purpose) {
  for (u64 o = off; o < off + size; o += mm::layout::kPageSize) {
    u64 pa = mm::kvm::frames().alloc(purpose);
    if (pa == 0) return false;
    memset(reinterpret_cast<void*>(mm::kvm::phys_to_virt(pa)), 0, mm::layout::kPageSize);
    if (!mm::kvm::map_data_page(slot + o, pa)) return false;
  }
  return true;
}
// Stack paint for the high-water mark shown by `percpu`.
constexpr u64 kStackPaint = 0x5ca1ab1e5ca1ab1eULL;
}  // namespace

PerCpu* create_slot(u64 index, u32 apic_id) {
  if (index >= config::kMaxCpus) return nullptr;
  u64 slot = mm::layout::percpu_slot(index);
  if (!back(slot, 0, mm::layout::kPerCpuDataSize, mm::Purpose::PerCpu) ||
      !back(slot, mm::layout::kStackBottomOff, config::kKernelStackSize, mm::Purpose::Stack))
    return nullptr;
  for (unsigned i = 1; i <= mm::layout::kIstCount; ++i)
    if (!back(slot, mm::layout::ist_bottom_off(i), config::kIstStackSize, mm::Purpose::Stack)) return nullptr;

  auto* p = reinterpret_cast<PerCpu*>(slot);
  p->self = p;
  p->index = index;
  p->apic_id = apic_id;
  p->state = CpuState::Starting;
  p->slot_base = slot;
  p->stack_lo = slot + mm::layout::kStackBottomOff;
  p->stack_hi = slot + mm::layout::kStackTopOff;
  for (unsigned i = 1; i <= mm::layout::kIstCount; ++i) {
    p->ist_lo[i - 1] = slot + mm::layout::ist_bottom_off(i);
    p->ist_hi[i - 1] = slot + mm::layout::ist_top_off(i);
  }
  auto* stack = reinterpret_cast<u64*>(p->stack_lo);
  for (u64 i = 0; i < config::kKernelStackSize / 8; ++i) stack[i] = kStackPaint;
  g_cpus[index].percpu = p;
  return p;
}

u64 stack_high_water(const PerCpu* p) {
  auto* stack = reinterpret_cast<const u64*>(p->stack_lo);
  u64 n = config::kKernelStackSize / 8, i = 0;
  while (i < n && stack[i] == kStackPaint) ++i;
  return (n - i) * 8;
}

void activate(PerCpu* p) {
  arch::load_gdt_tss(&p->gdt, &p->tss, p->ist_hi);
  arch::idt_load();
  arch::wrmsr(arch::msr::kGsBase, reinterpret_cast<u64>(p));
  arch::wrmsr(arch::msr::kKernelGsBase, 0);
}

PerCpu* cpu(u64 index) {
  if (index >= g_cpu_count) return nullptr;
  return g_cpus[index].percpu;
}

}  // namespace smp
