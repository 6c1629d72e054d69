// Firmware data for the host tests of the table parsers (ACPI, the Intel MP table): the
// fixtures dumped from QEMU boots (test/fixtures/<kind>/<config>/<file>), and physical
// memory made of separate, exactly sized heap blocks, so that ASan flags any read past a
// table even where tables are adjacent in the real layout.
#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "lib/physmem.hpp"

namespace test {

using Bytes = std::vector<u8>;

// Reallocates b with capacity == size: ASan only sees reads past the allocation, and a
// vector shrunk by resize() (or grown by insert()) keeps spare capacity behind its end.
inline void tighten(Bytes& b) {
  Bytes exact(b.begin(), b.end());
  b.swap(exact);
}

// test/fixtures/<kind>/<config>/<file>, whole; an empty vector (and a test failure) if it
// cannot be read.
inline Bytes load_fixture(const std::string& kind, const std::string& config, const std::string& file) {
  const std::string path = std::string(FIXTURE_DIR) + "/" + kind + "/" + config + "/" + file;
  Bytes out;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    ADD_FAILURE() << "cannot open " << path;
    return out;
  }
  u8 buf[4096];
  usize n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

class BlockMem final : public lib::PhysMem {
 public:
  void place(u64 base, Bytes bytes) {
    tighten(bytes);
    regions_.push_back({base, std::move(bytes)});
  }
  // The block placed at base, to corrupt in place; nullptr if none.
  Bytes* at(u64 base) {
    for (auto& r : regions_)
      if (r.base == base) return &r.bytes;
    return nullptr;
  }
  u8* map(u64 pa, usize len) override {
    if (len == 0) len = 1;
    ++maps;
    for (auto& r : regions_) {
      const u64 size = r.bytes.size();
      if (pa >= r.base && pa - r.base <= size && len <= size - (pa - r.base)) return r.bytes.data() + (pa - r.base);
    }
    return nullptr;
  }
  usize maps = 0;  // map() calls: how much a parser reads

 private:
  struct Region {
    u64 base;
    Bytes bytes;
  };
  std::vector<Region> regions_;
};

}  // namespace test
