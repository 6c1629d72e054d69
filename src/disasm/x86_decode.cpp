// x86 decoder: prefixes, opcode maps, ModRM/SIB (SDM Vol. 2A chapter 2), formatted the
// way LLVM 14's AT&T printer does. Quirks of that printer that the tables cannot say
// are marked "llvm:" where they are handled.
#include "disasm/x86_decode.hpp"

#include "disasm/x86_tables.hpp"

// The monitor decodes a screenful at a time: size matters more than speed here, so
// every function is built as if with -Oz (about half the code of -O1/-O2).
#pragma clang attribute push(__attribute__((minsize)), apply_to = function)

namespace disasm {
namespace {

using i8 = int8_t;
using tables::kAlu;
using tables::kCond;

// Prefix and escape bytes (SDM Vol. 2A 2.1.1, 2.3.5 VEX, A.2 opcode maps).
constexpr u8 kLock = 0xf0;
constexpr u8 kRepne = 0xf2;
constexpr u8 kRep = 0xf3;
constexpr u8 kOpSize = 0x66;
constexpr u8 kAddrSize = 0x67;
constexpr u8 kEscape = 0x0f;
constexpr u8 kEscape38 = 0x38;
constexpr u8 kEscape3A = 0x3a;
constexpr u8 kVex3 = 0xc4;
constexpr u8 kVex2 = 0xc5;
constexpr u8 kRexW = 8, kRexR = 4, kRexX = 2, kRexB = 1;
constexpr u8 kModReg = 3;  // ModRM.mod of a register operand
constexpr u8 kRmSib = 4;   // ModRM.rm (32/64-bit addressing) that brings a SIB byte
constexpr u8 kRmDisp = 5;  // ModRM.rm with mod 0: disp32 (RIP-relative in long mode)

const char* const kReg64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
const char* const kReg32[16] = {"eax", "ecx", "edx",  "ebx",  "esp",  "ebp",  "esi",  "edi",
                                "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
const char* const kReg16[16] = {"ax",  "cx",  "dx",   "bx",   "sp",   "bp",   "si",   "di",
                                "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
const char* const kReg8[16] = {"al",  "cl",  "dl",   "bl",   "spl",  "bpl",  "sil",  "dil",
                               "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
const char* const kReg8High[4] = {"ah", "ch", "dh", "bh"};  // 4-7 without a REX prefix
const char* const kSeg[8] = {"es", "cs", "ss", "ds", "fs", "gs", nullptr, nullptr};
// 16-bit addressing (SDM Vol. 2A Table 2-1): base and index by ModRM.rm, -1 none.
constexpr i8 kBase16[8] = {3, 3, 5, 5, 6, 7, 5, 3};       // bx bx bp bp si di bp bx
constexpr i8 kIndex16[8] = {6, 7, 6, 7, -1, -1, -1, -1};  // si di si di

// A bounded text buffer; the longest text (a VEX op with four memory-free operands or
// a prefixed string op with overrides) stays far below kTextBytes.
// Its members stay out of line: inlined into every operand printer they would triple
// the decoder's code size.
class Text {
 public:
  Text(char* buf, usize cap) : buf_(buf), cap_(cap) { buf_[0] = '\0'; }
  [[gnu::noinline]] void put(char c) {
    if (len_ + 1 < cap_) {
      buf_[len_++] = c;
      buf_[len_] = '\0';
    }
  }
  [[gnu::noinline]] void put(const char* s) {
    while (*s != '\0') put(*s++);
  }
  void put(const char* s, usize n) {
    for (usize i = 0; i < n && s[i] != '\0'; ++i) put(s[i]);
  }
  [[gnu::noinline]] void udec(u64 v) {
    char d[24];
    int n = 0;
    do {
      d[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) put(d[--n]);
  }
  [[gnu::noinline]] void sdec(i64 v) {
    if (v < 0) {
      put('-');
      udec(static_cast<u64>(0) - static_cast<u64>(v));
    } else {
      udec(static_cast<u64>(v));
    }
  }
  [[gnu::noinline]] void hex(u64 v) {
    put("0x");
    char d[16];
    int n = 0;
    do {
      d[n++] = "0123456789abcdef"[v & 0xf];
      v >>= 4;
    } while (v != 0);
    while (n > 0) put(d[--n]);
  }
  usize len() const { return len_; }
  void truncate(usize n) {
    len_ = n;
    buf_[n] = '\0';
  }

 private:
  char* buf_;
  usize cap_;
  usize len_ = 0;
};

// A piece of a table entry: [p, p + n).
struct Str {
  const char* p = nullptr;
  usize n = 0;
  bool empty() const { return n == 0; }
  char at(usize i) const { return i < n ? p[i] : '\0'; }
};

Str make_str(const char* s) {
  Str r{s, 0};
  if (s != nullptr)
    while (s[r.n] != '\0') ++r.n;
  return r;
}

// Field `idx` of `s` separated by `sep`; a missing field is empty.
Str field(Str s, char sep, int idx) {
  usize start = 0;
  for (int f = 0;; ++f) {
    usize end = start;
    while (end < s.n && s.p[end] != sep) ++end;
    if (f == idx) return Str{s.p + start, end - start};
    if (end >= s.n) return Str{s.p, 0};
    start = end + 1;
  }
}

bool contains(Str s, char c) {
  for (usize i = 0; i < s.n; ++i)
    if (s.p[i] == c) return true;
  return false;
}

constexpr int kMaxOps = 4;

struct Operand {
  char kind = 0;  // first letter of the code
  char size = 0;  // second letter
  bool indirect = false;
  i64 imm = 0;   // immediate / relative displacement / moffs
  u64 imm2 = 0;  // far pointer selector
};

class Decoder {
 public:
  Decoder(const u8* bytes, usize avail, u64 addr, Mode mode, Insn* out)
      : bytes_(bytes), avail_(avail), addr_(addr), mode_(mode), out_(out) {}
  bool run();
  bool truncated() const { return truncated_; }

 private:
  bool long_mode() const { return mode_ == Mode::Long64; }
  bool fetch(u8* b);
  bool peek(u8* b, usize ahead = 0) const {
    if (pos_ + ahead >= avail_) return false;
    *b = bytes_[pos_ + ahead];
    return true;
  }
  bool fetch_le(int n, u64* v);
  bool read_modrm();
  bool read_mem();
  bool prefixes();
  bool decode_opcode();
  bool decode_one(u8 op);
  bool decode_map(int map, u8 op);
  bool decode_vex(u8 op);
  bool decode_x87(u8 op);
  bool select(Str* e);
  [[gnu::noinline]] bool entry(Str e, int map, u8 op);
  bool entry(const char* e, int map, u8 op) { return entry(make_str(e), map, op); }
  bool parse_ops(Str ops);
  bool read_imms();
  void set_sizes(char flag);
  u8 size_of(const Operand& o) const;
  u8 op_size() const;
  void set_name(Str name);
  void put_reg(Text& t, u8 num, u8 size) const;
  void put_xmm(Text& t, u8 num) const;
  void put_mem(Text& t) const;
  [[gnu::noinline]] void put_operand(Text& t, const Operand& o) const;
  void emit();

  const u8* bytes_;
  usize avail_;
  u64 addr_;
  Mode mode_;
  Insn* out_;
  usize pos_ = 0;
  bool truncated_ = false;

  // Prefixes.
  u8 rex_ = 0;
  bool opsize_ = false, addrsize_ = false, lock_ = false;
  u8 rep_ = 0;
  int seg_ = -1;
  const char* pseudo_ = nullptr;  // the whole instruction is this prefix pseudo-op
  bool vex_ = false, vex_l_ = false;
  u8 vvvv_ = 0, vex_pp_ = 0;
  bool sse66_ = false;     // a 66 prefix made an MMX operand XMM
  bool rep_used_ = false;  // F2/F3 selected an opcode (or is part of one): not "rep"
  bool rep_print_ = true;  // llvm prints rep/repne for the one-byte map only

  // ModRM and the memory operand it describes.
  bool have_modrm_ = false;
  u8 mod_ = 0, reg_ = 0, rm_ = 0;
  i8 base_ = -1, index_ = -1;  // register numbers; base -2 is RIP
  bool riz_ = false;
  u8 scale_ = 1;
  i64 disp_ = 0;

  u8 os_ = 4, as_ = 8;  // operand and address size in bytes
  u8 opcode_ = 0;       // last opcode byte (Z operands)
  char name_[24] = {};
  char sep_ = '\t';  // between mnemonic and operands
  Operand ops_[kMaxOps];
  int nops_ = 0;
};

bool Decoder::fetch(u8* b) {
  if (pos_ >= kMaxInsnBytes) return false;
  if (pos_ >= avail_) {
    truncated_ = true;
    return false;
  }
  *b = bytes_[pos_++];
  return true;
}

bool Decoder::fetch_le(int n, u64* v) {
  *v = 0;
  for (int i = 0; i < n; ++i) {
    u8 b;
    if (!fetch(&b)) return false;
    *v |= static_cast<u64>(b) << (8 * i);
  }
  return true;
}

i64 sign_extend(u64 v, int bytes) {
  if (bytes >= 8) return static_cast<i64>(v);
  u64 sign = 1ull << (8 * bytes - 1);
  u64 mask = (sign << 1) - 1;
  v &= mask;
  return static_cast<i64>((v ^ sign) - sign);
}

bool Decoder::read_modrm() {
  if (have_modrm_) return true;
  u8 m;
  if (!fetch(&m)) return false;
  have_modrm_ = true;
  mod_ = m >> 6;
  reg_ = ((m >> 3) & 7) | ((rex_ & kRexR) ? 8 : 0);
  rm_ = (m & 7) | ((rex_ & kRexB) ? 8 : 0);
  return mod_ == kModReg ? true : read_mem();
}

// The memory form of ModRM (SDM Vol. 2A 2.1.5, Tables 2-1 to 2-3; 2.2.1.6 RIP-relative).
bool Decoder::read_mem() {
  u64 d = 0;
  u8 rm3 = rm_ & 7;
  if (as_ == 2) {
    base_ = kBase16[rm3];
    index_ = kIndex16[rm3];
    int dbytes = mod_ == 1 ? 1 : mod_ == 2 ? 2 : 0;
    if (mod_ == 0 && rm3 == 6) {
      base_ = -1;
      dbytes = 2;
    }
    if (!fetch_le(dbytes, &d)) return false;
    disp_ = dbytes ? sign_extend(d, dbytes) : 0;
    return true;
  }
  base_ = static_cast<i8>(rm_);
  int dbytes = mod_ == 1 ? 1 : mod_ == 2 ? 4 : 0;
  if (rm3 == kRmSib) {
    u8 sib;
    if (!fetch(&sib)) return false;
    scale_ = static_cast<u8>(1u << (sib >> 6));
    u8 idx = ((sib >> 3) & 7) | ((rex_ & kRexX) ? 8 : 0);
    index_ = idx == 4 ? -1 : static_cast<i8>(idx);
    base_ = static_cast<i8>((sib & 7) | ((rex_ & kRexB) ? 8 : 0));
    if ((sib & 7) == kRmDisp && mod_ == 0) {
      base_ = -1;
      dbytes = 4;
    }
    // llvm: a SIB byte without an index prints %riz/%eiz when ModRM alone could have
    // said the same thing (X86Disassembler.cpp, translateRMMemory).
    if (index_ < 0) {
      bool base_needs_sib = base_ == 4 || base_ == 12;
      riz_ = scale_ != 1 || (base_ < 0 && !long_mode()) || (base_ >= 0 && !base_needs_sib);
    }
  } else if (rm3 == kRmDisp && mod_ == 0) {
    base_ = long_mode() ? -2 : -1;
    dbytes = 4;
  }
  if (!fetch_le(dbytes, &d)) return false;
  disp_ = dbytes ? sign_extend(d, dbytes) : 0;
  return true;
}

int seg_prefix(u8 b) {
  switch (b) {
    case 0x26: return 0;
    case 0x2e: return 1;
    case 0x36: return 2;
    case 0x3e: return 3;
    case 0x64: return 4;
    case 0x65: return 5;
    default: return -1;
  }
}

bool is_legacy_prefix(u8 b) {
  return b == kLock || b == kRepne || b == kRep || b == kOpSize || b == kAddrSize || seg_prefix(b) >= 0;
}

// Legacy prefixes in any order, then at most one REX (SDM Vol. 2A 2.2.1).
bool Decoder::prefixes() {
  u8 b;
  for (;;) {
    if (!peek(&b)) {
      truncated_ = true;
      return false;
    }
    if (!is_legacy_prefix(b)) break;
    ++pos_;
    if (pos_ >= kMaxInsnBytes) return false;
    if (b == kLock) lock_ = true;
    if (b == kRepne || b == kRep) rep_ = b;
    if (b == kOpSize) opsize_ = true;
    if (b == kAddrSize) addrsize_ = true;
    if (seg_prefix(b) >= 0) seg_ = seg_prefix(b);
  }
  if (long_mode() && (b & 0xf0) == 0x40) {
    rex_ = b;
    ++pos_;
    // llvm: REX then REX.W alone is the "rex64" pseudo-op, any other REX pair is bad
    if (peek(&b) && (b & 0xf0) == 0x40) {
      if (b != 0x48) return false;
      ++pos_;
      pseudo_ = "rex64";
      return true;
    }
    // llvm: a legacy prefix after REX ends the instruction as a prefix pseudo-op of its
    // own ("data16", "rep", "cs", ...); another REX is undecodable.
    if (peek(&b) && is_legacy_prefix(b)) {
      static const char* const kSegPseudo[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
      const char* n = b == kLock       ? "lock"
                      : b == kRepne    ? "repne"
                      : b == kRep      ? "rep"
                      : b == kOpSize   ? "data16"
                      : b == kAddrSize ? "addr32"
                                       : kSegPseudo[seg_prefix(b)];
      ++pos_;
      pseudo_ = n;
    }
  }
  return true;
}

void Decoder::set_sizes(char flag) {
  switch (mode_) {
    case Mode::Real16:
      os_ = opsize_ ? 4 : 2;
      as_ = addrsize_ ? 4 : 2;
      break;
    case Mode::Prot32:
      os_ = opsize_ ? 2 : 4;
      as_ = addrsize_ ? 2 : 4;
      break;
    case Mode::Long64:
      os_ = (rex_ & kRexW) ? 8 : opsize_ ? 2 : (flag == '^' ? 8 : 4);
      if (flag == '-' && (rex_ & kRexW)) os_ = 4;
      if (flag == '&') os_ = 8;
      as_ = addrsize_ ? 4 : 8;
      break;
  }
}

u8 size_code(char c, u8 os, u8 rexw, bool reg) {
  switch (c) {
    case 'b': return 1;
    case 'w': return 2;
    case 'd': return 4;
    case 'q': return 8;
    case 'v':
    case 'p': return os;
    case 'y': return rexw ? 8 : 4;
    case 'x': return reg ? os : 2;
    default: return 0;
  }
}

u8 Decoder::size_of(const Operand& o) const {
  if (o.kind == 'R' && o.size == 'd') return long_mode() ? 8 : 4;  // CR/DR moves
  return size_code(o.size, os_, rex_ & kRexW, mod_ == kModReg);
}

// The operation size behind the AT&T suffix and Iz/Iv immediates: the first sized
// general-purpose operand, else the operand size.
u8 Decoder::op_size() const {
  for (int i = 0; i < nops_; ++i) {
    const Operand& o = ops_[i];
    if (o.kind == 'E' || o.kind == 'G' || o.kind == 'Z' || o.kind == 'M' || o.kind == 'R') {
      u8 s = size_of(o);
      if (s != 0) return s;
    }
  }
  return os_;
}

void Decoder::set_name(Str name) {
  usize n = 0;
  if (vex_) name_[n++] = 'v';
  for (usize i = 0; i < name.n && n + 2 < sizeof(name_); ++i) {
    char c = name.p[i];
    if (c == '*') {
      u8 s = op_size();
      c = s == 1 ? 'b' : s == 2 ? 'w' : s == 4 ? 'l' : 'q';
    } else if (c == '%') {  // pextrd/pextrq, pinsrd/pinsrq
      c = (rex_ & kRexW) ? 'q' : 'd';
    } else if (c == '$') {  // llvm: cvtsi2ss/sd spell the integer size for memory only
      if (mod_ == kModReg) continue;
      c = (rex_ & kRexW) ? 'q' : 'l';
    }
    name_[n++] = c;
  }
  name_[n] = '\0';
}

// Appends the operand codes of `ops` to ops_.
bool Decoder::parse_ops(Str ops) {
  for (int i = 0; nops_ < kMaxOps; ++i) {
    Str f = field(ops, ',', i);
    if (f.empty()) break;
    Operand o;
    if (f.at(0) == '*') {
      o.indirect = true;
      f = Str{f.p + 1, f.n - 1};
    }
    o.kind = f.at(0);
    o.size = f.at(1);
    ops_[nops_++] = o;
  }
  return true;
}

// Selects the variant of an entry for the mode (';') and the mandatory prefix ('|').
bool Decoder::select(Str* e) {
  if (contains(*e, ';')) *e = field(*e, ';', long_mode() ? 1 : 0);
  if (!contains(*e, '|')) return !e->empty();
  int idx = 0;
  if (vex_) {
    idx = vex_pp_;  // SDM 2.3.5.5: pp 0 none, 1 66, 2 F3, 3 F2
  } else {
    if (rep_ != 0) {  // llvm: no fallback to the unprefixed form
      *e = field(*e, '|', rep_ == kRep ? 2 : 3);
      rep_used_ = true;
      return !e->empty();
    }
    idx = opsize_ && !field(*e, '|', 1).empty() ? 1 : 0;
  }
  *e = field(*e, '|', idx);
  if (idx == 1 && !vex_) opsize_ = false;  // consumed as a mandatory prefix
  return !e->empty();
}

bool starts(const char* s, const char* prefix) {
  while (*prefix != '\0')
    if (*s++ != *prefix++) return false;
  return true;
}

bool streq(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// Scalar and GPR-transfer VEX instructions ignore VEX.L (SDM Vol. 2A 2.3.6.2 "LIG"):
// llvm prints their registers as xmm whatever L says.
bool vex_ignores_l(const char* n) {
  usize len = 0;
  while (n[len] != '\0') ++len;
  // The broadcasts end in ss/sd too but do use L: their destination is ymm with L=1.
  if (starts(n, "vbroadcast")) return false;
  if (len >= 2 && n[len - 2] == 's' && (n[len - 1] == 's' || n[len - 1] == 'd')) return true;
  for (usize i = 0; i + 2 < len; ++i)
    if (n[i] == '2' && n[i + 1] == 's' && n[i + 2] == 'i') return true;  // cvtsi2sd, cvtss2si
  return streq(n, "vmovd") || streq(n, "vmovq") || starts(n, "vpextr") || starts(n, "vpinsr") ||
         starts(n, "vextractps") || starts(n, "vinsertps");
}

bool Decoder::entry(Str e, int map, u8 op) {
  if (!select(&e)) return false;
  char flag = 0;
  for (; e.n > 0; e = Str{e.p + 1, e.n - 1}) {
    char c = e.p[0];
    if (c == '~') {
      if (long_mode()) return false;
    } else if (c == '!') {
      if (!long_mode()) return false;
    } else if (c == '?') {
      if (!vex_) return false;
    } else if (c == '^' || c == '&' || c == '-') {
      flag = c;
    } else {
      break;
    }
  }
  Str name = field(e, ' ', 0);
  Str ops = e.n > name.n ? Str{e.p + name.n + 1, e.n - name.n - 1} : Str{};
  Str extra;
  if (name.at(0) == '#') {
    if (!read_modrm()) return false;
    Str g = make_str(tables::kGroups[name.at(1) - 'a'][reg_ & 7]);
    if (contains(g, '@')) g = field(g, '@', mod_ == kModReg ? 1 : 0);
    if (!select(&g)) return false;
    while (g.at(0) == '^' || g.at(0) == '&') {
      flag = g.at(0);
      g = Str{g.p + 1, g.n - 1};
    }
    name = field(g, ' ', 0);
    if (g.n > name.n) {
      Str gops{g.p + name.n + 1, g.n - name.n - 1};
      if (gops.at(0) == '+') {
        extra = Str{gops.p + 1, gops.n - 1};
      } else {
        ops = gops;
      }
    }
  }
  nops_ = 0;
  parse_ops(ops);
  parse_ops(extra);

  for (int i = 0; i < nops_; ++i) {
    if (ops_[i].kind == 'P' || ops_[i].kind == 'Q' || ops_[i].kind == 'N') {
      if (ops_[i].size == 'q' && (opsize_ || vex_)) {
        sse66_ = true;
        opsize_ = false;
      }
    }
  }
  set_sizes(flag);
  for (int i = 0; i < nops_; ++i) {
    char k = ops_[i].kind;
    bool needs_modrm = k == 'E' || k == 'G' || k == 'M' || k == 'R' || k == 'S' || k == 'C' || k == 'D' || k == 'V' ||
                       k == 'W' || k == 'U' || k == 'P' || k == 'Q' || k == 'N';
    if (needs_modrm && !read_modrm()) return false;
    if ((k == 'M' && mod_ == kModReg) || ((k == 'U' || k == 'N' || k == 'R') && mod_ != kModReg)) return false;
    if (k == 'S' && (reg_ & 7) > 5) return false;
  }
  (void)map;
  (void)op;
  if (!read_imms()) return false;
  set_name(name);
  if (vex_ && vex_ignores_l(name_)) vex_l_ = false;
  if (name_[0] == 'u' && name_[1] == 'd' && name_[2] == '1') sep_ = ' ';  // llvm: "ud1l %eax, %eax"
  return true;
}

// Immediates, relative offsets and moffs follow ModRM/SIB/displacement in operand order.
bool Decoder::read_imms() {
  for (int i = 0; i < nops_; ++i) {
    Operand& o = ops_[i];
    u64 v = 0;
    switch (o.kind) {
      case 'I': {
        int n = 1;
        if (o.size == 'w' || o.size == 'r') n = 2;
        if (o.size == 'z') n = op_size() >= 4 ? 4 : op_size();
        if (o.size == 'v') n = os_;
        if (!fetch_le(n, &v)) return false;
        o.imm = sign_extend(v, n);
        break;
      }
      case 'J': {
        int n = o.size == 'b' ? 1 : os_ == 2 ? 2 : 4;
        if (!fetch_le(n, &v)) return false;
        o.imm = sign_extend(v, n);
        break;
      }
      case 'L':  // register in imm8[7:4]
        if (!fetch_le(1, &v)) return false;
        o.imm = static_cast<i64>(v >> 4);
        break;
      case 'O':
        if (!fetch_le(as_, &v)) return false;
        o.imm = static_cast<i64>(v);
        break;
      case 'A':  // ptr16:16 / ptr16:32, offset first (SDM Vol. 2A 3.1.1.3)
        if (!fetch_le(os_ == 2 ? 2 : 4, &v)) return false;
        o.imm = static_cast<i64>(v);
        if (!fetch_le(2, &o.imm2)) return false;
        break;
      default: break;
    }
  }
  return true;
}

void Decoder::put_reg(Text& t, u8 num, u8 size) const {
  t.put('%');
  num &= 15;
  switch (size) {
    case 1:
      if (rex_ == 0 && !vex_ && num >= 4 && num < 8)
        t.put(kReg8High[num - 4]);
      else
        t.put(kReg8[num]);
      break;
    case 2: t.put(kReg16[num]); break;
    case 4: t.put(kReg32[num]); break;
    default: t.put(kReg64[num]); break;
  }
}

void Decoder::put_xmm(Text& t, u8 num) const {
  t.put(vex_l_ ? "%ymm" : "%xmm");
  t.udec(num & 15);
}

void Decoder::put_mem(Text& t) const {
  if (seg_ >= 0) {
    t.put('%');
    t.put(kSeg[seg_]);
    t.put(':');
  }
  if (base_ == -2) {
    if (disp_ != 0) t.sdec(disp_);
    t.put(as_ == 4 ? "(%eip)" : "(%rip)");
    return;
  }
  bool has_index = index_ >= 0 || riz_;
  if (disp_ != 0 || (base_ < 0 && !has_index)) t.sdec(disp_);
  if (base_ < 0 && !has_index) return;
  t.put('(');
  if (base_ >= 0) put_reg(t, static_cast<u8>(base_), as_);
  if (has_index) {
    t.put(',');
    if (index_ >= 0)
      put_reg(t, static_cast<u8>(index_), as_);
    else
      t.put(as_ == 8 ? "%riz" : "%eiz");
    if (scale_ != 1) {
      t.put(',');
      t.udec(scale_);
    }
  }
  t.put(')');
}

void Decoder::put_operand(Text& t, const Operand& o) const {
  if (o.indirect) t.put('*');
  u8 size = size_of(o);
  switch (o.kind) {
    case 'E':
      if (mod_ == kModReg)
        put_reg(t, rm_, size);
      else
        put_mem(t);
      return;
    case 'M': put_mem(t); return;
    case 'G': put_reg(t, reg_, size); return;
    case 'R': put_reg(t, rm_, size); return;
    case 'Z': put_reg(t, static_cast<u8>((opcode_ & 7) | ((rex_ & kRexB) ? 8 : 0)), size); return;
    case 'S':
      t.put('%');
      t.put(kSeg[reg_ & 7]);
      return;
    case 'C':
    case 'D':
      t.put(o.kind == 'C' ? "%cr" : "%dr");
      t.udec(reg_);
      return;
    case 'V': put_xmm(t, reg_); return;
    case 'H': put_xmm(t, vvvv_); return;
    case 'L': put_xmm(t, static_cast<u8>(o.imm)); return;
    case 'U':
    case 'W':
      if (mod_ != kModReg) {
        put_mem(t);
      } else if (o.size == 'h') {
        t.put("%xmm");
        t.udec(rm_);
      } else {
        put_xmm(t, rm_);
      }
      return;
    case 'P':
      if (sse66_ && o.size == 'q') {
        put_xmm(t, reg_);
      } else {
        t.put("%mm");
        t.udec(reg_ & 7);
      }
      return;
    case 'N':
    case 'Q':
      if (mod_ != kModReg) {
        put_mem(t);
      } else if (sse66_ && o.size == 'q') {
        put_xmm(t, rm_);
      } else {
        t.put("%mm");
        t.udec(rm_ & 7);
      }
      return;
    case 'I': {
      t.put('$');
      if (o.size == 'r') {  // llvm: RET/LRET imm16 prints unsigned with a 16-bit operand size
        if (os_ == 2)
          t.udec(static_cast<u64>(o.imm) & 0xffff);
        else
          t.sdec(o.imm);
        return;
      }
      u8 s = o.size == 'z' ? op_size() : o.size == 'v' ? os_ : 0;
      // llvm: 8-bit and sign-extended immediates print signed, operand-size ones
      // (16/32 bits) unsigned, port numbers, counts and vectors unsigned.
      if (o.size == 'u')
        t.udec(static_cast<u64>(o.imm) & 0xff);
      else if (s == 2 || s == 4)
        t.udec(static_cast<u64>(o.imm) & (s == 2 ? 0xffffull : 0xffffffffull));
      else
        t.sdec(o.imm);
      return;
    }
    case 'J': t.hex(out_->ref); return;
    case 'O':
      if (seg_ >= 0) {
        t.put('%');
        t.put(kSeg[seg_]);
        t.put(':');
      }
      if (as_ == 8)
        t.sdec(o.imm);
      else
        t.udec(static_cast<u64>(o.imm));
      return;
    case 'A':
      t.put('$');
      t.sdec(sign_extend(o.imm2, 2));
      t.put(", $");
      t.udec(static_cast<u64>(o.imm));
      return;
    case 'X':
    case 'Y':
      if (o.kind == 'Y' || seg_ >= 0) {
        t.put('%');
        t.put(o.kind == 'Y' ? "es" : kSeg[seg_]);
        t.put(':');
      }
      t.put('(');
      put_reg(t, o.kind == 'Y' ? 7 : 6, as_);
      t.put(')');
      return;
    case 'T':  // x87: size '0' is %st, else %st(ModRM.rm)
      t.put("%st");
      if (o.size != '0') {
        t.put('(');
        t.udec(rm_ & 7);
        t.put(')');
      }
      return;
    case 'a':
      if (o.size == 'v') {
        put_reg(t, 0, os_);
        return;
      }
      [[fallthrough]];
    default:  // a literal register name
      if (o.kind == 'x') {
        t.put("%xmm0");
        return;
      }
      t.put('%');
      t.put(o.kind);
      t.put(o.size);
      return;
  }
}

// ALU rows of the one-byte map (00-3F columns 0-5), by bits 2:0.
const char* const kAluForms[6] = {"Eb,Gb", "Ev,Gv", "Gb,Eb", "Gv,Ev", "al,Ib", "av,Iz"};

bool Decoder::decode_one(u8 op) {
  char buf[32];
  Text t(buf, sizeof(buf));
  if (op < 0x40) {
    u8 row = op >> 3, col = op & 7;
    if (col < 6) {
      t.put(kAlu[row]);
      t.put(col & 1 ? "* " : "b ");
      t.put(kAluForms[col]);
      return entry(buf, 0, op);
    }
    if (row < 4) {  // push/pop es, cs, ss, ds (0F is the escape, never here)
      t.put(col == 6 ? "~^push* " : "~^pop* ");
      t.put(kSeg[row]);
      return entry(buf, 0, op);
    }
    static const char* const kBcd[4] = {"~daa", "~das", "~aaa", "~aas"};
    return entry(kBcd[row - 4], 0, op);
  }
  if (op >= 0x70 && op < 0x80) {
    t.put("^j");
    t.put(kCond[op & 0xf]);
    t.put(" Jb");
    return entry(buf, 0, op);
  }
  switch (op) {
    case 0x90:
      if (rex_ & kRexB) return entry("xchg* av,Zv", 0, op);
      if (rep_ == kRep) {
        rep_used_ = true;
        return entry("pause", 0, op);
      }
      return entry("nop", 0, op);
    case 0x98:
    case 0x99: {
      set_sizes(0);
      static const char* const kConv[2][3] = {{"cbtw", "cwtl", "cltq"}, {"cwtd", "cltd", "cqto"}};
      // llvm: in 16-bit mode 98/99 always print as their 32-bit forms
      int i = mode_ == Mode::Real16 ? 1 : os_ == 2 ? 0 : os_ == 4 ? 1 : 2;
      return entry(kConv[op - 0x98][i], 0, op);
    }
    case 0xc8:
      if (!entry("enter Iw,Ib", 0, op)) return false;
      {
        Operand tmp = ops_[0];  // llvm prints the frame size first
        ops_[0] = ops_[1];
        ops_[1] = tmp;
      }
      return true;
    case 0xe3: set_sizes(0); return entry(as_ == 2 ? "jcxz Jb" : as_ == 4 ? "jecxz Jb" : "jrcxz Jb", 0, op);
    case 0xc6:
    case 0xc7: {
      u8 m;
      if (peek(&m) && m == 0xf8) {  // RTM (SDM Vol. 2A XABORT, XBEGIN)
        ++pos_;
        return entry(op == 0xc6 ? "xabort Ib" : "xbegin Jz", 0, op);
      }
      break;
    }
    case 0xa0:
    case 0xa1:
    case 0xa2:
    case 0xa3:
      // llvm: "movabs" only with a 64-bit moffs
      if (long_mode() && addrsize_) return entry(field(make_str(tables::kOneByte[op - 0x40]), ';', 0), 0, op);
      break;
    case 0x86:
    case 0x87:
      if (!entry(tables::kOneByte[op - 0x40], 0, op)) return false;
      if (mod_ == kModReg) {  // llvm: the register form prints its operands the other way
        Operand tmp = ops_[0];
        ops_[0] = ops_[1];
        ops_[1] = tmp;
      }
      return true;
    default: break;
  }
  if (op >= 0xd8 && op <= 0xdf) return decode_x87(op);
  if (!entry(tables::kOneByte[op - 0x40], 0, op)) return false;
  if ((op == 0xd4 || op == 0xd5) && ops_[0].imm == 10) nops_ = 0;  // llvm: base 10 is implied
  if (op >= 0xb8 && os_ == 8 && op <= 0xbf) set_name(make_str("movabsq"));
  return true;
}

bool Decoder::decode_x87(u8 op) {
  if (!read_modrm()) return false;
  u8 esc = op - 0xd8, r = reg_ & 7, m = rm_ & 7;
  if (mod_ != kModReg) {
    const char* n = tables::kX87Mem[esc][r];
    if (*n == '\0') return false;
    nops_ = 1;
    ops_[0] = Operand{'M', 'm'};
    set_name(make_str(n));
    return true;
  }
  const char* e = tables::kX87Reg[esc][r];
  Operand st{'T', '0'}, sti{'T', 'i'};
  nops_ = 0;
  switch (e[0]) {
    case 'a':
      ops_[0] = st;
      ops_[1] = sti;
      nops_ = 2;
      break;
    case 'b':
      ops_[0] = sti;
      ops_[1] = st;
      nops_ = 2;
      break;
    case 'c':
      ops_[0] = sti;
      nops_ = 1;
      break;
    case '-':
      if (m != e[1] - '0') return false;
      e += 1;
      if (op == 0xdf) {  // fnstsw %ax
        ops_[0] = Operand{'a', 'x'};
        nops_ = 1;
      }
      break;
    case '=':
      e = tables::kX87D9[(r - 4) * 8 + m];
      if (*e == '\0') return false;
      set_name(make_str(e));
      return true;
    default:
      if (op == 0xdb && r == 4 && (m == 2 || m == 3)) {
        set_name(make_str(m == 2 ? "fnclex" : "fninit"));
        return true;
      }
      return false;
  }
  set_name(make_str(e + 1));
  return true;
}

// 0F 01 with a register operand (SDM Vol. 2D Table A-6, group 7, mod = 11B), by ModRM.
struct Named {
  u8 modrm;
  const char* name;
};
const Named k0F01Reg[] = {
    {0xc1, "vmcall"}, {0xc2, "vmlaunch"}, {0xc3, "vmresume"}, {0xc4, "vmxoff"}, {0xc8, "monitor"},
    {0xc9, "mwait"},  {0xca, "clac"},     {0xcb, "stac"},     {0xd0, "xgetbv"}, {0xd1, "xsetbv"},
    {0xd5, "xend"},   {0xd6, "xtest"},    {0xf8, "!swapgs"},  {0xf9, "rdtscp"},
};
// CMPPS/CMPPD/CMPSS/CMPSD predicates 0-7 (SDM Vol. 2A CMPPS, Table 3-1), which llvm
// folds into the mnemonic.
const char* const kCmpPred[8] = {"eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord"};
const char* const kCmpSuffix[4] = {"ps", "pd", "ss", "sd"};
// VEX encodings have 32 predicates (SDM Vol. 2A VCMPPS, Table 3-2).
const char* const kVexCmpPred[32] = {"eq",    "lt",     "le",     "unord",    "neq",    "nlt",    "nle",    "ord",    //
                                     "eq_uq", "nge",    "ngt",    "false",    "neq_oq", "ge",     "gt",     "true",   //
                                     "eq_os", "lt_oq",  "le_oq",  "unord_s",  "neq_us", "nlt_uq", "nle_uq", "ord_s",  //
                                     "eq_us", "nge_uq", "ngt_uq", "false_os", "neq_os", "ge_oq",  "gt_oq",  "true_us"};

// Maps 1-3 (0F, 0F 38, 0F 3A), legacy or VEX-encoded.
bool Decoder::decode_map(int map, u8 op) {
  opcode_ = op;
  rep_print_ = vex_;
  char buf[32];
  Text t(buf, sizeof(buf));
  if (map != 1) {
    const tables::Sparse* tab = map == 2 ? tables::k0F38 : tables::k0F3A;
    usize n =
        map == 2 ? sizeof(tables::k0F38) / sizeof(tables::k0F38[0]) : sizeof(tables::k0F3A) / sizeof(tables::k0F3A[0]);
    for (usize i = 0; i < n; ++i)
      if (tab[i].opcode == op) return entry(tab[i].entry, map, op);
    return false;
  }
  const char* e = tables::kTwoByte[op];
  if (vex_) {
    if (op == 0x77) return entry(vex_l_ ? "zeroall" : "zeroupper", map, op);
    // Only the SSE part of the map has VEX forms; MMX-style entries need VEX.66.
    Str s = make_str(e);
    bool mmx_style = (op >= 0x71 && op <= 0x73) || contains(s, 'P') || contains(s, 'N');  // needs VEX.66
    if (s.empty() || op == 0x1e || (!contains(s, '|') && (vex_pp_ != 1 || !mmx_style))) return false;
  }
  if (op >= 0x40 && op < 0x50) {
    t.put("cmov");
    t.put(kCond[op & 0xf]);
    t.put("* Gv,Ev");
    return entry(buf, map, op);
  }
  if (op >= 0x80 && op < 0x90) {
    t.put("^j");
    t.put(kCond[op & 0xf]);
    t.put(" Jz");
    return entry(buf, map, op);
  }
  if (op >= 0x90 && op < 0xa0) {
    t.put("set");
    t.put(kCond[op & 0xf]);
    t.put(" Eb");
    return entry(buf, map, op);
  }
  if (op >= 0xc8 && op < 0xd0) return entry("bswap* Zv", map, op);
  switch (op) {
    case 0x01:
      if (!read_modrm()) return false;
      if (mod_ == kModReg && (reg_ & 7) != 4 && (reg_ & 7) != 6) {
        u8 m = static_cast<u8>(0xc0 | (reg_ & 7) << 3 | (rm_ & 7));
        for (const Named& n : k0F01Reg)
          if (n.modrm == m) return entry(n.name, map, op);
        return false;
      }
      break;
    case 0x1e: {
      u8 m;
      if (!peek(&m)) {
        truncated_ = true;
        return false;
      }
      if (rep_ == kRep && (m == 0xfa || m == 0xfb)) {
        rep_used_ = true;
        ++pos_;
        return entry(m == 0xfa ? "endbr64" : "endbr32", map, op);
      }
      break;
    }
    case 0xae:
      if (!read_modrm()) return false;
      if (mod_ == kModReg) {
        static const char* const kFence[3] = {"lfence", "mfence", "sfence"};
        u8 r = reg_ & 7;
        if (rep_ == 0 && !opsize_ && r >= 5) return entry(kFence[r - 5], map, op);
        return false;
      }
      if (opsize_ && (reg_ & 7) == 7) {
        opsize_ = false;
        return entry("clflushopt Mm", map, op);
      }
      if (!entry(e, map, op)) return false;
      if ((rex_ & kRexW) && (reg_ & 7) != 2 && (reg_ & 7) != 3 && (reg_ & 7) != 7) {
        usize n = 0;
        while (name_[n] != '\0') ++n;
        name_[n] = '6';
        name_[n + 1] = '4';
        name_[n + 2] = '\0';
      }
      return true;
    case 0xc7:
      if (!read_modrm()) return false;
      if ((rex_ & kRexW) && mod_ != kModReg && (reg_ & 7) == 1) return entry("cmpxchg16b Mm", map, op);
      break;
    default: break;
  }
  // 128-bit only: VMOVLPS/VMOVHPS/VMOVLPD/VMOVHPD (SDM Vol. 2B)
  if (vex_ && vex_l_ && vex_pp_ < 2 && (op == 0x12 || op == 0x13 || op == 0x16 || op == 0x17)) return false;
  if (op == 0xc2) {
    if (!entry(e, map, op)) return false;
    u64 pred = static_cast<u64>(ops_[3].imm) & 0xff;
    if (pred < (vex_ ? 32u : 8u)) {
      const char* sfx = kCmpSuffix[name_[vex_ ? 4 : 3] == 'p' ? (name_[vex_ ? 5 : 4] == 's' ? 0 : 1)
                                                              : (name_[vex_ ? 5 : 4] == 's' ? 2 : 3)];
      t.put("cmp");
      t.put(vex_ ? kVexCmpPred[pred] : kCmpPred[pred]);
      t.put(sfx);
      bool was_vex = vex_;
      vex_ = false;  // buf has no 'v' yet
      set_name(make_str(buf));
      vex_ = was_vex;
      if (vex_) {
        usize n = 0;
        while (name_[n] != '\0') ++n;
        for (usize i = n + 1; i > 0; --i) name_[i] = name_[i - 1];
        name_[0] = 'v';
      }
      nops_ = 3;
    }
    return true;
  }
  if (op == 0x07 && long_mode()) return entry((rex_ & kRexW) ? "sysretq" : "sysretl", map, op);
  if (!entry(e, map, op)) return false;
  if ((op == 0x6e || op == 0x7e) && (rex_ & kRexW) && rep_ != kRep) set_name(make_str("movq"));
  if ((op == 0x12 || op == 0x16) && mod_ == kModReg && !sse66_ && rep_ == 0 && !vex_pp_)
    set_name(make_str(op == 0x12 ? "movhlps" : "movlhps"));
  if ((op == 0x10 || op == 0x11) && (rep_ != 0 || vex_pp_ >= 2) && mod_ != kModReg && vex_) {
    // vmovss/vmovsd with memory have no VEX.vvvv operand
    for (int i = 0; i < nops_; ++i)
      if (ops_[i].kind == 'H') ops_[i].kind = 'h';
  }
  return true;
}

bool Decoder::decode_vex(u8 op) {
  // SDM Vol. 2A 2.3.2 makes REX (and 66/F2/F3/LOCK) before VEX #UD; llvm only
  // refuses REX and prints or ignores the others.
  if (rex_ != 0) return false;
  u8 b1, b2 = 0;
  if (!fetch(&b1)) return false;
  int map = 1;
  bool r = !(b1 & 0x80), x = false, b = false, w = false;
  if (op == kVex3) {
    x = !(b1 & 0x40);
    b = !(b1 & 0x20);
    map = b1 & 0x1f;
    if (!fetch(&b2)) return false;
    w = b2 & 0x80;
  } else {
    b2 = b1;
  }
  vvvv_ = static_cast<u8>((~b2 >> 3) & 15);
  vex_l_ = b2 & 4;
  vex_pp_ = b2 & 3;
  if (!long_mode()) {
    r = x = b = false;
    vvvv_ &= 7;
  }
  rex_ = static_cast<u8>((w ? kRexW : 0) | (r ? kRexR : 0) | (x ? kRexX : 0) | (b ? kRexB : 0));
  vex_ = true;
  if (map < 1 || map > 3) return false;
  u8 opc;
  if (!fetch(&opc)) return false;
  return decode_map(map, opc);
}

bool Decoder::decode_opcode() {
  u8 op;
  if (!fetch(&op)) return false;
  opcode_ = op;
  if (op == kVex2 || op == kVex3) {
    u8 nb;
    // Outside long mode C4/C5 are LES/LDS unless the next byte has mod = 11B.
    if (long_mode() || (peek(&nb) && (nb >> 6) == kModReg)) return decode_vex(op);
  }
  if (op == kEscape) {
    if (!fetch(&op)) return false;
    if (op == kEscape38 || op == kEscape3A) {
      int map = op == kEscape38 ? 2 : 3;
      if (!fetch(&op)) return false;
      return decode_map(map, op);
    }
    return decode_map(1, op);
  }
  return decode_one(op);
}

void Decoder::emit() {
  Text t(out_->text, kTextBytes);
  if (lock_) t.put("lock\t\t");
  if (rep_ != 0 && !rep_used_ && rep_print_) t.put(rep_ == kRep ? "rep\t\t" : "repne\t\t");
  t.put(name_);
  bool first = true;
  for (int i = nops_ - 1; i >= 0; --i) {
    if ((ops_[i].kind == 'H' && !vex_) || ops_[i].kind == 'h') continue;
    if (first)
      t.put(sep_);
    else
      t.put(", ");
    first = false;
    put_operand(t, ops_[i]);
  }
}

bool Decoder::run() {
  u8 b0, b1;
  if (!peek(&b0)) {
    truncated_ = true;
    return false;
  }
  // llvm: a leading LOCK, and a leading F2/F3 before LOCK, XCHG or (F3 only) a MOV to
  // memory, decode as one-byte "lock"/"xacquire"/"xrelease" pseudo-instructions
  // (X86Disassembler.cpp readPrefixes).
  const char* alone = nullptr;
  if (b0 == kLock) alone = "lock";
  if ((b0 == kRepne || b0 == kRep) && peek(&b1, 1)) {
    bool hle = b1 == kLock || (b1 & 0xfe) == 0x86 || ((b1 & 0xf8) == 0x90 && !(b0 == kRep && b1 == 0x90));
    if (hle || (b0 == kRep && (b1 == 0x88 || b1 == 0x89 || b1 == 0xc6 || b1 == 0xc7)))
      alone = b0 == kRep ? "xrelease" : "xacquire";
  }
  if (alone != nullptr) {
    pos_ = 1;
    out_->len = 1;
    set_name(make_str(alone));
    emit();
    return true;
  }
  if (!prefixes()) return false;
  if (pos_ > kMaxInsnBytes) return false;
  if (pseudo_ != nullptr) {
    out_->len = static_cast<u8>(pos_);
    set_name(make_str(pseudo_));
    emit();
    return true;
  }
  set_sizes(0);
  if (!decode_opcode()) return false;
  if (vex_ && vvvv_ != 0) {  // VEX.vvvv must be 1111b when no operand uses it
    bool uses = false;
    for (int i = 0; i < nops_; ++i) uses = uses || ops_[i].kind == 'H';
    if (!uses) return false;
  }
  for (int i = 0; i < nops_; ++i) {
    if (ops_[i].kind == 'J') {
      out_->ref_kind = Ref::Branch;
      out_->ref = addr_ + pos_ + static_cast<u64>(ops_[i].imm);
      if (!long_mode()) out_->ref &= 0xffffffffull;  // llvm masks to the code pointer size
    }
  }
  if (pos_ > kMaxInsnBytes) return false;
  out_->len = static_cast<u8>(pos_);
  if (have_modrm_ && mod_ != kModReg && base_ == -2) {
    out_->ref_kind = Ref::Memory;
    out_->ref = addr_ + pos_ + static_cast<u64>(disp_);
    if (as_ == 4) out_->ref &= 0xffffffffull;
  }
  emit();
  return true;
}

}  // namespace

bool decode(const u8* bytes, usize avail, u64 addr, Mode mode, Insn* out) {
  *out = Insn{};
  Decoder d(bytes, avail, addr, mode, out);
  bool ok = d.run();
  if (!ok) {
    *out = Insn{};
    out->bad = true;
    out->truncated = d.truncated();
    out->len = 1;
    const char* bad = "(bad)";
    for (usize i = 0; bad[i] != '\0'; ++i) out->text[i] = bad[i];
    return false;
  }
  return true;
}

}  // namespace disasm

#pragma clang attribute pop
