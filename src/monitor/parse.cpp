#include "monitor/parse.hpp"

#include "lib/string.hpp"

namespace monitor {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Does `word` (n characters, not NUL-terminated) start `s`?
bool has_prefix(const char* s, const char* word, usize n) {
  return lib::strncmp(s, word, n) == 0 && lib::strnlen(s, n) == n;
}

}  // namespace

TokError tokenize(char* line, Args* out) {
  out->argc = 0;
  // Quotes are removed in place: the write position never passes the read
  // position, so the rewrite cannot clobber unread input.
  char* r = line;
  usize argc = 0;
  for (;;) {
    while (is_space(*r)) ++r;
    if (*r == '\0') break;
    if (argc == kMaxArgs) return TokError::TooManyArgs;
    char* w = r;
    out->argv[argc++] = w;
    bool quoted = false;
    while (*r != '\0' && (quoted || !is_space(*r))) {
      if (*r == '"')
        quoted = !quoted;
      else
        *w++ = *r;
      ++r;
    }
    if (quoted) return TokError::UnterminatedQuote;
    bool end = *r == '\0';
    *w = '\0';  // may overwrite *r, which was a separator or the NUL itself
    if (end) break;
    ++r;
  }
  out->argc = argc;
  return TokError::None;
}

const Command* lookup(const Command* table, usize n, const char* name, LookupError* err) {
  LookupError dummy;
  if (err == nullptr) err = &dummy;
  *err = LookupError::Unknown;
  if (name == nullptr || *name == '\0') return nullptr;
  usize len = 0;
  while (name[len] != '\0' && name[len] != '/') ++len;
  if (name[len] == '/') {
    for (usize i = 0; i < n; ++i) {
      if (len != 0 && lib::strncmp(table[i].name, name, len) == 0 && table[i].name[len] == '\0') {
        *err = LookupError::None;
        return &table[i];
      }
    }
    return nullptr;
  }
  for (usize i = 0; i < n; ++i) {
    if (lib::streq(table[i].name, name)) {
      *err = LookupError::None;
      return &table[i];
    }
  }
  const Command* found = nullptr;
  for (usize i = 0; i < n; ++i) {
    if (!lib::starts_with(table[i].name, name)) continue;
    if (found != nullptr) {
      *err = LookupError::Ambiguous;
      return nullptr;
    }
    found = &table[i];
  }
  if (found != nullptr) *err = LookupError::None;
  return found;
}

usize complete_command(const Command* table, usize n, const char* line, usize word_start, usize cursor,
                       const char** out, usize max) {
  if (word_start > cursor) return 0;
  const char* word = line + word_start;
  usize wlen = cursor - word_start;

  // Which word is being completed: count the words before it.
  usize before = 0;
  usize first = 0, first_len = 0;
  for (usize i = 0; i < word_start;) {
    if (is_space(line[i])) {
      ++i;
      continue;
    }
    usize s = i;
    while (i < word_start && !is_space(line[i])) ++i;
    if (before == 0) first = s, first_len = i - s;
    ++before;
  }

  usize count = 0;
  if (before == 0) {
    for (usize i = 0; i < n && count < max; ++i)
      if (has_prefix(table[i].name, word, wlen)) out[count++] = table[i].name;
    return count;
  }
  if (before != 1) return 0;

  // The command word is not NUL-terminated inside the line; copy it to look it up.
  char name[kMaxLine + 1];
  if (first_len > kMaxLine) return 0;
  memcpy(name, line + first, first_len);
  name[first_len] = '\0';
  const Command* cmd = lookup(table, n, name, nullptr);
  if (cmd == nullptr || cmd->keywords == nullptr) return 0;
  for (const char* const* k = cmd->keywords; *k != nullptr && count < max; ++k)
    if (has_prefix(*k, word, wlen)) out[count++] = *k;
  return count;
}

usize TableCompleter::complete(const char* line, usize word_start, usize cursor, const char** out, usize max) {
  return complete_command(table_, n_, line, word_start, cursor, out, max);
}

namespace {

SymbolResolver g_resolver = nullptr;

// lib::parse_u64 over s[0, len) (hex by default), which needs a NUL-terminated copy.
bool parse_hex(const char* s, usize len, u64* out) {
  char buf[kMaxLine + 1];
  if (len == 0 || len > kMaxLine) return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return lib::parse_u64(buf, out, /*hex_default=*/true);
}

// Spelled like a hex number (0x optional, digit separators '_' and '`'): one that does not
// parse overflowed 64 bits, and is reported as such rather than as an unknown symbol.
bool looks_numeric(const char* s, usize len) {
  usize i = 0;
  if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) i = 2;
  if (i == len) return false;
  for (; i < len; ++i) {
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != '_' && c != '`') return false;
  }
  return true;
}

bool too_large(const char* s, lib::Sink* err) {
  if (err != nullptr) lib::format(*err, "error: address '%s' does not fit in 64 bits\r\n", s);
  return false;
}

bool invalid(const char* s, lib::Sink* err) {
  if (err != nullptr) lib::format(*err, "error: invalid address '%s'\r\n", s);
  return false;
}

}  // namespace

void set_symbol_resolver(SymbolResolver resolve) { g_resolver = resolve; }

const char* join_args(const Args& a, usize from, char* buf, usize cap) {
  usize n = 0;
  if (cap == 0) return buf;
  for (usize i = from; i < a.argc; ++i) {
    for (const char* p = (i > from ? " " : ""); *p != '\0' && n + 1 < cap; ++p) buf[n++] = *p;
    for (const char* p = a.argv[i]; *p != '\0' && n + 1 < cap; ++p) buf[n++] = *p;
  }
  buf[n] = '\0';
  return buf;
}

bool parse_address(const char* s, u64* out, lib::Sink* err) { return parse_address(s, out, err, g_resolver); }

bool parse_address(const char* s, u64* out, lib::Sink* err, SymbolResolver resolve) {
  if (s == nullptr) return invalid("", err);
  if (lib::parse_u64(s, out, /*hex_default=*/true)) return true;
  usize len = lib::strnlen(s, kMaxLine + 1);
  if (len == 0 || len > kMaxLine) return invalid(s, err);
  // Split at the last '+' or '-': demangled names hold neither (bar operator+ and the
  // like, which this cannot name).
  usize split = len;
  for (usize i = len; i > 0; --i) {
    if (s[i - 1] == '+' || s[i - 1] == '-') {
      split = i - 1;
      break;
    }
  }
  u64 offset = 0;
  bool minus = split < len && s[split] == '-';
  if (split < len) {
    if (split == 0) return invalid(s, err);  // no base: "+0x10"
    if (!parse_hex(s + split + 1, len - split - 1, &offset)) {
      if (looks_numeric(s + split + 1, len - split - 1)) return too_large(s, err);
      if (err != nullptr) lib::format(*err, "error: invalid offset in '%s'\r\n", s);
      return false;
    }
  }
  u64 base;
  if (!parse_hex(s, split, &base)) {
    // A number too large for 64 bits, unless a symbol is spelled like it.
    bool numeric = looks_numeric(s, split);
    if (numeric && (resolve == nullptr || !resolve(s, split, &base, nullptr))) return too_large(s, err);
    if (!numeric) {
      if (resolve == nullptr) return invalid(s, err);
      if (!resolve(s, split, &base, err)) return false;
    }
  }
  u64 v = minus ? base - offset : base + offset;
  if (minus ? offset > base : v < base) {
    if (err != nullptr) lib::format(*err, "error: address out of range in '%s'\r\n", s);
    return false;
  }
  *out = v;
  return true;
}

bool parse_count(const char* s, u64* out, lib::Sink* err) {
  if (s != nullptr && lib::parse_u64(s, out, /*hex_default=*/false)) return true;
  if (err != nullptr) lib::format(*err, "error: invalid number '%s'\r\n", s ? s : "");
  return false;
}

void print_error(lib::Sink& out, TokError e) {
  switch (e) {
    case TokError::None: break;
    case TokError::TooManyArgs: lib::format(out, "error: too many arguments (at most %zu)\r\n", kMaxArgs); break;
    case TokError::UnterminatedQuote: lib::format(out, "error: unterminated quote\r\n"); break;
  }
}

void print_lookup_error(lib::Sink& out, const Command* table, usize n, const char* name, LookupError e) {
  if (e == LookupError::Unknown) {
    lib::format(out, "error: unknown command '%s' (try help)\r\n", name);
  } else if (e == LookupError::Ambiguous) {
    lib::format(out, "error: ambiguous command '%s':", name);
    for (usize i = 0; i < n; ++i)
      if (lib::starts_with(table[i].name, name)) lib::format(out, " %s", table[i].name);
    lib::format(out, "\r\n");
  }
}

}  // namespace monitor
