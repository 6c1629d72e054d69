#include "monitor/examine.hpp"

namespace monitor {
namespace {

constexpr u64 kLineBytes = 16;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A unit's raw bytes (zero-extended) as the signed number it holds.
i64 sign_extend(u64 raw, u8 unit) {
  unsigned bits = 8u * unit;
  if (bits == 0 || bits >= 64) return static_cast<i64>(raw);  // no unit, or nothing to extend
  return static_cast<i64>(raw << (64 - bits)) >> (64 - bits);
}

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
  switch (f) {
    case ExFormat::Signed: lib::format(out, "%ld", sign_extend(raw, unit)); break;
    case ExFormat::Unsigned: lib::format(out, "%lu", raw); break;
    case ExFormat::Char: put_char_literal(out, static_cast<u8>(raw)); break;
    case ExFormat::Address:
      lib::format(out, "0x%016lx", raw);
      disasm::put_symbol(out, syms.containing, raw, " <", ">");
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
    disasm::format_insn(out, addr, bytes, insn, syms);
    if (addr + insn.len < addr) break;  // the top of the address space
    addr += insn.len;
  }
  return 0;
}

const char* ex_format_name(const ExSpec& spec) {
  switch (spec.format) {
    case ExFormat::Signed: return "d";
    case ExFormat::Unsigned: return "u";
    case ExFormat::Char: return "c";
    case ExFormat::String: return "s";
    case ExFormat::Address: return "a";
    case ExFormat::Insn:
      if (spec.mode == disasm::Mode::Real16) return "i16";
      if (spec.mode == disasm::Mode::Prot32) return "i32";
      return "i";
    default: return "x";
  }
}

void symbol_members(lib::Json& j, const char* name, u64 offset) {
  if (name == nullptr) {
    j.key("symbol").null().key("offset").null();
    return;
  }
  j.member("symbol", name).member("offset", offset);
}

void text_member(lib::Json& j, const char* key, const char* text) {
  if (text == nullptr || (text[0] == '-' && text[1] == '\0')) {
    j.key(key).null();
    return;
  }
  j.member(key, text);
}

namespace {

// The symbol an address is in, as two members; both null without one.
void symbol_members(lib::Json& j, ExSymbolizer f, u64 addr) {
  u64 off = 0;
  const char* name = f != nullptr ? f(addr, &off) : nullptr;
  monitor::symbol_members(j, name, off);
}

void value_json(lib::Json& j, u64 raw, u8 unit, ExFormat f, const ExSymbols& syms) {
  j.key("value");
  switch (f) {
    case ExFormat::Signed: j.snum(sign_extend(raw, unit)); break;
    case ExFormat::Unsigned: j.num(raw); break;
    case ExFormat::Char: {
      char c = static_cast<char>(raw);
      j.str(&c, 1);
      break;
    }
    case ExFormat::Address:
      j.addr(raw);
      symbol_members(j, syms.containing, raw);
      break;
    default: j.hex(raw, 2u * unit); break;
  }
}

// x/s's strings, where the text's examine_strings stops: at a NUL, or after
// kMaxStringBytes characters (truncated, and no more strings).
void strings_json(lib::Json& j, ExMemory& mem, u64 addr, u64 count) {
  char s[kMaxStringBytes];
  for (u64 k = 0; k < count; ++k) {
    u64 n = 0;
    bool truncated = false;
    for (;;) {
      u8 c;
      if (mem.read(addr + n, &c, 1) != 1) return;  // changed under us
      if (c == '\0') break;
      if (n == kMaxStringBytes) {
        truncated = true;
        break;
      }
      s[n++] = static_cast<char>(c);
    }
    j.begin_object().member_addr("address", addr).key("value").str(s, static_cast<usize>(n));
    j.member("truncated", truncated).end_object();
    if (truncated) return;
    addr += n + 1;
  }
}

constexpr char kHexDigits[] = "0123456789abcdef";

// n bytes as 2-digit hex into out (2n + 1 bytes), NUL-terminated.
void hex_string(const u8* p, usize n, char* out) {
  for (usize i = 0; i < n; ++i) {
    out[2 * i] = kHexDigits[p[i] >> 4];
    out[2 * i + 1] = kHexDigits[p[i] & 0xf];
  }
  out[2 * n] = '\0';
}

// An instruction's text with its annotation: the decoder's text, then at most a symbol
// name (kernel names reach 430 characters) and a few words.
constexpr usize kInsnTextBytes = 1024;

}  // namespace

void examine_json(lib::Json& j, ExMemory& mem, u64 addr, const ExSpec& spec, u64 count, const ExSymbols& syms) {
  j.begin_array();
  if (spec.format == ExFormat::String) {
    strings_json(j, mem, addr, count);
  } else {
    for (u64 k = 0; k < count; ++k) {
      u8 buf[8];
      u64 a = addr + k * spec.unit;
      if (mem.read(a, buf, spec.unit) != spec.unit) break;  // changed under us
      j.begin_object().member_addr("address", a);
      value_json(j, load_le(buf, spec.unit), spec.unit, spec.format, syms);
      j.end_object();
    }
  }
  j.end_array();
}

void examine_insns_json(lib::Json& j, ExMemory& mem, u64 addr, disasm::Mode mode, u64 count, u64 end,
                        const ExSymbols& syms) {
  j.begin_array();
  for (u64 k = 0; end != 0 ? addr < end : k < count; ++k) {
    u8 bytes[disasm::kMaxInsnBytes];
    usize got = mem.read(addr, bytes, sizeof bytes);
    if (got == 0) break;
    disasm::Insn insn;
    disasm::decode(bytes, got, addr, mode, &insn);
    if (insn.truncated && got < sizeof bytes) break;
    j.begin_object().member_addr("address", addr);
    symbol_members(j, syms.containing, addr);
    char hex[2 * disasm::kMaxInsnBytes + 1];
    hex_string(bytes, insn.len, hex);
    j.member("bytes", hex);
    char text[kInsnTextBytes];
    lib::BufSink t(text, sizeof text);
    disasm::format_insn_text(t, insn, syms);
    j.key("text").str(t.str(), t.size()).end_object();
    if (addr + insn.len < addr) break;  // the top of the address space
    addr += insn.len;
  }
  j.end_array();
}

void hexdump_json(lib::Json& j, ExMemory& mem, u64 addr, u64 len) {
  j.begin_array();
  for (u64 off = 0; off < len; off += kLineBytes) {
    u8 p[kLineBytes] = {};
    usize n = static_cast<usize>(len - off < kLineBytes ? len - off : kLineBytes);
    (void)mem.read(addr + off, p, n);  // the caller checked; a failed read gives zeros, as the text
    char hex[2 * kLineBytes + 1];
    hex_string(p, n, hex);
    char ascii[kLineBytes];
    for (usize i = 0; i < n; ++i) ascii[i] = p[i] >= 0x20 && p[i] < 0x7f ? static_cast<char>(p[i]) : '.';
    j.begin_object().member_addr("address", addr + off).member("bytes", hex).key("ascii").str(ascii, n).end_object();
  }
  j.end_array();
}

void ErrorLine::write(const char* s, usize n) {
  for (usize i = 0; i < n; ++i) {
    if (ended_) {
      len_ = 0;
      ended_ = false;
    }
    if (s[i] == '\n')
      ended_ = true;
    else if (s[i] != '\r' && len_ + 1 < kMaxErrorLine)
      buf_[len_++] = s[i];
    buf_[len_] = '\0';
  }
}

const char* ErrorLine::message() const {
  constexpr char kPrefix[] = "error: ";
  constexpr usize kPrefixLen = sizeof kPrefix - 1;
  bool prefixed = len_ >= kPrefixLen;
  for (usize i = 0; prefixed && i < kPrefixLen; ++i) prefixed = buf_[i] == kPrefix[i];
  return prefixed ? buf_ + kPrefixLen : buf_;
}

}  // namespace monitor
