// Thin wrappers over privileged instructions, and the architectural numbers they use,
// each named once with its Intel SDM section (SDM = Intel 64 and IA-32 Architectures
// Software Developer's Manual, order no. 325462).
#pragma once
#include "lib/bits.hpp"
#include "lib/types.hpp"

namespace arch {

// Control register bits (SDM Vol. 3A 2.5 "Control Registers", Figure 2-7).
namespace cr0 {
constexpr u64 kPE = 1ULL << 0;   // protection enable
constexpr u64 kMP = 1ULL << 1;   // monitor coprocessor
constexpr u64 kEM = 1ULL << 2;   // x87 emulation
constexpr u64 kTS = 1ULL << 3;   // task switched
constexpr u64 kET = 1ULL << 4;   // extension type: fixed at 1 since the P6
constexpr u64 kNE = 1ULL << 5;   // native x87 error reporting
constexpr u64 kWP = 1ULL << 16;  // supervisor writes honour read-only pages
constexpr u64 kAM = 1ULL << 18;  // alignment mask
constexpr u64 kNW = 1ULL << 29;  // not write-through
constexpr u64 kCD = 1ULL << 30;  // cache disable
constexpr u64 kPG = 1ULL << 31;  // paging
// The CR0 every CPU runs the kernel with, written whole (never OR-ed into what the loader
// or INIT left): caches on (CD = NW = 0; INIT sets both, SDM Vol. 3A 9.1.1 Table 9-1, and
// only software clears them, 11.5.3), write protection, paging. NE, MP, EM, TS, AM stay 0:
// the kernel runs no x87/SSE code (-mgeneral-regs-only) and no user code.
constexpr u64 kKernel = kPG | kWP | kET | kPE;
}  // namespace cr0
namespace cr4 {
constexpr u64 kPAE = 1ULL << 5;
constexpr u64 kPGE = 1ULL << 7;  // global pages survive CR3 reloads
// Written whole at the switch to long mode (firmware may leave OSFXSR and others set on
// the BSP): PAE for long mode, PGE once the kernel's own tables are loaded (the BSP sets it
// in mm::kvm, the APs in the trampoline, whose CR3 already is the kernel's).
constexpr u64 kBoot = kPAE;
constexpr u64 kKernel = kPAE | kPGE;
}  // namespace cr4

// Model-specific registers (SDM Vol. 4 Table 2-2 "IA-32 Architectural MSRs").
namespace msr {
constexpr u32 kApicBase = 0x1b;    // IA32_APIC_BASE (SDM Vol. 3A 11.4.4)
constexpr u32 kEfer = 0xc0000080;  // IA32_EFER (SDM Vol. 3A 2.2.1)
constexpr u32 kFsBase = 0xc0000100;
constexpr u32 kGsBase = 0xc0000101;  // IA32_GS_BASE (SDM Vol. 3A 3.4.4)
constexpr u32 kKernelGsBase = 0xc0000102;
constexpr u32 kTscDeadline = 0x6e0;
}  // namespace msr
namespace efer {
constexpr u64 kSCE = 1ULL << 0;  // SYSCALL enable
constexpr u64 kLME = 1ULL << 8;
constexpr u64 kLMA = 1ULL << 10;  // set by the CPU when paging turns on with LME
constexpr u64 kNXE = 1ULL << 11;
// Written whole before paging (no SYSCALL: there is no user mode); the CPU adds LMA.
constexpr u64 kBoot = kLME | kNXE;
constexpr u64 kKernel = kBoot | kLMA;
}  // namespace efer
namespace apic_base {
constexpr u64 kBsp = 1ULL << 8;  // this processor is the bootstrap processor
// EXTD and EN, the mode bits: arch::lapic::kApicBaseX2Apic / kApicBaseEnable (lapic_regs.hpp).
}  // namespace apic_base

// CPUID leaves (SDM Vol. 2A, CPUID instruction, Table 3-8 "Information Returned by CPUID
// Instruction").
namespace cpuid_leaf {
constexpr u32 kVendor = 0x0;              // EAX: highest basic leaf; EBX, EDX, ECX: vendor string
constexpr u32 kVersion = 0x1;             // EAX: version information; ECX, EDX: features
constexpr u32 kExtMax = 0x80000000;       // EAX: highest extended leaf
constexpr u32 kExtFeatures = 0x80000001;  // EDX: NX, 1 GiB pages, long mode
constexpr u32 kExtPower = 0x80000007;     // EDX: invariant TSC
}  // namespace cpuid_leaf

// CPUID.1:EAX version information (SDM Vol. 2A, CPUID, Figure 3-6 "Version Information
// Returned by CPUID in EAX"): the displayed family adds the extended family when the
// family is 0xF; the displayed model adds the extended model for families 6 and 0xF.
using VersionStepping = lib::BitField<u32, 0, 4>;
using VersionModel = lib::BitField<u32, 4, 4>;
using VersionFamily = lib::BitField<u32, 8, 4>;
using VersionExtModel = lib::BitField<u32, 16, 4>;
using VersionExtFamily = lib::BitField<u32, 20, 8>;
struct CpuVersion {
  u32 family, model, stepping;
};
constexpr CpuVersion decode_version(u32 eax) {
  const u32 family = VersionFamily::get(eax);
  const u32 model = VersionModel::get(eax);
  return CpuVersion{family == 0xf ? family + VersionExtFamily::get(eax) : family,
                    family == 0x6 || family == 0xf ? (VersionExtModel::get(eax) << 4) + model : model,
                    VersionStepping::get(eax)};
}
static_assert(decode_version(0x00050654).family == 6 && decode_version(0x00050654).model == 85);  // Skylake-SP
static_assert(decode_version(0x00800f12).family == 23 && decode_version(0x00800f12).model == 1);  // EPYC

// CPUID feature bits (SDM Vol. 2A, CPUID instruction, Tables 3-8 ... 3-11).
namespace cpuid_bit {
constexpr u32 kLeaf1EcxX2Apic = 1u << 21;
constexpr u32 kLeaf1EcxHypervisor = 1u << 31;
constexpr u32 kLeaf1EdxApic = 1u << 9;
constexpr u32 kLeaf1EdxTsc = 1u << 4;
constexpr u32 kExt1EdxNx = 1u << 20;           // CPUID 0x80000001 EDX: execute-disable
constexpr u32 kExt1EdxPdpe1gb = 1u << 26;      // 1 GiB pages
constexpr u32 kExt1EdxLm = 1u << 29;           // long mode
constexpr u32 kExt7EdxInvariantTsc = 1u << 8;  // CPUID 0x80000007 EDX
}  // namespace cpuid_bit

struct CpuidResult {
  u32 eax, ebx, ecx, edx;
};

inline CpuidResult cpuid(u32 leaf, u32 subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

inline u64 rdmsr(u32 msr) {
  u32 lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (u64{hi} << 32) | lo;
}
inline void wrmsr(u32 msr, u64 v) {
  asm volatile("wrmsr" : : "c"(msr), "a"(static_cast<u32>(v)), "d"(static_cast<u32>(v >> 32)) : "memory");
}

inline u64 read_cr0() {
  u64 v;
  asm volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}
inline u64 read_cr2() {
  u64 v;
  asm volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
inline u64 read_cr3() {
  u64 v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
inline u64 read_cr4() {
  u64 v;
  asm volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}
// CR8: the task-priority class, the local APIC's TPR[7:4] (SDM Vol. 3A 2.5, 11.8.6).
inline u64 read_cr8() {
  u64 v;
  asm volatile("mov %%cr8, %0" : "=r"(v));
  return v;
}
inline void write_cr0(u64 v) { asm volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
inline void write_cr3(u64 v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
inline void write_cr4(u64 v) { asm volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
inline u64 read_rflags() {
  u64 v;
  asm volatile("pushfq; popq %0" : "=r"(v));
  return v;
}
constexpr u64 kRflagsIf = 1ULL << 9;

inline u64 rdtsc() {
  u32 lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (u64{hi} << 32) | lo;
}

inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
inline u8 inb(u16 port) {
  u8 v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

inline u32 inl(u16 port) {
  u32 v;
  asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

inline void pause() { asm volatile("pause" ::: "memory"); }
inline void cli() { asm volatile("cli" ::: "memory"); }
inline void sti() { asm volatile("sti" ::: "memory"); }
inline void hlt() { asm volatile("hlt" ::: "memory"); }
inline void invlpg(u64 va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }

[[noreturn]] inline void halt_forever() {
  for (;;) asm volatile("cli; hlt" ::: "memory");
}

}  // namespace arch
