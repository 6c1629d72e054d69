#include "mm/pt_build.hpp"

#include "lib/assert.hpp"

#include "arch/pte.hpp"
#include "mm/layout.hpp"

namespace mm {

namespace pte = arch::pte;

namespace {

// Bytes one entry covers at a level (4 = PML4 ... 1 = PT), SDM Vol. 3A Figure 4-8..4-10.
constexpr u64 span_of(int level) { return u64{1} << (12 + 9 * (level - 1)); }
constexpr unsigned index_of(u64 va, int level) { return static_cast<unsigned>((va >> (12 + 9 * (level - 1))) & 511); }

bool read_entry(lib::PhysMem& mem, u64 pa, u64* out) { return mem.read64(pa, out); }

bool write_entry(lib::PhysMem& mem, u64 pa, u64 value) {
  u8* p = mem.map(pa, 8);
  if (p == nullptr) return false;
  __builtin_memcpy(p, &value, 8);
  return true;
}

// The leaf for one page: the leaf alone carries the permissions (see pt_build.hpp).
u64 leaf_entry(u64 pa, MapFlags f, int level) {
  u64 e = pte::kPresent();
  e = pte::kWrite.set(e, f.write);
  e = pte::kUser.set(e, f.user);
  e = pte::kGlobal.set(e, f.global);
  e = pte::kPcd.set(e, f.uncached);
  e = pte::kPwt.set(e, f.uncached);
  e = pte::kNoExecute.set(e, !f.exec);
  if (level > 1) e |= pte::kPageSize();
  return pte::kAddr.set(e, pa);
}

// The CPU sets A and D by itself (SDM Vol. 3A 4.8); they do not make a mapping differ.
constexpr u64 kIgnoredForCompare = pte::kAccessed.mask | pte::kDirty.mask;

}  // namespace

PageTableBuilder::PageTableBuilder(lib::PhysMem& mem, TableAllocator& alloc, u64 pml4_phys)
    : mem_(mem), alloc_(alloc), pml4_(pml4_phys) {
  if (pml4_ == 0) pml4_ = new_table();
}

u64 PageTableBuilder::new_table() {
  u64 t = alloc_.alloc_table();
  if (t == 0) return 0;
  ++tables_allocated_;
  // A table frame must be page-aligned and addressable by an entry's address field.
  if (!is_aligned(t, mm::layout::kPageSize) || !pte::kAddr.fits(t)) return 0;
  // The allocator promises zeroed frames; zeroing again costs little at boot and keeps a
  // stale frame from ever turning into live mappings.
  u8* p = mem_.map(t, mm::layout::kPageSize);
  if (p == nullptr) return 0;
  __builtin_memset(p, 0, mm::layout::kPageSize);
  return t;
}

bool PageTableBuilder::map(u64 va, u64 pa, u64 size, MapFlags f, PageSize max_page) {
  if (pml4_ == 0 || size == 0) return false;
  if (!is_aligned(va | pa | size, mm::layout::kPageSize)) return false;
  if (!mm::layout::is_canonical(va)) return false;
  // The last byte must be canonical and in the same half: a range may end at the very
  // top (va + size wraps to 0, like the device window) but never cross the hole.
  u64 last = va + size - 1;
  if (last < va || !mm::layout::is_canonical(last) || (last >> 47) != (va >> 47)) return false;
  u64 pa_last = pa + size - 1;
  if (pa_last < pa || !pte::kAddr.fits(pa_last & ~(mm::layout::kPageSize - 1))) return false;
  // First a dry run that only looks for conflicts, so a refused map leaves no trace.
  if (!map_range(va, pa, size, f, max_page, true)) return false;
  return map_range(va, pa, size, f, max_page, false);
}

bool PageTableBuilder::map_range(u64 va, u64 pa, u64 size, MapFlags f, PageSize max_page, bool dry) {
  // map() checked these; a caller that got here otherwise would build wrong entries.
  KASSERT(is_aligned(va | pa | size, mm::layout::kPageSize));
  const int max_leaf_level = max_page == PageSize::Size1G ? 3 : max_page == PageSize::Size2M ? 2 : 1;
  while (size != 0) {
    u64 table = pml4_;
    u64 step = 0;  // bytes handled in this iteration
    for (int level = 4; level >= 1 && step == 0; --level) {
      const u64 span = span_of(level);
      const u64 entry_pa = table + index_of(va, level) * 8;
      u64 e = 0;
      if (!read_entry(mem_, entry_pa, &e)) return false;
      const bool present = pte::kPresent.in(e);
      const bool large = level > 1 && pte::kPageSize.in(e);

      bool leaf_here = level == 1;
      if (level <= max_leaf_level && (level == 2 || level == 3)) {
        leaf_here = is_aligned(va | pa, span) && size >= span;
      }
      // An existing table under this entry: use smaller pages inside it instead.
      if (leaf_here && present && level > 1 && !large) leaf_here = false;

      if (leaf_here) {
        const u64 want = leaf_entry(pa, f, level);
        if (present) {
          if ((e & ~kIgnoredForCompare) != want) return false;  // something else is mapped here
        } else if (!dry && !write_entry(mem_, entry_pa, want)) {
          return false;
        }
        step = span;
        break;
      }

      if (present && level == 4 && pte::kPageSize.in(e)) return false;  // reserved (Table 4-15)
      if (present && large) {
        // Descending would split this 1G/2M page. Accept only if it already maps our
        // range identically (same target and permissions), then skip what it covers.
        const u64 base = (level == 3 ? pte::kAddr1G.get(e) : pte::kAddr2M.get(e)) + (va & (span - 1));
        const u64 want = leaf_entry(0, f, level);
        const u64 have = e & pte::kLeafAttrs;
        if (base != pa || have != (want & pte::kLeafAttrs)) return false;
        step = span - (va & (span - 1));
        if (step > size) step = size;
        break;
      }
      if (!present) {
        if (dry) {
          // Nothing below: no conflict possible in what this entry covers.
          step = span - (va & (span - 1));
          if (step > size) step = size;
          break;
        }
        u64 t = new_table();
        if (t == 0) return false;
        u64 ne = pte::kPresent() | pte::kWrite();
        ne = pte::kUser.set(ne, f.user);
        ne = pte::kAddr.set(ne, t);
        if (!write_entry(mem_, entry_pa, ne)) return false;
        table = t;
        continue;
      }
      // An existing intermediate entry: never narrow it, widen it only as our policy
      // allows (W and U, which the leaves below still restrict). XD above is not ours
      // to clear: it would make pages below executable that were not.
      if (f.exec && pte::kNoExecute.in(e)) return false;
      u64 ne = e | pte::kWrite();
      if (f.user) ne |= pte::kUser();
      if (ne != e && !dry && !write_entry(mem_, entry_pa, ne)) return false;
      table = pte::kAddr.get(e);
    }
    if (step == 0) return false;  // not reached: level 1 always ends the loop with a step
    va += step;
    pa += step;
    size -= step;
  }
  return true;
}

bool PageTableBuilder::unmap_4k(u64 va) {
  if (pml4_ == 0 || !mm::layout::is_canonical(va) || !is_aligned(va, mm::layout::kPageSize)) return false;
  u64 table = pml4_;
  for (int level = 4; level >= 1; --level) {
    const u64 entry_pa = table + index_of(va, level) * 8;
    u64 e = 0;
    if (!read_entry(mem_, entry_pa, &e)) return false;
    if (!pte::kPresent.in(e)) return false;
    if (level == 1) return write_entry(mem_, entry_pa, 0);
    if (pte::kPageSize.in(e)) return false;  // a large page (or reserved in a PML4E): no split
    table = pte::kAddr.get(e);
  }
  return false;
}

}  // namespace mm
