// The examine commands' formats, shared by the kernel and the host tests: the spec after
// the '/' of x/<spec> and xp/<spec>, the value formats (gdb's letters), the byte dump
// of plain `x`, and disassembly (lines: disasm/format), as text and as the -j views'
// JSON. Memory comes through ExMemory, which reads only what may be read, so none of this
// can fault; symbols through ExSymbols.
#pragma once
#include "disasm/format.hpp"
#include "disasm/x86_decode.hpp"
#include "lib/fmt.hpp"
#include "lib/json.hpp"

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

// Memory and symbols as the disassembler's line format takes them (disasm/format), which
// the fault reports and debugger stops below the monitor use too.
using ExMemory = disasm::Memory;
using ExSymbolizer = disasm::Symbolizer;
using ExSymbols = disasm::Symbols;

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

// x/i: `count` instructions from addr, or every instruction starting before `end` if end
// is not 0 (dis). Reads at most 15 bytes at a time and only what mem allows. An
// unreadable first byte, or an instruction cut off by unreadable memory, ends it with one
// "error: " line. Returns 0, or 1 after an error.
int examine_insns(lib::Sink& out, ExMemory& mem, u64 addr, disasm::Mode mode, u64 count, u64 end,
                  const ExSymbols& syms);

// -j: the same data as JSON, written as the value of the caller's "units" (or
// "instructions") member. They print no error: the caller runs the text function into an
// ErrorLine first and gives its error, if any, as the one {"error":...} document. Memory
// that stops reading between the two (it changed under us) ends the array early.

// The format letter as the spec gives it: "x" "d" "u" "c" "s" "a", "i" (64-bit code),
// "i16", "i32".
const char* ex_format_name(const ExSpec& spec);

// x/<unit><x|d|u|c|a|s>: [{"address","value"}...]. value: x a hex string of 2 * unit digits,
// d and u a number, c a one-character string, a an address with "symbol" and "offset"
// (null without one); s: the string, and "truncated" (the text's "...": longer than
// kMaxStringBytes, the last unit).
void examine_json(lib::Json& j, ExMemory& mem, u64 addr, const ExSpec& spec, u64 count, const ExSymbols& syms);

// The views' shared members. A code address's symbol as two members, "symbol" (the name
// as the text prints it) and "offset" (a number), both null without a name (the text's
// `?`); a text column as a string, null for nullptr or the text's "-".
void symbol_members(lib::Json& j, const char* name, u64 offset);
void text_member(lib::Json& j, const char* key, const char* text);

// x/i and dis: [{"address","symbol","offset","bytes","text"}...]: symbol and offset as the
// line's prefix (null without one), bytes as one hex string ("4889e5"), text what the
// line prints after them (disasm::format_insn_text).
void examine_insns_json(lib::Json& j, ExMemory& mem, u64 addr, disasm::Mode mode, u64 count, u64 end,
                        const ExSymbols& syms);

// The plain dump's bytes as one string of 2-digit hex ("554889e5"); the caller checked.
void hexdump_json(lib::Json& j, ExMemory& mem, u64 addr, u64 len);

// The one error line a command or parser printed ("error: <message>\r\n"), kept so a -j
// view can give it as {"error":"<message>"}: parse_address and the symbol resolver print
// their own, and examine/examine_insns print theirs last. Keeps the last line written;
// message() is it without "error: ", cut at kMaxErrorLine - 1 bytes.
class ErrorLine final : public lib::Sink {
 public:
  static constexpr usize kMaxErrorLine = 512;
  void write(const char* s, usize n) override;
  const char* message() const;

 private:
  char buf_[kMaxErrorLine] = {};
  usize len_ = 0;
  bool ended_ = false;  // the line in buf_ is complete: the next byte starts another
};

}  // namespace monitor
