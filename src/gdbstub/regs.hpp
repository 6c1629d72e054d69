// The register file gdb sees: QEMU 10's x86-64 target description (gdb-xml/i386-64bit.xml,
// one feature org.gnu.gdb.i386.core), whose order and sizes fix the layout of the 'g'/'G'
// packets and the numbers of 'p'/'P' (RSP "Packets": registers in target-description
// order, each in target byte order, little-endian here). Using the same description as
// QEMU's stub means `info registers` reads the same through either stub.
#pragma once
#include "gdbstub/protocol.hpp"
#include "gdbstub/reply.hpp"
#include "lib/types.hpp"

namespace gdbstub {

// Register numbers as gdb uses them in 'p'/'P' (the description's order).
// clang-format off
enum class Reg : u8 {
  Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, Rsp,
  R8, R9, R10, R11, R12, R13, R14, R15,
  Rip, Eflags,
  Cs, Ss, Ds, Es, Fs, Gs,
  FsBase, GsBase, KernelGsBase,
  Cr0, Cr2, Cr3, Cr4, Cr8, Efer,
  St0, St1, St2, St3, St4, St5, St6, St7,
  Fctrl, Fstat, Ftag, Fiseg, Fioff, Foseg, Fooff, Fop,
  Xmm0, Xmm1, Xmm2, Xmm3, Xmm4, Xmm5, Xmm6, Xmm7,
  Xmm8, Xmm9, Xmm10, Xmm11, Xmm12, Xmm13, Xmm14, Xmm15,
  Mxcsr,
  Count
};
// clang-format on
constexpr usize kNumRegs = static_cast<usize>(Reg::Count);

// A register as the target description names it. type is a gdb predefined type
// (gdb manual, "Predefined Target Types") or one the description defines (target_xml.cpp);
// group, when set, is the register group gdb files it under.
struct RegDesc {
  const char* name;
  const char* type;
  const char* group;
  u16 bits;
};

// clang-format off
inline constexpr RegDesc kRegDescs[kNumRegs] = {
    {"rax", "int64", nullptr, 64}, {"rbx", "int64", nullptr, 64}, {"rcx", "int64", nullptr, 64},
    {"rdx", "int64", nullptr, 64}, {"rsi", "int64", nullptr, 64}, {"rdi", "int64", nullptr, 64},
    {"rbp", "data_ptr", nullptr, 64}, {"rsp", "data_ptr", nullptr, 64},
    {"r8", "int64", nullptr, 64}, {"r9", "int64", nullptr, 64}, {"r10", "int64", nullptr, 64},
    {"r11", "int64", nullptr, 64}, {"r12", "int64", nullptr, 64}, {"r13", "int64", nullptr, 64},
    {"r14", "int64", nullptr, 64}, {"r15", "int64", nullptr, 64},
    {"rip", "code_ptr", nullptr, 64}, {"eflags", "x64_eflags", nullptr, 32},
    // Selectors are 16 bits in the CPU; QEMU's description sends them as 32.
    {"cs", "int32", nullptr, 32}, {"ss", "int32", nullptr, 32}, {"ds", "int32", nullptr, 32},
    {"es", "int32", nullptr, 32}, {"fs", "int32", nullptr, 32}, {"gs", "int32", nullptr, 32},
    // IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE (SDM Vol. 4, MSRs C000_0100h-0102h).
    {"fs_base", "int64", nullptr, 64}, {"gs_base", "int64", nullptr, 64}, {"k_gs_base", "int64", nullptr, 64},
    {"cr0", "x64_cr0", nullptr, 64}, {"cr2", "int64", nullptr, 64}, {"cr3", "x64_cr3", nullptr, 64},
    {"cr4", "x64_cr4", nullptr, 64}, {"cr8", "int64", nullptr, 64}, {"efer", "x64_efer", nullptr, 64},
    // x87 data registers in the 80-bit extended format (SDM Vol. 1, 8.1.2).
    {"st0", "i387_ext", nullptr, 80}, {"st1", "i387_ext", nullptr, 80}, {"st2", "i387_ext", nullptr, 80},
    {"st3", "i387_ext", nullptr, 80}, {"st4", "i387_ext", nullptr, 80}, {"st5", "i387_ext", nullptr, 80},
    {"st6", "i387_ext", nullptr, 80}, {"st7", "i387_ext", nullptr, 80},
    // x87 control, status, tag, last instruction and operand pointers, opcode (SDM Vol. 1, 8.1).
    {"fctrl", "int", "float", 32}, {"fstat", "int", "float", 32}, {"ftag", "int", "float", 32},
    {"fiseg", "int", "float", 32}, {"fioff", "int", "float", 32}, {"foseg", "int", "float", 32},
    {"fooff", "int", "float", 32}, {"fop", "int", "float", 32},
    {"xmm0", "vec128", nullptr, 128}, {"xmm1", "vec128", nullptr, 128}, {"xmm2", "vec128", nullptr, 128},
    {"xmm3", "vec128", nullptr, 128}, {"xmm4", "vec128", nullptr, 128}, {"xmm5", "vec128", nullptr, 128},
    {"xmm6", "vec128", nullptr, 128}, {"xmm7", "vec128", nullptr, 128}, {"xmm8", "vec128", nullptr, 128},
    {"xmm9", "vec128", nullptr, 128}, {"xmm10", "vec128", nullptr, 128}, {"xmm11", "vec128", nullptr, 128},
    {"xmm12", "vec128", nullptr, 128}, {"xmm13", "vec128", nullptr, 128}, {"xmm14", "vec128", nullptr, 128},
    {"xmm15", "vec128", nullptr, 128},
    {"mxcsr", "x64_mxcsr", "vector", 32},
};
// clang-format on

constexpr usize reg_size(Reg r) { return kRegDescs[static_cast<usize>(r)].bits / 8; }
constexpr usize reg_offset(Reg r) {
  usize off = 0;
  for (usize i = 0; i < static_cast<usize>(r); ++i) off += kRegDescs[i].bits / 8;
  return off;
}
// Bytes of the whole file: the 'g' reply is twice this many hex digits.
constexpr usize kRegFileBytes = reg_offset(Reg::Count);

// The 'g'/'G' offsets gdb 13 reports for QEMU 10's stub (`maint print remote-registers`).
static_assert(reg_offset(Reg::Eflags) == 136 && reg_offset(Reg::Cs) == 140);
static_assert(reg_offset(Reg::FsBase) == 164 && reg_offset(Reg::Cr0) == 188 && reg_offset(Reg::Efer) == 228);
static_assert(reg_offset(Reg::St0) == 236 && reg_offset(Reg::Fctrl) == 316 && reg_offset(Reg::Xmm0) == 348);
static_assert(reg_offset(Reg::Mxcsr) == 604 && kRegFileBytes == 608);
static_assert(2 * kRegFileBytes + kFrameOverhead <= kMinPacketSize, "a 'g' reply must fit one packet");

// The 'g' reply stops after gs: the registers a frame is made of (rip, rsp, rbp, the
// callee-saved ones the unwinder restores) and the selectors. A shorter 'g' is how a stub
// leaves registers to 'p' (gdb 13 remote.c, process_g_packet: a register past the reply's
// end is "not in g" and is read with 'p' when asked for). `info threads` reads a 'g' of
// every CPU, so at 255 CPUs on a 115200-baud line the bases, control registers and
// unavailable x87/SSE state cost ~2 s there; `info registers` fetches those with 9 'p'.
constexpr Reg kLastInG = Reg::Gs;
constexpr usize kGBytes = reg_offset(Reg::FsBase);
static_assert(static_cast<usize>(kLastInG) + 1 == static_cast<usize>(Reg::FsBase));

// The register number gdb sends in 'p'/'P', if there is such a register.
[[nodiscard]] constexpr bool reg_from_number(u64 n, Reg* out) {
  if (n >= kNumRegs) return false;
  *out = static_cast<Reg>(n);
  return true;
}

// Register contents in target byte order, and which registers hold a value. A register
// the target cannot provide (not saved at the stop, not readable on this CPU) stays
// unavailable and is sent as "xx" per byte (RSP "Packets", 'g' reply), which gdb shows
// as <unavailable>, never as a made-up 0.
class RegFile {
 public:
  // Every register unavailable (and its bytes zero).
  void clear();
  bool available(Reg r) const {
    usize i = static_cast<usize>(r);
    return (avail_[i / 8] >> (i % 8) & 1) != 0;
  }
  // Sets reg_size(r) bytes, little-endian, and marks the register available.
  void set(Reg r, const u8* bytes);
  // For a register of at most 8 bytes: its value (the low bytes of v).
  void set_u64(Reg r, u64 v);
  void set_unavailable(Reg r);
  const u8* bytes(Reg r) const { return bytes_ + reg_offset(r); }
  // The low (up to) 8 bytes as a number.
  u64 get_u64(Reg r) const;
  // Both available with the same contents.
  bool same(Reg r, const RegFile& other) const;

 private:
  u8 bytes_[kRegFileBytes] = {};
  u8 avail_[(kNumRegs + 7) / 8] = {};
};

// The 'g' reply: the registers through kLastInG, in order.
void put_registers(const RegFile& regs, Reply& out);
// The 'p' reply: one register.
void put_register(const RegFile& regs, Reg r, Reply& out);
// The data of a 'G' packet: registers in order from rax, as many as gdb sends (it sends
// what 'g' gave it, 2 * kGBytes hex digits; all of them, 2 * kRegFileBytes, is taken too),
// ending on a register's end. Registers sent as all "xx" and those not sent are left
// unavailable in out (not to be written); a register mixing digits and 'x' is malformed.
// out is cleared first.
[[nodiscard]] bool parse_registers(const u8* hex, usize n, RegFile& out);
// The value of a 'P' packet for r: exactly 2 * reg_size(r) hex digits; out gets only r.
[[nodiscard]] bool parse_register(Reg r, const u8* hex, usize n, RegFile& out);

}  // namespace gdbstub
