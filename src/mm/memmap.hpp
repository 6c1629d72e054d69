// The firmware's physical memory map (multiboot2 / e820), cleaned up so that the rest
// of the kernel can trust it: sorted, non-overlapping, usable RAM in whole pages.
// Firmware maps overlap and disagree in practice; normalize() settles every byte on
// the most restrictive type claimed for it, so RAM is never handed out by mistake.
#pragma once
#include "config.hpp"
#include "lib/types.hpp"

namespace mm {

// Order is not priority: see normalize() for which type wins an overlap.
enum class MemType : u8 { Usable, Reserved, Acpi, Nvs, Bad };

const char* mem_type_name(MemType t);  // "usable", "reserved", "acpi", "nvs", "bad"
// multiboot2 / e820 type numbers: 1 usable, 3 ACPI reclaimable, 4 NVS, 5 bad; anything
// else (2, and types newer than this code) is reserved.
MemType mem_type_from_multiboot(u32 t);

struct MemRange {
  u64 start;
  u64 end;  // exclusive
  MemType type;
};

class MemoryMap {
 public:
  static constexpr usize kMaxRanges = config::kMaxMemmapRanges;  // entries add() accepts
  // Nothing ends above this: the last page of the address space is given up so that
  // rounding any end up to a page can never wrap past 2^64.
  static constexpr u64 kMaxEnd = 0xfffffffffffff000ULL;

  void clear() { count_ = 0; }
  // Records [base, base + length). Length 0 is ignored (true). An end past kMaxEnd,
  // including one that wraps past 2^64, is clipped to kMaxEnd; what is left empty by
  // that is ignored (true). False, and nothing recorded, when kMaxRanges are held.
  [[nodiscard]] bool add(u64 base, u64 length, MemType type);
  // Sorts and settles overlaps: where entries overlap the more restrictive type wins
  // (Bad > Reserved > Nvs > Acpi > Usable). Touching or overlapping pieces of one
  // type merge. Usable ranges then shrink inward to 4 KiB boundaries (dropped if
  // nothing is left); other types keep their exact bounds. O(n^2), no heap.
  // Overlaps can split ranges, so size() may then exceed kMaxRanges (it is at most
  // 2 * kMaxRanges - 1); add() refuses more entries while size() >= kMaxRanges.
  // trim_usable=false keeps Usable ranges exact (for showing the firmware's map).
  void normalize(bool trim_usable = true);

  usize size() const { return count_; }
  const MemRange& operator[](usize i) const { return ranges_[i]; }
  u64 total(MemType t) const;  // bytes of type t (meaningful once normalized)
  u64 ram_top() const;         // end of the highest Usable/Acpi/Nvs range, 0 if none

 private:
  static constexpr usize kCapacity = 2 * kMaxRanges;
  MemRange ranges_[kCapacity];
  usize count_ = 0;
  // normalize()'s scratch, one for all maps (normalize runs on one CPU at boot), kept
  // out of the maps and off the (small) boot stack.
  static u64 bounds_[kCapacity];
  static u8 kinds_[kCapacity];
};

// The physical ranges the kernel direct-maps, from a normalized map: every Usable,
// Acpi and Nvs range; all of [0, 1 MiB) (BIOS data area, EBDA, the ROM area the RSDP
// scan reads); and every Reserved range that starts inside or right after one of those
// (less than a page past its end, as Usable ranges were shrunk to pages), which is
// where SeaBIOS and OVMF keep ACPI tables and other firmware data. A Reserved range
// that only touches RAM from below is left out: that is the BIOS ROM at 0xfffc0000,
// which ends where RAM above 4 GiB begins. Reserved ranges standing alone (PCI
// MMCONFIG, the HyperTransport hole) and Bad ranges are left out too. Each range is
// rounded out to 2 MiB (an end above the last 2 MiB boundary below 2^64 is cut there,
// so the top 2 MiB of the address space is never included), then overlapping or
// touching ones are merged. Output is sorted, type Usable. Nothing is cut at the
// direct map's size (mm::layout::kDirectMapMaxPhys): that is the caller's check.
// Writes at most max ranges to out and returns how many the full result has: a return
// value above max means out was too small and only the lowest max were written.
[[nodiscard]] usize direct_map_ranges(const MemoryMap& map, MemRange* out, usize max);

// The firmware's map as boot kept it (sorted, overlaps resolved, usable ranges exact, not
// trimmed to pages), for `physmap` and `xp`. Boot registers it: the layers above mm read it
// here instead of reaching up into boot. Reading it before that is a bug (KASSERT).
void set_firmware_map(const MemoryMap* map);
const MemoryMap& firmware_map();

}  // namespace mm
