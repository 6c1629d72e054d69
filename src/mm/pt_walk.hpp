// Reading 4-level page tables (Intel SDM Vol. 3A 4.5) the way the CPU does, for the
// monitor's `walk`, `pml4`, `maps` and `layout` commands and for gdb's matching views.
// Every physical read goes through lib::PhysMem, so garbage tables (entries pointing
// anywhere, reserved bits set, unreadable memory) are reported, never followed into a
// fault. All output is lines ending in "\n" (the serial sink makes them "\r\n").
//
// Flag letters.
//  Raw entry (pml4 and walk per-level lines): 10 characters, a letter when the bit is
//  set, '-' when clear, in this order:
//     P  present            (bit 0)     A  accessed            (bit 5)
//     W  writable           (bit 1)     D  dirty               (bit 6)
//     U  user               (bit 2)     S  bit 7: page size in a PDPTE/PDE, PAT in a PTE,
//     T  write-through PWT  (bit 3)        reserved in a PML4E
//     C  cache disable PCD  (bit 4)     G  global              (bit 8)
//                                       N  no-execute XD       (bit 63)
//   e.g. a kernel data 4K page "PW---AD-GN", a PML4E "PW---A----".
//  Effective (walk's final line): 4 characters r, w or -, x or -, then u (user) or k
//  (kernel only): "rw-k", "r-xk". W and U are ANDed over all levels, x means no level
//  has XD set (SDM Vol. 3A 4.6); reading is always allowed once present.
//
// Formats (numbers in hex are 0x + 16 digits unless said otherwise, indices decimal):
//  walk:   pml4[511] 0x0000000000105003 PW---A----
//          pdpt[510] 0x0000000000106003 PW---A----
//          pd[1] 0x0000000000107003 PW---A----
//          pt[0] 0x8000000000200123 PW---A-G-N
//          0xffffffff80200000 -> 0x0000000000200000 4K rw-k
//      or, after the levels visited, one of
//          error: 0x<va> is not canonical
//          error: 0x<va> not mapped (pd[3] not present)
//          error: 0x<va> not mapped (pml4[5] has reserved bits set)
//          error: 0x<va> not mapped (pdpt table at 0x<pa> unreadable)
//  pml4:   header "PML4 at 0x<pa>: index va entry flags regions", then per present entry
//          <index> 0x<first canonical va> 0x<entry> <raw flags> <labels>
//          labels: every seed region (mm::layout::kRegions) overlapping the entry's 512 GiB,
//          comma-separated, or "unused"; e.g. 511 -> "percpu,kernel,devices".
//          An unreadable PML4 gives "error: PML4 at 0x<pa> unreadable".
//  maps:   exactly QEMU 7.2's HMP `info mem` (target/i386/monitor.c, mem_info_la48):
//          <start>-<end> <size> <u|->r<w|->      (16 hex digits each, no 0x)
//          see format_maps below for the merge rule and the end-of-space quirk.
#pragma once
#include "lib/fmt.hpp"
#include "lib/physmem.hpp"
#include "lib/types.hpp"

namespace mm {

struct WalkStep {
  int level;  // 4 = pml4, 3 = pdpt, 2 = pd, 1 = pt
  unsigned index;
  u64 table_phys;
  u64 entry;
};

struct WalkResult {
  WalkStep steps[4];
  int step_count;  // levels whose entry was read
  bool mapped;
  u64 pa;                  // translation of va itself (page base + offset)
  u64 page_size;           // 4 KiB, 2 MiB or 1 GiB
  bool write, user, exec;  // effective: W and U are ANDed over all levels, exec = no NX at any level
  enum Fault { None, NonCanonical, NotPresent, ReservedBit, Unreadable } fault;
  // NotPresent/ReservedBit: the offending entry is steps[step_count - 1].
  // Unreadable: the table at fault_table (level 4 - step_count) could not be read.
  u64 fault_table;
};

// cr3: bits 12-51 locate the PML4 (SDM Vol. 3A Table 4-12); the low 12 bits (PCD, PWT
// or a PCID) and bits 52-63 are ignored.
WalkResult walk(lib::PhysMem& mem, u64 cr3, u64 va);
void format_walk(lib::Sink& out, u64 va, const WalkResult& r);
// `walk -j`: one JSON line, {"va","pa","size","page","flags","levels":[{"name","index",
// "entry","flags"}],"mapped","fault","fault_level","fault_index","fault_table"}. pa, size
// (bytes), page ("4K"/"2M"/"1G") and flags ("rw-k") are null when not mapped; fault is
// null or "non-canonical", "not-present", "reserved-bits", "unreadable"; fault_level and
// fault_index name the entry the text's error names (fault_level and fault_table the
// unreadable table), else null. An unmapped address is an answer, not an error document.
void format_walk_json(lib::Sink& out, u64 va, const WalkResult& r);

void format_pml4(lib::Sink& out, lib::PhysMem& mem, u64 cr3);
// `pml4 -j`: {"pml4":<addr>,"entries":[{"index","va","end","entry","flags","regions":[..],
// "reserved"}]}; end exclusive (wraps to 0 at the top); reserved: the text's "!RSVD". An
// unreadable PML4 is {"error":"PML4 at 0x<pa> unreadable"}.
void format_pml4_json(lib::Sink& out, lib::PhysMem& mem, u64 cr3);

// QEMU 7.2 `info mem` for 4-level paging, line for line. A run is a maximal sequence of
// present pages, in address order over the 48-bit linear space (the lower half, then
// the upper half directly after it, as QEMU walks PML4 0..511), whose effective
// protection (P, U and W ANDed down the levels; NX ignored) stays the same; a not-present
// entry at any level ends the run. Addresses are printed sign-extended to canonical form
// from bit 47, exactly as QEMU's addr_canonical() does: so a run reaching the top of the
// address space prints its end as 0001000000000000 (2^48, bit 47 clear, not extended),
// and a run ending at the hole prints ffff800000000000.
// Where QEMU would read garbage, this code treats an unreadable table or an entry with
// reserved bits set (PS in a PML4E, reserved bits in a 1G/2M leaf) as not present and
// adds one line at the end: "error: <n> page-table entries skipped (table unreadable or
// reserved bits set)" (a wholly unreadable table counts once); an unreadable PML4 gives
// only "error: PML4 at 0x<pa> unreadable".
// verbose adds columns: x or - (executable: no XD at any level; runs are also split where
// it changes), the seed regions the run overlaps (comma-separated, or "unused"), and
// "!WX" for a writable and executable run, "!USER" for a user-accessible one.
void format_maps(lib::Sink& out, lib::PhysMem& mem, u64 cr3, bool verbose);
// `maps -j [-v]`: {"runs":[{"start","end","size","flags"}],"skipped":<n>}, the text's runs
// and addresses (end keeps QEMU's quirk above), size in bytes, flags "-rw" as printed;
// verbose adds "exec" (bool), "regions" (labels) and "warnings" (["!WX","!USER"] as
// printed). skipped: the entries the text's error line counts (0 when it prints none).
void format_maps_json(lib::Sink& out, lib::PhysMem& mem, u64 cr3, bool verbose);

// Mapped bytes (present leaves, any permissions) inside each of mm::layout::kRegions, in
// that order (out_bytes has one slot per region: user, directmap, percpu, kernel, devices).
void mapped_bytes_by_region(lib::PhysMem& mem, u64 cr3, u64 out_bytes[5]);

}  // namespace mm
