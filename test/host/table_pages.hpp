// Page-table memory for host tests that build and walk real tables: each table a 4 KiB
// page of its own, handed out from `first` up (far from any RAM the fixtures name, so a
// walk that follows an entry into RAM instead of a table finds nothing there). It is both
// the builder's TableAllocator and the walker's PhysMem; a read that crosses its page or
// hits no table gives nullptr, as an unmapped frame does in the kernel.
#pragma once
#include <array>
#include <map>
#include <memory>

#include "lib/physmem.hpp"
#include "mm/pt_build.hpp"

namespace test {

class TablePages final : public lib::PhysMem, public mm::TableAllocator {
 public:
  static constexpr u64 kPage = 4096;
  explicit TablePages(u64 first = u64{1} << 40) : next_(first) {}

  u8* map(u64 pa, usize len) override {
    if (len == 0) len = 1;
    auto it = pages_.find(pa & ~(kPage - 1));
    if (it == pages_.end() || (pa & (kPage - 1)) + len > kPage) return nullptr;
    return it->second->data() + (pa & (kPage - 1));
  }
  u64 alloc_table() override {
    const u64 pa = next_;
    next_ += kPage;
    auto page = std::make_unique<std::array<u8, kPage>>();
    page->fill(0);
    pages_[pa] = std::move(page);
    return pa;
  }
  usize tables() const { return pages_.size(); }

 private:
  std::map<u64, std::unique_ptr<std::array<u8, kPage>>> pages_;
  u64 next_;
};

}  // namespace test
