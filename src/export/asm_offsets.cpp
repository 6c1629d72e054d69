// Constants the NASM sources need, generated from their C++ definitions the way Linux
// builds asm-offsets.h: this file is compiled with the kernel's flags to assembly (-S,
// never linked), each DEFINE leaves a `->NAME value` line in it, and
// scripts/gen_asm_offsets.py turns those into build/generated/asm_offsets.inc
// (`%define NAME value`), which every .asm includes. A value C++ changes reaches the
// assembly with the next build; nothing is copied by hand.
//
// gdt.cpp keeps its constants in an anonymous namespace, so it is included whole: this
// translation unit is only turned into assembly text, never linked.
#include "arch/cpu.hpp"
#include "arch/gdt.cpp"  // NOLINT(bugprone-suspicious-include): kCode64, kData, flat()
#include "arch/pte.hpp"
#include "arch/trap_frame.hpp"
#include "arch/uart_regs.hpp"
#include "boot/multiboot2.hpp"
#include "mm/layout.hpp"
#include "smp/percpu.hpp"
#include "smp/trampoline_layout.h"

// %c0: the bare immediate (no `$`); the script reads it as a signed or unsigned 64-bit value.
#define DEFINE(name, value) asm volatile("\n.ascii \"->" #name " %c0\"" : : "i"(static_cast<u64>(value)))
#define OFFSET(name, type, member) DEFINE(name, __builtin_offsetof(type, member))
#define BIT_INDEX(mask) __builtin_ctzll(mask)

namespace {
// Values only the assembly uses; defined here, once.
// Multiboot2 header (Multiboot2 specification 1.0, 3.1.1 and 3.1.2).
constexpr u32 kMb2HeaderMagic = 0xe85250d6;
constexpr u32 kMb2ArchI386 = 0;      // 32-bit protected mode of i386
constexpr u16 kMb2HeaderTagEnd = 0;  // tag type 0 ends the tag list
constexpr u32 kMb2HeaderTagEndSize = 8;
// EFLAGS.ID: software can toggle it iff CPUID exists (SDM Vol. 1 3.4.3.3).
constexpr u32 kEflagsId = 1u << 21;
// CPUID leaves (SDM Vol. 2A, CPUID): basic features, topology (x2APIC ID in EDX),
// largest extended leaf, extended features; leaf 1 EBX[31:24] is the initial APIC ID.
constexpr u32 kCpuidLeafFeatures = 1;
constexpr u32 kCpuidLeafTopology = 0xb;
constexpr u32 kCpuidLeafExtMax = 0x80000000;
constexpr u32 kCpuidLeafExt1 = 0x80000001;
constexpr u32 kCpuidLeaf1EbxApicIdShift = 24;
}  // namespace

extern "C" void asm_offsets() {
  // Memory layout (mm/layout.hpp) and paging (arch/pte.hpp, SDM Vol. 3A 4.5).
  DEFINE(KERNEL_VMA, mm::layout::kKernelBase);
  DEFINE(KERNEL_PML4_INDEX, mm::layout::pml4_index(mm::layout::kKernelBase));
  DEFINE(KERNEL_PDPT_INDEX, mm::layout::pdpt_index(mm::layout::kKernelBase));
  DEFINE(PAGE_SIZE, mm::layout::kPageSize);
  DEFINE(PAGE_SHIFT, BIT_INDEX(mm::layout::kPageSize));
  DEFINE(LARGE_PAGE_SIZE, mm::layout::kLargePageSize);
  DEFINE(LARGE_PAGE_SHIFT, BIT_INDEX(mm::layout::kLargePageSize));
  DEFINE(PT_ENTRIES, arch::pte::kEntries);
  DEFINE(PTE_SIZE, sizeof(u64));
  DEFINE(PTE_P, arch::pte::kPresent.mask);
  DEFINE(PTE_W, arch::pte::kWrite.mask);
  DEFINE(PTE_PS, arch::pte::kPageSize.mask);
  DEFINE(PERCPU_BASE, mm::layout::kPerCpuBase);
  DEFINE(PERCPU_SLOT_SIZE, config::kPerCpuSlotSize);
  DEFINE(PERCPU_STACK_TOP_OFF, mm::layout::kStackTopOff);

  // Control registers, MSRs (arch/cpu.hpp).
  DEFINE(CR0_PE, arch::cr0::kPE);
  DEFINE(CR0_ET, arch::cr0::kET);
  DEFINE(CR0_KERNEL, arch::cr0::kKernel);
  DEFINE(CR4_BOOT, arch::cr4::kBoot);
  DEFINE(CR4_KERNEL, arch::cr4::kKernel);
  DEFINE(MSR_EFER, arch::msr::kEfer);
  DEFINE(EFER_BOOT, arch::efer::kBoot);
  DEFINE(EFLAGS_ID, kEflagsId);

  // CPUID.
  DEFINE(CPUID_LEAF_FEATURES, kCpuidLeafFeatures);
  DEFINE(CPUID_LEAF_TOPOLOGY, kCpuidLeafTopology);
  DEFINE(CPUID_LEAF_EXT_MAX, kCpuidLeafExtMax);
  DEFINE(CPUID_LEAF_EXT1, kCpuidLeafExt1);
  DEFINE(CPUID_LEAF1_EBX_APIC_ID_SHIFT, kCpuidLeaf1EbxApicIdShift);
  DEFINE(CPUID_EXT1_EDX_LM, arch::cpuid_bit::kExt1EdxLm);
  DEFINE(CPUID_EXT1_EDX_LM_BIT, BIT_INDEX(arch::cpuid_bit::kExt1EdxLm));
  DEFINE(CPUID_EXT1_EDX_NX, arch::cpuid_bit::kExt1EdxNx);
  DEFINE(CPUID_EXT1_EDX_NX_BIT, BIT_INDEX(arch::cpuid_bit::kExt1EdxNx));

  // Segments (arch/gdt.hpp, arch/gdt.cpp): the boot GDT holds the kernel's own code and
  // data descriptors at the kernel's selectors; the trampoline adds a 32-bit code segment.
  DEFINE(BOOT_CS, arch::sel::kKernelCode);
  DEFINE(BOOT_DS, arch::sel::kKernelData);
  DEFINE(GDT_CODE64, arch::kCode64);
  DEFINE(GDT_DATA, arch::kData);
  DEFINE(GDT_CODE32, arch::flat(arch::kTypeCodeExecReadAccessed, false));

  // COM1 (arch/uart_regs.hpp): the one message entry.asm prints before C++ runs.
  DEFINE(COM1_PORT, arch::uart::kCom1);
  DEFINE(UART_DATA, arch::uart::kData);
  DEFINE(UART_IER, arch::uart::kIer);
  DEFINE(UART_LCR, arch::uart::kLcr);
  DEFINE(UART_LSR, arch::uart::kLsr);
  DEFINE(UART_LCR_DLAB, arch::uart::kLcrDlab);
  DEFINE(UART_LCR_8N1, arch::uart::kLcr8N1);
  DEFINE(UART_LSR_THR_EMPTY, arch::uart::kLsrThrEmpty);
  DEFINE(UART_DIVISOR, arch::uart::kDivisor115200);

  // Multiboot2.
  DEFINE(MB2_HEADER_MAGIC, kMb2HeaderMagic);
  DEFINE(MB2_ARCH_I386, kMb2ArchI386);
  DEFINE(MB2_HEADER_TAG_END, kMb2HeaderTagEnd);
  DEFINE(MB2_HEADER_TAG_END_SIZE, kMb2HeaderTagEndSize);
  DEFINE(MB2_BOOT_MAGIC, boot::kMultiboot2BootMagic);

  // arch::TrapFrame, built by isr.asm.
  OFFSET(TF_R15, arch::TrapFrame, r15);
  OFFSET(TF_R14, arch::TrapFrame, r14);
  OFFSET(TF_R13, arch::TrapFrame, r13);
  OFFSET(TF_R12, arch::TrapFrame, r12);
  OFFSET(TF_R11, arch::TrapFrame, r11);
  OFFSET(TF_R10, arch::TrapFrame, r10);
  OFFSET(TF_R9, arch::TrapFrame, r9);
  OFFSET(TF_R8, arch::TrapFrame, r8);
  OFFSET(TF_RBP, arch::TrapFrame, rbp);
  OFFSET(TF_RDI, arch::TrapFrame, rdi);
  OFFSET(TF_RSI, arch::TrapFrame, rsi);
  OFFSET(TF_RDX, arch::TrapFrame, rdx);
  OFFSET(TF_RCX, arch::TrapFrame, rcx);
  OFFSET(TF_RBX, arch::TrapFrame, rbx);
  OFFSET(TF_RAX, arch::TrapFrame, rax);
  OFFSET(TF_VECTOR, arch::TrapFrame, vector);
  OFFSET(TF_ERROR_CODE, arch::TrapFrame, error_code);
  OFFSET(TF_RIP, arch::TrapFrame, rip);
  OFFSET(TF_CS, arch::TrapFrame, cs);
  OFFSET(TF_RFLAGS, arch::TrapFrame, rflags);
  OFFSET(TF_RSP, arch::TrapFrame, rsp);
  OFFSET(TF_SS, arch::TrapFrame, ss);
  DEFINE(TF_SIZE, sizeof(arch::TrapFrame));

  // The kernel's own interrupt vectors (arch/trap_frame.hpp), in the order idt.cpp reads
  // isr_stub_table after the 32 exception stubs.
  DEFINE(VEC_CROSS_CALL, arch::vec::kCrossCall);
  DEFINE(VEC_APIC_TIMER, arch::vec::kApicTimer);
  DEFINE(VEC_TLB_FLUSH, arch::vec::kTlbFlush);
  DEFINE(VEC_APIC_ERROR, arch::vec::kApicError);
  DEFINE(VEC_SPURIOUS, arch::vec::kSpurious);
  DEFINE(VEC_WAKE, arch::vec::kWake);

  // smp::PerCpu and the APIC ID table ap_entry.asm searches (smp/percpu.hpp).
  OFFSET(PERCPU_SELF, smp::PerCpu, self);
  DEFINE(PERCPU_GUARD_BUF_SIZE, sizeof(smp::PerCpu::guard_buf));
  DEFINE(CPU_APIC_ID_SIZE, sizeof(smp::g_cpu_apic_ids[0]));

  // The AP trampoline's page (smp/trampoline_layout.h).
  DEFINE(TRAMP_SIZE, smp::kTrampolineSize);
  DEFINE(TRAMP_DATA, TRAMP_DATA);
  DEFINE(TRAMP_CR3, TRAMP_CR3);
  DEFINE(TRAMP_ENTRY64, TRAMP_ENTRY64);
  DEFINE(TRAMP_GDT, TRAMP_GDT);
  DEFINE(TRAMP_GDT_LIMIT, sizeof(smp::TrampolineData::gdt) - 1);
  DEFINE(TRAMP_GDTR, TRAMP_GDTR);
  DEFINE(TRAMP_GDTR_BASE, TRAMP_GDTR_BASE);
  DEFINE(TRAMP_PM32_PTR, TRAMP_PM32_PTR);
  DEFINE(TRAMP_PM32_SEL, TRAMP_PM32_SEL);
  DEFINE(TRAMP_LM64_PTR, TRAMP_LM64_PTR);
  DEFINE(TRAMP_LM64_SEL, TRAMP_LM64_SEL);
  DEFINE(TRAMP_PM32_OFF, TRAMP_PM32_OFF);
  DEFINE(TRAMP_LM64_OFF, TRAMP_LM64_OFF);
  DEFINE(TRAMP_DATA_END, TRAMP_DATA_END);
  DEFINE(TRAMP_SEL_CODE32, smp::kTrampSelCode32);
  DEFINE(TRAMP_SEL_DATA, smp::kTrampSelData);
  DEFINE(TRAMP_SEL_CODE64, smp::kTrampSelCode64);
}
