// One JSON document written straight into a Sink as it is built, for the monitor's `-j`
// views (contract: one document on one line; numbers as JSON numbers; addresses and raw
// register or entry values as "0x..." strings). No allocation and no tree: the writer
// only remembers, per nesting level, whether a member was written (for the commas) and
// whether a key is waiting for its value.
//
//   lib::Json j(out);
//   j.begin_object().key("cpus").begin_array();
//   j.begin_object().member("index", 0).member_addr("slot", 0xffffff8000000000).end_object();
//   j.end_array().end_object().finish();   // {"cpus":[{"index":0,"slot":"0xffffff80..."}]}\n
//
// Misuse (a value where a key is due, end_object on an array, too deep) is recorded, not
// asserted: ok() is false afterwards and the host tests check it stays true.
#pragma once
#include "lib/fmt.hpp"
#include "lib/types.hpp"

namespace lib {

// s[0, n) as the inside of a JSON string: '"', '\\' and control characters escaped
// (\n, \r, \t by name, others as \u00XX); bytes from 0x80 up as \u00XX too (the monitor
// prints Latin-1 at most, never UTF-8, so a byte is a character).
void json_escape(Sink& out, const char* s, usize n);

class Json {
 public:
  static constexpr unsigned kMaxDepth = 32;

  explicit Json(Sink& out) : out_(out) {}

  Json& begin_object();
  Json& end_object();
  Json& begin_array();
  Json& end_array();
  Json& key(const char* k);

  // Values: in an array, or after key().
  Json& str(const char* s);
  Json& str(const char* s, usize n);
  Json& num(u64 v);
  Json& snum(i64 v);
  // v / 10^decimals as a JSON number with exactly `decimals` digits after the point
  // (1234567, 3 -> 1234.567): microseconds with nanosecond digits, MHz with kHz.
  Json& fixed(u64 v, unsigned decimals);
  Json& boolean(bool v);
  Json& null();
  // "0x" and 16 hex digits: an address (the contract's form).
  Json& addr(u64 v);
  // "0x" and v in hex, at least `digits` digits (0: as many as it takes): a raw value.
  Json& hex(u64 v, unsigned digits = 0);

  // key(k) then the value.
  Json& member(const char* k, const char* s) { return key(k).str(s); }
  Json& member(const char* k, u64 v) { return key(k).num(v); }
  Json& member(const char* k, u32 v) { return key(k).num(v); }
  Json& member(const char* k, i64 v) { return key(k).snum(v); }
  Json& member(const char* k, int v) { return key(k).snum(v); }
  Json& member(const char* k, bool v) { return key(k).boolean(v); }
  Json& member_addr(const char* k, u64 v) { return key(k).addr(v); }
  Json& member_hex(const char* k, u64 v, unsigned digits = 0) { return key(k).hex(v, digits); }
  Json& member_fixed(const char* k, u64 v, unsigned decimals) { return key(k).fixed(v, decimals); }

  // Ends the document with its newline. False (and nothing written) if it is not complete.
  bool finish();
  // No misuse so far.
  bool ok() const { return ok_; }
  unsigned depth() const { return depth_; }

 private:
  bool value_start();   // the comma before a value, if one is due; false on misuse
  bool scalar_start();  // value_start for a value that is not a container
  Json& open(char c, bool is_array);
  Json& close(char c, bool is_array);

  Sink& out_;
  unsigned depth_ = 0;
  u64 has_member_ = 0;  // bit d: level d has a member already
  u64 is_array_ = 0;    // bit d: level d is an array
  bool after_key_ = false;
  bool done_ = false;  // the top-level value is complete
  bool ok_ = true;
};

}  // namespace lib
