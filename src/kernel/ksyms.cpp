#include "kernel/ksyms.hpp"

#include "lib/string.hpp"

struct KsymEntry {
  u64 addr;
  u32 size;
  u32 name_offset;
};
// Weak: the first link stage has no table yet.
extern "C" __attribute__((weak)) const u64 ksyms_count;
extern "C" __attribute__((weak)) const KsymEntry ksyms_table[];
extern "C" __attribute__((weak)) const char ksyms_names[];

namespace kernel::ksyms {
namespace {

// Sizeless labels name at most this much after them.
constexpr u64 kLabelSpan = 0x1000;
// How far back from the last entry at or below an address to look for a sized symbol
// containing it (a sizeless label may sit inside a function or object).
constexpr u64 kLookBack = 16;

Symbol at(u64 i) { return {ksyms_table[i].addr, ksyms_table[i].size, ksyms_names + ksyms_table[i].name_offset}; }

// Number of entries with entry.addr <= addr.
u64 upper(u64 addr) {
  u64 lo = 0, hi = count();
  while (lo < hi) {
    u64 mid = lo + (hi - lo) / 2;
    if (ksyms_table[mid].addr <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// The first entry at the address of entry i (the table puts sized symbols first there).
u64 first_at(u64 i) {
  while (i > 0 && ksyms_table[i - 1].addr == ksyms_table[i].addr) --i;
  return i;
}

constexpr char kAnon[] = "(anonymous namespace)::";
constexpr usize kAnonLen = sizeof(kAnon) - 1;

enum class Match { None, Prefix, Exact };

// Does the query q[0, qlen) name `sym`? "(anonymous namespace)::" in sym may be left out
// of the query, and a parameter list after the full name still counts as exact.
Match match(const char* sym, const char* q, usize qlen) {
  usize i = 0, j = 0;
  while (j < qlen) {
    if (sym[i] == '(' && q[j] != '(' && lib::strncmp(sym + i, kAnon, kAnonLen) == 0) {
      i += kAnonLen;
      continue;
    }
    if (sym[i] != q[j]) return Match::None;  // also at sym's NUL
    ++i, ++j;
  }
  return sym[i] == '\0' || sym[i] == '(' ? Match::Exact : Match::Prefix;
}

// Calls f(entry index) for every symbol matching at level m, one per address.
template <typename F>
u64 for_matches(const char* q, usize qlen, Match m, F f) {
  u64 n = count(), found = 0;
  u64 last_addr = 0;
  bool any = false;
  for (u64 i = 0; i < n; ++i) {
    if (match(ksyms_names + ksyms_table[i].name_offset, q, qlen) != m) continue;
    if (any && ksyms_table[i].addr == last_addr) continue;  // the table is sorted by address
    any = true;
    last_addr = ksyms_table[i].addr;
    ++found;
    f(i);
  }
  return found;
}

}  // namespace

u64 count() { return &ksyms_count == nullptr ? 0 : ksyms_count; }

bool containing(u64 addr, Symbol* out) {
  u64 hi = upper(addr);
  if (hi == 0) return false;
  for (u64 k = 0; k < kLookBack && k < hi; ++k) {
    Symbol s = at(hi - 1 - k);
    if (s.size != 0 && addr - s.addr < s.size) {
      *out = at(first_at(hi - 1 - k));
      if (out->size == 0) *out = s;
      return true;
    }
  }
  Symbol s = at(first_at(hi - 1));
  if (s.size == 0 && addr - s.addr < kLabelSpan) {
    *out = s;
    return true;
  }
  return false;
}

const char* lookup(u64 addr, u64* offset) {
  Symbol s;
  if (!containing(addr, &s)) return nullptr;
  *offset = addr - s.addr;
  return s.name;
}

const char* nearest(u64 addr, u64* offset) {
  Symbol s;
  if (containing(addr, &s)) {
    *offset = addr - s.addr;
    return s.name;
  }
  u64 hi = upper(addr), n = count();
  if (hi == 0 || hi == n) return nullptr;  // before the first or past the last symbol
  s = at(first_at(hi - 1));
  *offset = addr - s.addr;
  return s.name;
}

void print(lib::Sink& out, u64 addr) {
  u64 off = 0;
  const char* name = lookup(addr, &off);
  if (name == nullptr)
    lib::format(out, "?");
  else
    lib::format(out, "%s+0x%lx", name, off);
}

Find find(const char* name, usize len, Symbol* out) {
  if (len == 0) return Find::Unknown;
  const Match order[] = {Match::Exact, Match::Prefix};
  for (Match m : order) {
    u64 first = 0;
    u64 n = for_matches(name, len, m, [&](u64 i) {
      if (first == 0) first = i + 1;
    });
    if (n == 1) {
      *out = at(first - 1);
      return Find::Found;
    }
    if (n > 1) return Find::Ambiguous;
  }
  return Find::Unknown;
}

bool resolve(const char* name, usize len, u64* addr, lib::Sink* err) {
  Symbol s;
  Find r = find(name, len, &s);
  if (r == Find::Found) {
    *addr = s.addr;
    return true;
  }
  if (err == nullptr) return false;
  usize shown = len > 200 ? 200 : len;
  if (r == Find::Unknown) {
    lib::format(*err, "error: unknown symbol '");
    err->write(name, shown);
    lib::format(*err, "'\n");
    return false;
  }
  // Ambiguous: the exact matches if there are several, else the prefix matches.
  Match m = for_matches(name, len, Match::Exact, [](u64) {}) > 1 ? Match::Exact : Match::Prefix;
  constexpr u64 kShow = 4;
  u64 listed = 0;
  lib::format(*err, "error: ambiguous symbol '");
  err->write(name, shown);
  lib::format(*err, "':");
  u64 total = for_matches(name, len, m, [&](u64 i) {
    if (listed++ < kShow) lib::format(*err, "%s 0x%016lx %s", listed == 1 ? "" : ",", at(i).addr, at(i).name);
  });
  if (total > kShow) lib::format(*err, ", ... (%lu matches)", total);
  lib::format(*err, "\n");
  return false;
}

}  // namespace kernel::ksyms
