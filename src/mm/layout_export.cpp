// The layout as this build has it (config.hpp settings applied), kept in the ELF for the
// tools that read the kernel from outside: gdb/kernel.py reads it through DWARF, the QEMU
// tests from the ELF's bytes. So a KCONFIG_ change reaches them with no copy to update.
#include "mm/layout.hpp"

struct KernelLayout {
  u64 direct_map_base, direct_map_end;
  u64 percpu_base, percpu_end, percpu_slot_size, max_cpus;
  u64 kernel_base, kernel_end;
  u64 device_base;
};

extern "C" [[gnu::used]] const KernelLayout g_kernel_layout = {
    mm::layout::kDirectMapBase, mm::layout::kDirectMapEnd, mm::layout::kPerCpuBase,
    mm::layout::kPerCpuEnd,     config::kPerCpuSlotSize,   config::kMaxCpus,
    mm::layout::kKernelBase,    mm::layout::kKernelEnd,    mm::layout::kDeviceBase,
};
