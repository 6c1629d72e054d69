// A reference reader of what a stub sends, written from RSP "Overview" alone (not from
// the stub's code): splits the byte stream into acks and packets, checks every checksum,
// expands run-length encoding as gdb does (the character before '*' repeated count - 29
// more times) and refuses anything gdb would misread.
#pragma once
#include <string>
#include <vector>

namespace gdbwire {

struct Item {
  char kind;            // '+', '-' or '$'
  std::string raw;      // a packet's payload as sent (between '$' and '#')
  std::string payload;  // ... with run-length encoding expanded
};

inline int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Expands run-length encoding; false (with a reason) for an encoding gdb would misread.
inline bool expand_rle(const std::string& raw, std::string* out, std::string* err) {
  out->clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '*') {
      if (out->empty() || i + 1 >= raw.size()) return *err = "'*' with nothing to repeat", false;
      unsigned char count = static_cast<unsigned char>(raw[++i]);
      if (count < 32 || count > 126 || count == '#' || count == '$')
        return *err = "bad repeat count character " + std::to_string(count), false;
      out->append(count - 29u, out->back());
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// Undoes '}' escapes (binary replies such as qXfer).
inline std::string unescape(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '}' && i + 1 < s.size()) {
      r.push_back(static_cast<char>(s[++i] ^ 0x20));
    } else {
      r.push_back(s[i]);
    }
  }
  return r;
}

// Splits a stub's output. Every byte must belong to an ack or a well-formed packet.
inline bool parse(const std::string& bytes, std::vector<Item>* items, std::string* err) {
  items->clear();
  size_t i = 0;
  while (i < bytes.size()) {
    char c = bytes[i];
    if (c == '+' || c == '-') {
      items->push_back({c, "", ""});
      ++i;
      continue;
    }
    if (c != '$') return *err = "stray byte " + std::to_string(static_cast<unsigned char>(c)), false;
    size_t hash = bytes.find('#', i + 1);
    if (hash == std::string::npos || hash + 2 >= bytes.size() + 0 || hash + 3 > bytes.size())
      return *err = "unterminated packet", false;
    std::string raw = bytes.substr(i + 1, hash - i - 1);
    if (raw.find('$') != std::string::npos) return *err = "'$' inside a packet", false;
    unsigned sum = 0;
    for (char b : raw) sum += static_cast<unsigned char>(b);
    int hi = hexval(bytes[hash + 1]);
    int lo = hexval(bytes[hash + 2]);
    if (hi < 0 || lo < 0 || static_cast<unsigned>(hi * 16 + lo) != (sum & 0xff))
      return *err = "bad checksum on $" + raw, false;
    Item it{'$', raw, ""};
    if (!expand_rle(raw, &it.payload, err)) return false;
    items->push_back(it);
    i = hash + 3;
  }
  return true;
}

}  // namespace gdbwire
