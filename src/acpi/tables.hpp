// ACPI table discovery and MADT parsing (ACPI 6.5, chapter 5.2), portable: the kernel
// feeds it the direct map through lib::PhysMem, the host tests feed it fixtures and
// hostile bytes. Nothing here trusts firmware: every length is checked against what was
// actually mapped before a byte is read, and a malformed structure is reported, never
// followed.
//
// The structures are plain aggregates without constructors so that an Info can live in
// .bss; it is several KiB (kMaxCpus CPUs), so do not put one on a kernel stack.
#pragma once
#include "config.hpp"
#include "lib/fmt.hpp"
#include "lib/json.hpp"
#include "lib/physmem.hpp"
#include "lib/types.hpp"

namespace acpi {

constexpr usize kMaxTables = 32;
constexpr usize kMaxIoApics = 16;
constexpr usize kMaxOverrides = 32;
constexpr usize kMaxNmis = 16;
constexpr usize kMaxCpus = config::kMaxMadtCpus;  // kept from the MADT; slots are fewer

// One table seen while walking the RSDT/XSDT (or referenced from the FADT).
// signature and oem_id are NUL-terminated copies with non-printable bytes replaced by
// '?', so they can be printed as they are. A table whose 36-byte header could not be
// mapped is recorded with signature "????", length 0 and checksum_ok=false.
struct TableInfo {
  char signature[5];
  u64 phys;
  u32 length;        // the header's length field (0 if the header was unreadable)
  u8 revision;       // header revision; for the FACS its Version field (ACPI 6.5 5.2.10)
  bool checksum_ok;  // FACS: no checksum, true when its "FACS" signature matches
  char oem_id[7];
};

// A processor from a Processor Local APIC (type 0) or Processor Local x2APIC (type 9)
// entry. enabled = flags bit 0, online_capable = flags bit 1 (ACPI 6.5 Table 5.23).
struct Cpu {
  u32 apic_id;
  u32 uid;  // ACPI Processor UID (u8 in type 0, u32 in type 9)
  bool enabled;
  bool online_capable;
  bool x2apic;  // came from a type-9 entry
};

struct IoApic {
  u32 id;
  u32 address;
  u32 gsi_base;
};

// Interrupt Source Override (type 2): ISA IRQ `source` on `bus` is GSI `gsi`.
// flags: MPS INTI flags (bits 0-1 polarity, bits 2-3 trigger mode).
struct Override {
  u8 bus;
  u8 source;
  u32 gsi;
  u16 flags;
};

// Local APIC NMI (type 4) or Local x2APIC NMI (type 0xA). uid is the raw value:
// 0xff (type 4) or 0xffffffff (type 0xA) means every processor, also given as `all`.
struct LapicNmi {
  u32 uid;
  u16 flags;
  u8 lint;
  bool all;
  bool x2apic;  // came from a type-0xA entry
};

struct Madt {
  u64 lapic_address;  // header field, replaced by a type-5 override if present
  u32 flags;          // bit 0 PCAT_COMPAT (dual 8259s present)
  Cpu cpus[kMaxCpus];
  usize cpu_count;
  usize cpus_dropped;  // valid entries beyond kMaxCpus (KCONFIG_MAX_MADT_CPUS): counted only
  // Entries not recorded: an APIC ID already seen (the later entry is the one rejected,
  // so the first description firmware gave wins), or the invalid IDs 0xff (type 0, the
  // xAPIC broadcast ID) and 0xffffffff (type 9).
  usize cpus_rejected;
  IoApic ioapics[kMaxIoApics];
  usize ioapic_count;
  Override overrides[kMaxOverrides];
  usize override_count;
  LapicNmi nmis[kMaxNmis];
  usize nmi_count;
  usize entries_dropped;  // IOAPIC / override / NMI entries beyond the arrays above
  usize entries_unknown;  // entries of types this parser skips by their length
};

enum class Error {
  None,
  NoRsdp,  // no "RSD PTR " signature
  RsdpChecksum,
  RsdpTruncated,
  RsdpNoRoot,  // RSDP has neither an RSDT nor an XSDT address
  RootUnreadable,
  RootSignature,
  RootChecksum,
  RootTruncated,
  RootBadLength,  // RSDT/XSDT entry area not a multiple of 4/8 bytes
  MadtMissing,
  MadtSignature,
  MadtChecksum,
  MadtTruncated,
  MadtBadEntry,
};

// A one-line message for the boot log (no trailing newline).
const char* error_text(Error e);

// Parses a complete MADT (ACPI 6.5 5.2.12): `table` points at its 36-byte header and
// `len` bytes are readable. Checks the signature, that the header's length fits in
// `len`, and the checksum. Walks the entries inside the header's length; an entry with
// length < 2, shorter than its type needs, or running past the table end stops the walk
// with MadtBadEntry (what was parsed before stays in *out, for diagnostics only).
// Unknown entry types are skipped by their length.
[[nodiscard]] Error parse_madt(const u8* table, usize len, Madt* out);

// What the HPET and FADT say about the platform's clocks (the TSC is calibrated against
// them). A structure is filled only when its parser returned TimerTable::Ok.
enum class TimerTable {
  Missing,  // no such table (or, for the PM timer, no FADT)
  Ok,
  Truncated,     // shorter than its fields, or its length field runs past what was readable
  BadSignature,  // not "HPET" / "FACP"
  BadChecksum,
  NotSupported,  // FADT: PM_TMR_LEN is not 4, or a hardware-reduced ACPI platform
  AddressSpace,  // the register is in an address space this kernel does not read
  NoAddress,     // address 0, or an I/O port beyond 0xffff
};
const char* timer_table_text(TimerTable t);

// HPET Description Table (IA-PC HPET 1.0a 3.2.4): the first event timer block.
struct HpetInfo {
  u64 base;            // physical address of its 1 KiB register block (system memory)
  u32 block_id;        // Event Timer Block ID: General Capabilities bits 31:0
  u8 number;           // HPET Number
  u16 min_clock_tick;  // Main Counter Minimum Clock_tick in Periodic Mode
  u8 page_protection;
};

// ACPI PM timer (ACPI 6.5 4.8.2.1, 4.8.3.3), from the FADT (5.2.9).
struct PmTimerInfo {
  bool io;      // system I/O port (else system memory)
  u64 address;  // the port or the physical address of the 32-bit register
  bool ext32;   // TMR_VAL_EXT: 32-bit counter, else 24-bit
  bool from_x;  // from X_PM_TMR_BLK (else PM_TMR_BLK)
};

// The HPET table's fields (3.2.4) from `len` readable bytes: signature, the header's
// length within `len`, the checksum, and a base address in system memory.
[[nodiscard]] TimerTable parse_hpet(const u8* table, usize len, HpetInfo* out);
// The PM timer from a FADT of `len` readable bytes: signature, length, checksum;
// PM_TMR_LEN must be 4 and the platform not hardware-reduced; X_PM_TMR_BLK (ACPI 2.0+,
// when the table is long enough and its address non-zero) supersedes PM_TMR_BLK; the
// register must be in system I/O (a port below 0x10000) or system memory.
[[nodiscard]] TimerTable parse_fadt_pm_timer(const u8* table, usize len, PmTimerInfo* out);

struct Info {
  u64 rsdp_phys;  // 0 if unknown (e.g. multiboot handed over only a copy)
  u8 rsdp_revision;
  char oem_id[7];
  bool use_xsdt;
  u64 root_phys;
  TableInfo tables[kMaxTables];  // the RSDT/XSDT first, then its entries, then FACS/DSDT
  usize table_count;
  usize tables_dropped;  // beyond kMaxTables (still searched for the MADT)
  Madt madt;
  bool madt_found;  // madt holds a fully parsed MADT
  Error error;
  HpetInfo hpet;  // from the first HPET table with a good checksum
  TimerTable hpet_status;
  PmTimerInfo pm_timer;  // from the FADT
  TimerTable pm_timer_status;
};

// Validates an RSDP (ACPI 6.5 5.2.5.3) of `len` readable bytes. Revision < 2: the
// 20-byte ACPI 1.0 structure and its checksum; revision >= 2: also the Length field and
// the extended checksum over it. Picks the XSDT when revision >= 2 and its address is
// non-zero, else the RSDT. oem_id gets the sanitized, NUL-terminated OEM ID.
[[nodiscard]] Error parse_rsdp(const u8* p, usize len, u64* root_phys, bool* use_xsdt, u8* revision, char oem_id[7]);

// The whole walk: RSDP -> RSDT/XSDT -> every table, the FACS/DSDT and the PM timer from
// the FADT, the first HPET table, and the MADT (the first "APIC" table with a good
// checksum). `rsdp` is a readable copy of
// the RSDP (`rsdp_len` bytes), `rsdp_phys` its address or 0. Fills *out completely
// (it is cleared first) and returns out->error. An RSDP/RSDT/XSDT error ends the walk;
// a MADT error still leaves the table list complete.
[[nodiscard]] Error parse_acpi(lib::PhysMem& mem, const u8* rsdp, usize rsdp_len, u64 rsdp_phys, Info* out);

// parse_acpi for an RSDP that sits in physical memory at rsdp_phys (e.g. from
// find_rsdp_bios): maps 20 bytes, or the revision-2 Length when revision >= 2.
[[nodiscard]] Error parse_acpi_at(lib::PhysMem& mem, u64 rsdp_phys, Info* out);

// Legacy BIOS search (ACPI 6.5 5.2.5.1): the first KiB of the EBDA (real-mode segment
// at phys 0x40E, used only if it lies in [0x80000, 0xA0000)), then 0xE0000-0xFFFFF, on
// 16-byte boundaries, for "RSD PTR " with a valid 20-byte checksum. 0 if none.
[[nodiscard]] u64 find_rsdp_bios(lib::PhysMem& mem);

// The `acpi` monitor command: the RSDP, one line per table, then the MADT summary.
// Every line starts with a letter.
void format_tables(lib::Sink& out, const Info& info);
// The same facts as members of the JSON object `j` has open (`acpi -j`): "rsdp"
// {"address","revision","oem","root","root_address"}, "tables" [{"signature","address",
// "length","revision","checksum","oem"}], "tables_not_listed", "parse_error" (the text's
// error line, or null), "hpet" {"base","block_id","number","min_tick","page_protection"} or
// null with "hpet_none" its reason, "pm_timer" {"port","address","bits","field"} or null
// with "pm_timer_none", "madt" (null: not parsed) {"lapic","flags","cpu_count","enabled",
// "dropped","rejected","cpus":[{"uid","apic","enabled","online_capable","x2apic"}],
// "ioapics":[{"id","address","gsi"}],"overrides":[{"bus","irq","gsi","flags"}],
// "nmis":[{"cpu" (a uid or "all"),"lint","flags","x2apic"}],"entries_dropped",
// "entries_unknown"}.
void tables_json(lib::Json& j, const Info& info);

}  // namespace acpi
