#include "lib/ksyms.hpp"

struct KsymEntry {
  u64 addr;
  u32 size;
  u32 name_offset;
};
// Weak: the first link stage has no table yet.
extern "C" __attribute__((weak)) const u64 ksyms_count;
extern "C" __attribute__((weak)) const KsymEntry ksyms_table[];
extern "C" __attribute__((weak)) const char ksyms_names[];

namespace ksyms {

u64 count() { return &ksyms_count == nullptr ? 0 : ksyms_count; }

const char* lookup(u64 addr, u64* offset) {
  u64 n = count();
  if (n == 0) return nullptr;
  u64 lo = 0, hi = n;  // find the last entry with entry.addr <= addr
  while (lo < hi) {
    u64 mid = lo + (hi - lo) / 2;
    if (ksyms_table[mid].addr <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0) return nullptr;
  const KsymEntry& e = ksyms_table[lo - 1];
  u64 off = addr - e.addr;
  // Symbols without a size (assembly labels) still name what follows them, within reason.
  if (e.size != 0 ? off >= e.size : off >= 0x1000) return nullptr;
  *offset = off;
  return ksyms_names + e.name_offset;
}

void print(lib::Sink& out, u64 addr) {
  u64 off = 0;
  const char* name = lookup(addr, &off);
  if (name == nullptr)
    lib::format(out, "?");
  else
    lib::format(out, "%s+0x%lx", name, off);
}

}  // namespace ksyms
