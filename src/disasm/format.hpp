// Disassembly lines as the examine commands, fault reports and debugger stops print them,
// below both the monitor and debug/ (portable, host-tested): the decoder's text plus the
// bytes, the containing symbol and llvm-objdump's annotations. Code comes through Memory,
// which reads only what may be read, so nothing here can fault; symbols through Symbols.
#pragma once
#include "disasm/x86_decode.hpp"
#include "lib/fmt.hpp"

namespace disasm {

// Copies up to n bytes at addr into buf and returns how many it copied: it stops at the
// first byte that may not be read (not mapped, MMIO, not RAM).
class Memory {
 public:
  virtual usize read(u64 addr, u8* buf, usize n) = 0;
  // Why the last short read stopped, for the error line ("is not mapped").
  const char* why = "is not readable";

 protected:
  ~Memory() = default;
};

// The symbol for an address and the offset into it, or nullptr.
using Symbolizer = const char* (*)(u64 addr, u64* offset);
struct Symbols {
  Symbolizer containing;  // the symbol an address is in: line prefixes, examine's format a
  Symbolizer nearest;     // llvm-objdump's choice for branch targets and RIP-relative operands
};

// " <sym>" / " <sym+0x10>" with before = " <", after = ">": the symbol f gives for addr,
// nothing if f is null or knows none.
void put_symbol(lib::Sink& out, Symbolizer f, u64 addr, const char* before, const char* after);

// One disassembly line:
//   0x<addr>[ <symbol>+0x<off>]: <bytes>  <text>[ <target>]
// bytes as 2-digit hex separated by spaces, then two spaces, then format_insn_text.
void format_insn(lib::Sink& out, u64 addr, const u8* bytes, const Insn& insn, const Symbols& syms);

// What follows the bytes (no newline): llvm-objdump's AT&T text; a branch target gets
// " <sym+0xoff>", a RIP-relative operand " # 0x<addr> <sym>", a large immediate
// " # imm = 0x<HEX>", as llvm-objdump -d prints them (the symbol part only when one is known).
void format_insn_text(lib::Sink& out, const Insn& insn, const Symbols& syms);

}  // namespace disasm
