// Access to physical memory for code that must also run on the host. The kernel
// implements it over the direct map (refusing what is not direct-mapped); host tests
// implement it over a buffer. Parsers and page-table code never dereference a physical
// address any other way, so they can be fed fake and hostile memory in tests.
#pragma once
#include "lib/types.hpp"

namespace lib {

class PhysMem {
 public:
  // A pointer through which [pa, pa + len) can be read and written, or nullptr when
  // any part of that range is not accessible (len 0 is treated as 1).
  virtual u8* map(u64 pa, usize len) = 0;

  bool read64(u64 pa, u64* out) {
    u8* p = map(pa, 8);
    if (p == nullptr) return false;
    __builtin_memcpy(out, p, 8);
    return true;
  }

 protected:
  ~PhysMem() = default;
};

}  // namespace lib
