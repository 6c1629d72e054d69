#include "gdbstub/regs.hpp"

#include "lib/string.hpp"

namespace gdbstub {

void RegFile::clear() {
  memset(bytes_, 0, sizeof bytes_);
  memset(avail_, 0, sizeof avail_);
}

void RegFile::set(Reg r, const u8* bytes) {
  memcpy(bytes_ + reg_offset(r), bytes, reg_size(r));
  usize i = static_cast<usize>(r);
  avail_[i / 8] = static_cast<u8>(avail_[i / 8] | 1U << (i % 8));
}

void RegFile::set_u64(Reg r, u64 v) {
  u8 b[16] = {};
  for (usize i = 0; i < 8; ++i) b[i] = static_cast<u8>(v >> (8 * i));
  set(r, b);  // registers wider than 8 bytes get v zero-extended
}

void RegFile::set_unavailable(Reg r) {
  memset(bytes_ + reg_offset(r), 0, reg_size(r));
  usize i = static_cast<usize>(r);
  avail_[i / 8] = static_cast<u8>(avail_[i / 8] & ~(1U << (i % 8)));
}

u64 RegFile::get_u64(Reg r) const {
  usize n = reg_size(r) < 8 ? reg_size(r) : 8;
  u64 v = 0;
  for (usize i = 0; i < n; ++i) v |= static_cast<u64>(bytes(r)[i]) << (8 * i);
  return v;
}

bool RegFile::same(Reg r, const RegFile& other) const {
  return available(r) && other.available(r) && memcmp(bytes(r), other.bytes(r), reg_size(r)) == 0;
}

void put_register(const RegFile& regs, Reg r, Reply& out) {
  if (regs.available(r)) {
    out.put_hex(regs.bytes(r), reg_size(r));
  } else {
    for (usize i = 0; i < reg_size(r); ++i) out.put("xx");
  }
}

void put_registers(const RegFile& regs, Reply& out) {
  for (usize i = 0; i <= static_cast<usize>(kLastInG); ++i) put_register(regs, static_cast<Reg>(i), out);
}

namespace {

// One register's hex at p (2 * reg_size(r) digits): all 'x' leaves it unavailable.
bool parse_one(Reg r, const u8* p, RegFile& out) {
  usize n = reg_size(r);
  usize xs = 0;
  for (usize i = 0; i < 2 * n; ++i) xs += p[i] == 'x' ? 1 : 0;
  if (xs == 2 * n) {
    out.set_unavailable(r);
    return true;
  }
  u8 b[16];
  if (n > sizeof b || !hex_decode(p, n, b)) return false;
  out.set(r, b);
  return true;
}

}  // namespace

bool parse_registers(const u8* hex, usize n, RegFile& out) {
  out.clear();
  if (n == 0 || n > 2 * kRegFileBytes) return false;
  for (usize i = 0; i < kNumRegs; ++i) {
    Reg r = static_cast<Reg>(i);
    usize end = 2 * (reg_offset(r) + reg_size(r));
    if (end > n) return false;  // n falls inside this register
    if (!parse_one(r, hex + 2 * reg_offset(r), out)) return false;
    if (end == n) return true;
  }
  return false;
}

bool parse_register(Reg r, const u8* hex, usize n, RegFile& out) {
  out.clear();
  if (n != 2 * reg_size(r)) return false;
  for (usize i = 0; i < n; ++i)
    if (hex_value(hex[i]) < 0) return false;
  return parse_one(r, hex, out);
}

}  // namespace gdbstub
