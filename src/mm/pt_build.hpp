// Building 4-level page tables (Intel SDM Vol. 3A 4.5) in memory reached only through
// lib::PhysMem, so the same code builds the kernel's tables at boot and fake tables in
// host tests.
//
// Permission policy: intermediate entries (PML4E, PDPTE/PDE referencing a table) are
// always Present|Write, with User only when some leaf below is user, and never NX. The
// CPU ANDs R/W and U/S and ORs XD over all levels (SDM 4.6), so with permissive upper
// levels each leaf alone decides its page's access rights: one table can hold r-x, r--
// and rw- pages side by side, and `walk`/`maps` show the leaf's rights as effective.
#pragma once
#include "lib/physmem.hpp"
#include "lib/types.hpp"

namespace mm {

class TableAllocator {
 public:
  [[nodiscard]] virtual u64 alloc_table() = 0;  // returns a zeroed 4 KiB frame's physical address, 0 on failure

 protected:
  ~TableAllocator() = default;
};

struct MapFlags {
  bool write;
  bool exec;
  bool user;
  bool global;
  bool uncached;  // PCD|PWT: PAT entry 3, UC with the power-on PAT (SDM Vol. 3A 11.12.3), for MMIO
};

enum class PageSize { Size4K, Size2M, Size1G };

class PageTableBuilder {
 public:
  // pml4_phys: an existing (zeroed or populated) PML4 to add to, or 0 to allocate a new
  // one here; pml4() stays 0 if that allocation failed, and map() then refuses.
  PageTableBuilder(lib::PhysMem& mem, TableAllocator& alloc, u64 pml4_phys);

  // Maps [va, va + size) to [pa, pa + size). At each step it uses the largest page
  // <= max_page that the alignment of va and pa and the remaining size allow (1G pages
  // need CPUID.80000001H:EDX[26]; the caller decides through max_page). Where a page
  // table already exists for a range, smaller pages are used inside it rather than
  // replacing it.
  // Refuses (returns false) on: non-canonical va or a range leaving its canonical half,
  // va/pa/size not 4 KiB-aligned, size 0, pa beyond 52 bits, a present entry with a
  // different target or permissions in the way (mapping the same page identically again
  // is fine, also inside an existing identical large page), a range that would need an
  // existing large page split, an existing intermediate entry with XD set above an
  // executable mapping, and running out of table frames or of PhysMem access.
  // Conflicts are found before anything is written, so such a refusal changes nothing;
  // running out of frames or PhysMem failing midway leaves the pages mapped so far.
  [[nodiscard]] bool map(u64 va, u64 pa, u64 size, MapFlags f, PageSize max_page);

  // Clears the 4 KiB leaf mapping va (guard pages). False if va is not canonical or not
  // aligned, not mapped, or mapped by a 2M/1G page (splitting is not supported). Tables
  // are not freed, and the TLB is the caller's to flush (invlpg, SDM Vol. 3A 4.10.4.1).
  [[nodiscard]] bool unmap_4k(u64 va);

  u64 pml4() const { return pml4_; }
  u64 tables_allocated() const { return tables_allocated_; }

 private:
  bool map_range(u64 va, u64 pa, u64 size, MapFlags f, PageSize max_page, bool dry);
  u64 new_table();

  lib::PhysMem& mem_;
  TableAllocator& alloc_;
  u64 pml4_;
  u64 tables_allocated_ = 0;
};

}  // namespace mm
