#include "disasm/format.hpp"

namespace disasm {
namespace {

// llvm-objdump's "# imm = 0x..." comment (LLVM 14 X86ATTInstPrinter::printOperand): for
// the first immediate above 255 or below -256, in hex of the narrowest of 16, 32 or 64
// bits that holds it, upper-case. When an instruction has one, objdump prints it instead
// of the RIP-relative "# 0x<address>". Returns false if there is none.
bool imm_comment(const char* text, u64* value) {
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p != '$') continue;
    bool neg = p[1] == '-';
    const char* d = p + 1 + (neg ? 1 : 0);
    if (*d < '0' || *d > '9') continue;
    u64 v = 0;
    for (; *d >= '0' && *d <= '9'; ++d) v = v * 10 + static_cast<u64>(*d - '0');
    i64 imm = neg ? -static_cast<i64>(v) : static_cast<i64>(v);
    if (imm <= 255 && imm >= -256) continue;
    if (imm == static_cast<int16_t>(imm))
      *value = static_cast<u16>(imm);
    else if (imm == static_cast<int32_t>(imm))
      *value = static_cast<u32>(imm);
    else
      *value = static_cast<u64>(imm);
    return true;
  }
  return false;
}

}  // namespace

void put_symbol(lib::Sink& out, Symbolizer f, u64 addr, const char* before, const char* after) {
  if (f == nullptr) return;
  u64 off = 0;
  const char* name = f(addr, &off);
  if (name == nullptr) return;
  if (off == 0)
    lib::format(out, "%s%s%s", before, name, after);
  else
    lib::format(out, "%s%s+0x%lx%s", before, name, off, after);
}

void format_insn_text(lib::Sink& out, const Insn& insn, const Symbols& syms) {
  lib::format(out, "%s", insn.text);
  u64 imm = 0;
  bool has_imm = !insn.bad && imm_comment(insn.text, &imm);
  if (!insn.bad && insn.ref_kind == Ref::Branch) {
    put_symbol(out, syms.nearest, insn.ref, " <", ">");
  } else if (has_imm) {
    lib::format(out, " # imm = 0x%lX", imm);
  } else if (!insn.bad && insn.ref_kind == Ref::Memory) {
    lib::format(out, " # 0x%lx", insn.ref);
    put_symbol(out, syms.nearest, insn.ref, " <", ">");
  }
}

void format_insn(lib::Sink& out, u64 addr, const u8* bytes, const Insn& insn, const Symbols& syms) {
  lib::format(out, "0x%016lx", addr);
  u64 off = 0;
  const char* name = syms.containing != nullptr ? syms.containing(addr, &off) : nullptr;
  if (name != nullptr) lib::format(out, " %s+0x%lx", name, off);
  out.put(':');
  for (u8 i = 0; i < insn.len; ++i) lib::format(out, " %02x", bytes[i]);
  lib::format(out, "  ");
  format_insn_text(out, insn, syms);
  lib::format(out, "\n");
}

}  // namespace disasm
