// Page-table entry bits for 4-level paging, each named once with the table of the Intel
// SDM Vol. 3A section 4.5 "4-Level Paging and 5-Level Paging" that defines it:
//   Table 4-15  PML4E referencing a page-directory-pointer table
//   Table 4-16  PDPTE mapping a 1-GByte page       Table 4-17  PDPTE referencing a PD
//   Table 4-18  PDE mapping a 2-MByte page         Table 4-19  PDE referencing a PT
//   Table 4-20  PTE mapping a 4-KByte page
// (Table 4-14 is the PML5E, unused: this kernel runs 4-level paging.)
// Code reads and builds entries through these typed bits and fields instead of writing
// raw masks at each use, Managarm-style; everything is constexpr and header-only so the
// same definitions serve the kernel, the host tests and static_asserts.
#pragma once
#include "lib/bits.hpp"

namespace arch::pte {

using Bit = lib::Bit;
// Page-table address fields are used unshifted: the field's value is the address itself.
using Field = lib::InPlaceField;

// Common to every level (Tables 4-15..4-20, bits 0-5).
inline constexpr Bit kPresent{u64{1} << 0};   // P: the entry is used for translation
inline constexpr Bit kWrite{u64{1} << 1};     // R/W: writes allowed (ANDed over levels, 4.6)
inline constexpr Bit kUser{u64{1} << 2};      // U/S: user-mode access (ANDed over levels, 4.6)
inline constexpr Bit kPwt{u64{1} << 3};       // page-level write-through (4.9.2)
inline constexpr Bit kPcd{u64{1} << 4};       // page-level cache disable (4.9.2)
inline constexpr Bit kAccessed{u64{1} << 5};  // A: set by the CPU on use (4.8)
// Only in entries that map a page (Tables 4-16, 4-18, 4-20); ignored in the others.
inline constexpr Bit kDirty{u64{1} << 6};  // D: set by the CPU on write (4.8)
// Bit 7: PS in a PDPTE/PDE (1 = maps a 1G/2M page, Tables 4-16/4-18), reserved (must be 0)
// in a PML4E (Table 4-15), and PAT in a PTE (Table 4-20).
inline constexpr Bit kPageSize{u64{1} << 7};
inline constexpr Bit kPat4K{u64{1} << 7};
inline constexpr Bit kGlobal{u64{1} << 8};      // G: survives CR3 loads if CR4.PGE (4.10.2.4); leaves only
inline constexpr Bit kPatLarge{u64{1} << 12};   // PAT of a 1G/2M page (Tables 4-16, 4-18)
inline constexpr Bit kNoExecute{u64{1} << 63};  // XD: instruction fetch not allowed if IA32_EFER.NXE

// Physical address fields. The SDM bounds them by MAXPHYADDR (at most 52); bits between
// MAXPHYADDR and 51 are reserved. We do not know MAXPHYADDR in portable code, so the
// fields run to bit 51 and an address beyond the machine's memory simply fails to read
// through lib::PhysMem.
inline constexpr Field kAddr{12, 51};    // next table or 4K page (Tables 4-15, 4-17, 4-19, 4-20)
inline constexpr Field kAddr2M{21, 51};  // 2M page frame (Table 4-18)
inline constexpr Field kAddr1G{30, 51};  // 1G page frame (Table 4-16)

// Bits that must be 0 or the access faults with PFEC.RSVD (4.7), beyond MAXPHYADDR:
inline constexpr u64 kRsvdPml4 = kPageSize.mask;      // PS in a PML4E (Table 4-15)
inline constexpr u64 kRsvd2M = Field{13, 20}.mask();  // PDE mapping 2M (Table 4-18)
inline constexpr u64 kRsvd1G = Field{13, 29}.mask();  // PDPTE mapping 1G (Table 4-16)

// The permission and attribute bits a leaf carries (everything but the address, the
// CPU-maintained A/D bits and the bit whose meaning depends on the level).
inline constexpr u64 kLeafAttrs =
    kPresent.mask | kWrite.mask | kUser.mask | kPwt.mask | kPcd.mask | kGlobal.mask | kNoExecute.mask;

inline constexpr unsigned kEntries = 512;  // 4 KiB table / 8-byte entries

static_assert(kAddr.mask() == 0x000ffffffffff000ULL);
static_assert(kAddr2M.mask() == 0x000fffffffe00000ULL);
static_assert(kAddr1G.mask() == 0x000fffffc0000000ULL);
static_assert(kRsvd2M == 0x1fe000ULL && kRsvd1G == 0x3fffe000ULL);

}  // namespace arch::pte
