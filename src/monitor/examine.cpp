#include "monitor/examine.hpp"

namespace monitor {
namespace {

constexpr u64 kLineBytes = 16;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

u64 load_le(const u8* p, u8 unit) {
  u64 v = 0;
  for (u8 i = 0; i < unit; ++i) v |= static_cast<u64>(p[i]) << (8 * i);
  return v;
}

// A character as QEMU's HMP prints it (monitor_printc): 'A', '\n', '\x00'.
void put_char_literal(lib::Sink& out, u8 c) {
  out.put('\'');
  switch (c) {
    case '\'': lib::format(out, "\\'"); break;
    case '\\': lib::format(out, "\\\\"); break;
    case '\n': lib::format(out, "\\n"); break;
    case '\r': lib::format(out, "\\r"); break;
    default:
      if (c >= 32 && c <= 126)
        out.put(static_cast<char>(c));
      else
        lib::format(out, "\\x%02x", c);
  }
  out.put('\'');
}

// A byte inside a double-quoted string.
void put_string_char(lib::Sink& out, u8 c) {
  switch (c) {
    case '"': lib::format(out, "\\\""); break;
    case '\\': lib::format(out, "\\\\"); break;
    case '\n': lib::format(out, "\\n"); break;
    case '\r': lib::format(out, "\\r"); break;
    case '\t': lib::format(out, "\\t"); break;
    default:
      if (c >= 32 && c <= 126)
        out.put(static_cast<char>(c));
      else
        lib::format(out, "\\x%02x", c);
  }
}

int refuse(lib::Sink& out, ExMemory& mem, u64 addr) {
  lib::format(out, "error: 0x%016lx %s\n", addr, mem.why);
  return 1;
}

// Reads exactly n bytes (n <= kLineBytes) or reports where it stopped.
bool read_all(ExMemory& mem, u64 addr, u8* buf, usize n, u64* stop) {
  usize got = mem.read(addr, buf, n);
  if (got >= n) return true;
  *stop = addr + got;
  return false;
}

void put_symbol(lib::Sink& out, ExSymbolizer f, u64 addr, const char* before, const char* after) {
  if (f == nullptr) return;
  u64 off = 0;
  const char* name = f(addr, &off);
  if (name == nullptr) return;
  if (off == 0)
    lib::format(out, "%s%s%s", before, name, after);
  else
    lib::format(out, "%s%s+0x%lx%s", before, name, off, after);
}

int examine_strings(lib::Sink& out, ExMemory& mem, u64 addr, u64 count) {
  for (u64 k = 0; k < count; ++k) {
    u8 c;
    if (mem.read(addr, &c, 1) != 1) return refuse(out, mem, addr);
    lib::format(out, "0x%016lx: \"", addr);
    u64 n = 0;
    for (;;) {
      if (mem.read(addr + n, &c, 1) != 1) {
        lib::format(out, "\"\n");
        return refuse(out, mem, addr + n);
      }
      if (c == '\0') break;
      if (n == kMaxStringBytes) {
        lib::format(out, "\"...\n");
        return 0;  // too long: stop here, not an error
      }
      put_string_char(out, c);
      ++n;
    }
    lib::format(out, "\"\n");
    addr += n + 1;
  }
  return 0;
}

}  // namespace

bool parse_ex_spec(const char* s, ExSpec* out) {
  ExSpec r;
  bool have_unit = false, have_format = false;
  if (is_digit(*s)) {
    // Any count parses (saturated, never wrapped): whether it is in range is the caller's
    // one error, the same as for a count given as the last argument.
    u64 n = 0;
    while (is_digit(*s)) {
      u64 d = static_cast<u64>(*s++ - '0');
      n = n > (kCountSaturated - d) / 10 ? kCountSaturated : n * 10 + d;
    }
    r.has_count = true;
    r.count = n;
  }
  for (; *s != '\0'; ++s) {
    u8 unit = 0;
    switch (*s) {
      case 'b': unit = 1; break;
      case 'h': unit = 2; break;
      case 'w': unit = 4; break;
      case 'g': unit = 8; break;
      default: break;
    }
    if (unit != 0) {
      if (have_unit) return false;
      have_unit = true;
      r.unit = unit;
      continue;
    }
    if (have_format) return false;
    have_format = true;
    switch (*s) {
      case 'x': r.format = ExFormat::Hex; break;
      case 'd': r.format = ExFormat::Signed; break;
      case 'u': r.format = ExFormat::Unsigned; break;
      case 'c': r.format = ExFormat::Char; break;
      case 's': r.format = ExFormat::String; break;
      case 'a': r.format = ExFormat::Address; break;
      case 'i':
        r.format = ExFormat::Insn;
        if (s[1] == '1' && s[2] == '6') {
          r.mode = disasm::Mode::Real16;
          s += 2;
        } else if (s[1] == '3' && s[2] == '2') {
          r.mode = disasm::Mode::Prot32;
          s += 2;
        } else if (s[1] == '6' && s[2] == '4') {
          s += 2;
        }
        break;
      default: return false;
    }
  }
  switch (r.format) {
    case ExFormat::Char:
    case ExFormat::String:
      if (have_unit && r.unit != 1) return false;
      r.unit = 1;
      break;
    case ExFormat::Address:
      if (have_unit && r.unit != 8) return false;
      r.unit = 8;
      break;
    case ExFormat::Insn:
      if (have_unit) return false;
      r.unit = 1;
      break;
    default: break;
  }
  *out = r;
  return true;
}

void format_value(lib::Sink& out, u64 raw, u8 unit, ExFormat f, const ExSymbols& syms) {
  unsigned bits = 8u * unit;
  switch (f) {
    case ExFormat::Signed: {
      i64 v = bits == 64 ? static_cast<i64>(raw) : static_cast<i64>(raw << (64 - bits)) >> (64 - bits);
      lib::format(out, "%ld", v);
      break;
    }
    case ExFormat::Unsigned: lib::format(out, "%lu", raw); break;
    case ExFormat::Char: put_char_literal(out, static_cast<u8>(raw)); break;
    case ExFormat::Address:
      lib::format(out, "0x%016lx", raw);
      put_symbol(out, syms.containing, raw, " <", ">");
      break;
    default: lib::format(out, "0x%0*lx", static_cast<int>(unit * 2), raw); break;
  }
}

int examine(lib::Sink& out, ExMemory& mem, u64 addr, const ExSpec& spec, u64 count, const ExSymbols& syms) {
  if (spec.format == ExFormat::String) return examine_strings(out, mem, addr, count);
  u64 len = count * spec.unit;
  u8 buf[kLineBytes];
  // Everything must read before anything is printed: one error line, or the values.
  for (u64 off = 0; off < len; off += kLineBytes) {
    usize n = static_cast<usize>(len - off < kLineBytes ? len - off : kLineBytes);
    u64 stop;
    if (!read_all(mem, addr + off, buf, n, &stop)) return refuse(out, mem, stop);
  }
  u64 per_line = spec.format == ExFormat::Address ? 8 : kLineBytes;
  for (u64 off = 0; off < len; off += per_line) {
    usize n = static_cast<usize>(len - off < per_line ? len - off : per_line);
    u64 stop;
    if (!read_all(mem, addr + off, buf, n, &stop)) return refuse(out, mem, stop);  // changed under us
    lib::format(out, "0x%016lx:", addr + off);
    for (usize i = 0; i < n; i += spec.unit) {
      out.put(' ');
      format_value(out, load_le(buf + i, spec.unit), spec.unit, spec.format, syms);
    }
    lib::format(out, "\n");
  }
  return 0;
}

void hexdump(lib::Sink& out, ExMemory& mem, u64 addr, u64 len) {
  u8 p[kLineBytes];
  for (u64 off = 0; off < len; off += kLineBytes) {
    u64 n = len - off < kLineBytes ? len - off : kLineBytes;
    usize got = mem.read(addr + off, p, static_cast<usize>(n));
    for (usize i = got; i < n; ++i) p[i] = 0;  // the caller checked; never print stale bytes
    lib::format(out, "0x%016lx:", addr + off);
    for (u64 i = 0; i < kLineBytes; ++i) {
      if (i < n)
        lib::format(out, " %02x", p[i]);
      else
        lib::format(out, "   ");
    }
    lib::format(out, "  |");
    for (u64 i = 0; i < n; ++i) {
      u8 c = p[i];
      out.put(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
    }
    lib::format(out, "|\n");
  }
}

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

void format_insn(lib::Sink& out, u64 addr, const u8* bytes, const disasm::Insn& insn, const ExSymbols& syms) {
  lib::format(out, "0x%016lx", addr);
  u64 off = 0;
  const char* name = syms.containing != nullptr ? syms.containing(addr, &off) : nullptr;
  if (name != nullptr) lib::format(out, " %s+0x%lx", name, off);
  out.put(':');
  for (u8 i = 0; i < insn.len; ++i) lib::format(out, " %02x", bytes[i]);
  lib::format(out, "  %s", insn.text);
  u64 imm = 0;
  bool has_imm = !insn.bad && imm_comment(insn.text, &imm);
  if (!insn.bad && insn.ref_kind == disasm::Ref::Branch) {
    put_symbol(out, syms.nearest, insn.ref, " <", ">");
  } else if (has_imm) {
    lib::format(out, " # imm = 0x%lX", imm);
  } else if (!insn.bad && insn.ref_kind == disasm::Ref::Memory) {
    lib::format(out, " # 0x%lx", insn.ref);
    put_symbol(out, syms.nearest, insn.ref, " <", ">");
  }
  lib::format(out, "\n");
}

int examine_insns(lib::Sink& out, ExMemory& mem, u64 addr, disasm::Mode mode, u64 count, u64 end,
                  const ExSymbols& syms) {
  for (u64 k = 0; end != 0 ? addr < end : k < count; ++k) {
    u8 bytes[disasm::kMaxInsnBytes];
    usize got = mem.read(addr, bytes, sizeof bytes);
    if (got == 0) return refuse(out, mem, addr);
    disasm::Insn insn;
    disasm::decode(bytes, got, addr, mode, &insn);
    if (insn.truncated && got < sizeof bytes) {
      lib::format(out, "error: the instruction at 0x%016lx runs into 0x%016lx, which %s\n", addr, addr + got, mem.why);
      return 1;
    }
    format_insn(out, addr, bytes, insn, syms);
    if (addr + insn.len < addr) break;  // the top of the address space
    addr += insn.len;
  }
  return 0;
}

}  // namespace monitor
