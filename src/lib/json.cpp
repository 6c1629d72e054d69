#include "lib/json.hpp"

namespace lib {
namespace {

// The two-character escape JSON names for c (RFC 8259, 7), or nullptr.
const char* named_escape(unsigned char c) {
  switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return nullptr;
  }
}

}  // namespace

void json_escape(Sink& out, const char* s, usize n) {
  static const char kHex[] = "0123456789abcdef";
  usize run = 0;  // characters passed through unchanged, written in one go
  for (usize i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const char* named = named_escape(c);
    if (named == nullptr && c >= 0x20 && c < 0x7f) continue;
    out.write(s + run, i - run);
    run = i + 1;
    if (named != nullptr) {
      out.write(named, 2);
    } else {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.write(u, sizeof u);
    }
  }
  out.write(s + run, n - run);
}

bool Json::value_start() {
  if (done_) return ok_ = false;  // a second top-level value
  if (depth_ > 0) {
    const u64 bit = u64{1} << (depth_ - 1);
    if ((is_array_ & bit) == 0) {
      if (!after_key_) return ok_ = false;  // an object member needs its key first
    } else if ((has_member_ & bit) != 0) {
      out_.put(',');
    }
    has_member_ |= bit;
  }
  after_key_ = false;
  return true;
}

bool Json::scalar_start() {
  if (!value_start()) return false;
  if (depth_ == 0) done_ = true;  // a scalar is the whole document
  return true;
}

Json& Json::open(char c, bool is_array) {
  if (depth_ >= kMaxDepth || !value_start()) {
    ok_ = false;
    return *this;
  }
  out_.put(c);
  const u64 bit = u64{1} << depth_;
  has_member_ &= ~bit;
  is_array_ = is_array ? is_array_ | bit : is_array_ & ~bit;
  ++depth_;
  return *this;
}

Json& Json::close(char c, bool is_array) {
  const u64 bit = depth_ > 0 ? u64{1} << (depth_ - 1) : 0;
  if (depth_ == 0 || after_key_ || ((is_array_ & bit) != 0) != is_array) {
    ok_ = false;
    return *this;
  }
  out_.put(c);
  if (--depth_ == 0) done_ = true;
  return *this;
}

Json& Json::begin_object() { return open('{', false); }
Json& Json::end_object() { return close('}', false); }
Json& Json::begin_array() { return open('[', true); }
Json& Json::end_array() { return close(']', true); }

Json& Json::key(const char* k) {
  const u64 bit = depth_ > 0 ? u64{1} << (depth_ - 1) : 0;
  if (depth_ == 0 || (is_array_ & bit) != 0 || after_key_) {
    ok_ = false;
    return *this;
  }
  if ((has_member_ & bit) != 0) out_.put(',');
  has_member_ |= bit;
  out_.put('"');
  usize n = 0;
  while (k[n] != '\0') ++n;
  json_escape(out_, k, n);
  out_.write("\":", 2);
  after_key_ = true;
  return *this;
}

Json& Json::str(const char* s, usize n) {
  if (!scalar_start()) return *this;
  out_.put('"');
  json_escape(out_, s, n);
  out_.put('"');
  return *this;
}

Json& Json::str(const char* s) {
  if (s == nullptr) return null();
  usize n = 0;
  while (s[n] != '\0') ++n;
  return str(s, n);
}

Json& Json::num(u64 v) {
  if (!scalar_start()) return *this;
  format(out_, "%lu", v);
  return *this;
}

Json& Json::snum(i64 v) {
  if (!scalar_start()) return *this;
  format(out_, "%ld", v);
  return *this;
}

Json& Json::fixed(u64 v, unsigned decimals) {
  if (decimals == 0) return num(v);
  if (decimals > 19 || !scalar_start()) {
    ok_ = false;
    return *this;
  }
  u64 scale = 1;
  for (unsigned i = 0; i < decimals; ++i) scale *= 10;
  format(out_, "%lu.%0*lu", v / scale, static_cast<int>(decimals), v % scale);
  return *this;
}

Json& Json::boolean(bool v) {
  if (!scalar_start()) return *this;
  format(out_, "%s", v ? "true" : "false");
  return *this;
}

Json& Json::null() {
  if (!scalar_start()) return *this;
  out_.write("null", 4);
  return *this;
}

Json& Json::addr(u64 v) {
  if (!scalar_start()) return *this;
  format(out_, "\"0x%016lx\"", v);
  return *this;
}

Json& Json::hex(u64 v, unsigned digits) {
  if (!scalar_start()) return *this;
  format(out_, "\"0x%0*lx\"", static_cast<int>(digits > 16 ? 16 : digits), v);
  return *this;
}

bool Json::finish() {
  if (!ok_ || !done_) return false;
  out_.put('\n');
  return true;
}

}  // namespace lib
