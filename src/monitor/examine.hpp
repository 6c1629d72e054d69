// The examine commands' formats, shared by the kernel and the host tests: the spec after
// the '/' of x/<spec> and xp/<spec>, the value formats (gdb's letters), the byte dump
// of plain `x`, and disassembly lines. Memory comes through ExMemory, which reads only
// what may be read, so none of this can fault; symbols through ExSymbols.
#pragma once
#include "disasm/x86_decode.hpp"
#include "lib/fmt.hpp"

namespace monitor {

enum class ExFormat : u8 {
  Hex,       // x: 0x and 2, 4, 8 or 16 digits by unit
  Signed,    // d
  Unsigned,  // u
  Char,      // c: bytes, 'A', '\n', '\x00' as QEMU's HMP prints them
  String,    // s: NUL-terminated strings, one a line
  Address,   // a: 8-byte values with the symbol they point into
  Insn,      // i, i16, i32: disassembly
};

struct ExSpec {
  u8 unit = 4;  // bytes: b 1, h 2, w 4, g 8
  ExFormat format = ExFormat::Hex;
  disasm::Mode mode = disasm::Mode::Long64;  // for Insn
  bool has_count = false;                    // a count written in the spec (x/8gx)
  u64 count = 0;                             // that count, saturated at kCountSaturated (the caller checks its range)
};
constexpr u64 kCountSaturated = ~u64{0};

// Parses what follows the '/': an optional decimal count, then at most one unit letter
// (b h w g) and one format letter (x d u c s a i) in either order; i takes an optional
// 16, 32 or 64 (the code's mode). Defaults: unit w, format x. c and s read bytes, a reads
// 8-byte values, i has no unit: another unit with them is an error.
bool parse_ex_spec(const char* s, ExSpec* out);

// Copies up to n bytes at addr into buf and returns how many it copied: it stops at the
// first byte that may not be read (not mapped, MMIO, not RAM).
class ExMemory {
 public:
  virtual usize read(u64 addr, u8* buf, usize n) = 0;
  // Why the last short read stopped, for the error line ("is not mapped").
  const char* why = "is not readable";

 protected:
  ~ExMemory() = default;
};

// The symbol for an address and the offset into it, or nullptr.
using ExSymbolizer = const char* (*)(u64 addr, u64* offset);
struct ExSymbols {
  ExSymbolizer containing;  // the symbol an address is in: line prefixes, format a
  ExSymbolizer nearest;     // llvm-objdump's choice for branch targets and RIP-relative operands
};

constexpr u64 kMaxExamineBytes = 4096;  // x/ and xp/ values, like x's len
constexpr u64 kMaxStringBytes = 1024;   // one string of x/s
constexpr u64 kMaxInsns = 4096;         // x/i count

// One value of x/<unit><x|d|u|c|a>, from its raw bytes (little-endian, zero-extended).
void format_value(lib::Sink& out, u64 raw, u8 unit, ExFormat f, const ExSymbols& syms);

// x/<unit><x|d|u|c|a|s>: `count` values (strings for s) from addr; lines
// "0x<addr>: <value> <value> ...", 16 bytes a line (a: one value a line; s: one string a
// line, "0x<addr>: \"text\""). When any byte is unreadable it prints one "error: " line
// ("error: 0x<addr> <why>") and nothing else; s prints what it read of a string first. Returns 0, or 1 after an error.
int examine(lib::Sink& out, ExMemory& mem, u64 addr, const ExSpec& spec, u64 count, const ExSymbols& syms);

// The plain `x <va> [len]` dump: "0x<addr>: <16 bytes>  |<ascii>|". The caller checks
// that all of [addr, addr + len) reads.
void hexdump(lib::Sink& out, ExMemory& mem, u64 addr, u64 len);

// One disassembly line:
//   0x<addr>[ <symbol>+0x<off>]: <bytes>  <text>[ <target>]
// bytes as 2-digit hex separated by spaces, then two spaces, then llvm-objdump's AT&T
// text; a branch target gets " <sym+0xoff>", a RIP-relative operand " # 0x<addr> <sym>",
// as llvm-objdump -d prints them (the symbol part only when one is known).
void format_insn(lib::Sink& out, u64 addr, const u8* bytes, const disasm::Insn& insn, const ExSymbols& syms);

// x/i: `count` instructions from addr, or every instruction starting before `end` if end
// is not 0 (dis). Reads at most 15 bytes at a time and only what mem allows. An
// unreadable first byte, or an instruction cut off by unreadable memory, ends it with one
// "error: " line. Returns 0, or 1 after an error.
int examine_insns(lib::Sink& out, ExMemory& mem, u64 addr, disasm::Mode mode, u64 count, u64 end,
                  const ExSymbols& syms);

}  // namespace monitor
