// The shape every -j document must have, checked without a JSON parser (the QEMU tests
// parse them with Python's): one line ending in '\n', brackets balanced outside strings,
// strings closed, no control character. What random input must never break.
#pragma once
#include <string>

#include "lib/types.hpp"

namespace test {

// "" when doc has that shape, else what is wrong with it.
inline std::string json_shape_error(const std::string& doc) {
  if (doc.empty() || doc.back() != '\n') return "not one line ending in a newline";
  int depth = 0;
  bool in_str = false, esc = false;
  for (usize i = 0; i + 1 < doc.size(); ++i) {
    const char c = doc[i];
    if (static_cast<unsigned char>(c) < 0x20) return "a control character at " + std::to_string(i);
    if (in_str) {
      if (esc) {
        esc = false;
      } else if (c == '\\') {
        esc = true;
      } else if (c == '"') {
        in_str = false;
      }
      continue;
    }
    if (c == '"') in_str = true;
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth < 0) return "a bracket closed twice at " + std::to_string(i);
  }
  if (in_str) return "a string left open";
  if (depth != 0) return "brackets left open";
  return "";
}

}  // namespace test
