// The Intel MultiProcessor Specification 1.4 configuration (the floating pointer and the
// MP configuration table), portable: the CPU list and I/O APICs on machines that give no
// ACPI MADT (SeaBIOS builds an MP table on every QEMU machine, also with -machine
// pc,acpi=off, where it is the only one). Same rules as the ACPI parser: every length is
// checked against what was mapped, a malformed structure is reported, never followed.
//
// SeaBIOS lists only the first logical processor of each package (it steps APIC IDs by the
// package's logical-processor count): with -smp 4 as 1 socket of 4 cores the table
// names one CPU; -smp 4,sockets=4 names four.
#pragma once
#include "acpi/tables.hpp"

namespace acpi {

constexpr usize kMaxMpBuses = 32;

// Where the floating pointer was found (chapter 4, in the order searched).
enum class MpArea { None, Ebda, BaseMemoryTop, BiosRom };
const char* mp_area_text(MpArea a);

struct MpBusInfo {
  u8 id;
  char type[7];  // NUL-terminated, printable, trailing spaces dropped
};

struct MpTable {
  u64 floating_phys;
  MpArea area;
  u8 spec_rev;        // floating pointer SPEC_REV (1: 1.1, 4: 1.4)
  u8 default_config;  // MP feature byte 1: 0 (a table), else default configuration 1-7
  bool imcr;          // feature byte 2 IMCRP
  u64 config_phys;    // 0 for a default configuration
  u16 base_length, ext_length, entry_count;
  char oem_id[9];
  char product_id[13];
  u64 lapic_address;
  Cpu cpus[kMaxCpus];  // uid: the entry's ordinal among processor entries; x2apic false
  usize cpu_count;
  usize cpus_dropped;           // beyond kMaxCpus
  usize cpus_rejected;          // APIC ID 0xff (broadcast) or already listed
  bool bsp_listed;              // some processor entry has BP set
  u32 bsp_apic_id;              // its APIC ID
  IoApic ioapics[kMaxIoApics];  // enabled ones; gsi_base 0 (the MP table numbers INTINs per I/O APIC)
  usize ioapic_count;
  usize ioapics_disabled;
  MpBusInfo buses[kMaxMpBuses];
  usize bus_count;
  usize io_interrupts, local_interrupts, ext_entries;
  usize entries_dropped;  // I/O APICs or buses beyond the arrays
};

enum class MpError {
  None,
  NotFound,           // no "_MP_" with a good checksum in the three areas
  FloatingTruncated,  // LENGTH 0, or the structure runs past readable memory
  FloatingChecksum,
  NoConfigTable,     // feature byte 1 is 0 but the pointer is 0
  BadDefaultConfig,  // feature byte 1 above 7
  ConfigUnreadable,  // the table header is outside readable memory
  ConfigSignature,
  ConfigTruncated,  // BASE TABLE LENGTH below the header, or past readable memory
  ConfigChecksum,
  BadEntry,  // a reserved entry type, an entry past the base table, fewer entries than ENTRY COUNT
  ExtChecksum,
  ExtBadEntry,  // an extended entry with length < 2 or past the extended table
};
const char* mp_error_text(MpError e);

// Chapter 4: the first KiB of the EBDA (segment at 0x40E, used only inside
// [0x80000, 0xA0000)), else the last KiB of base memory (KiB count at 0x413), then the BIOS
// ROM 0xF0000-0xFFFFF, on 16-byte boundaries: "_MP_" with LENGTH >= 1 and a good checksum
// over LENGTH paragraphs. 0 if none; *area says where.
[[nodiscard]] u64 find_mp_floating(lib::PhysMem& mem, MpArea* area);

// The configuration table alone: `len` readable bytes from its header on (base and
// extended parts). Fills the table fields of *out (cleared first), keeping the
// floating-pointer ones.
[[nodiscard]] MpError parse_mp_config(const u8* table, usize len, MpTable* out);

// The whole: searches (find_mp_floating), checks the floating pointer, then the default
// configuration or the configuration table. Fills *out completely (cleared first).
[[nodiscard]] MpError parse_mp(lib::PhysMem& mem, MpTable* out);

// The `mptable` monitor command's text; every line starts with a letter.
void format_mp(lib::Sink& out, const MpTable& t, MpError e);
// The same facts as members of the JSON object `j` has open (`mptable -j`): "none" (the
// text's reason when there is no floating pointer, else null), "floating" {"address",
// "area","spec_rev","default_config","imcr"}, "config" {"address","length","ext_length",
// "entries","oem","product"} or null, "parse_error" (the text's error line or null), and
// "tables" (null after an error) {"lapic","cpu_count","enabled","dropped","rejected",
// "cpus":[{"uid","apic","enabled","bsp"}],"buses":[{"id","type"}],"ioapics":[{"id",
// "address"}],"io_interrupts","local_interrupts","ext_entries","ioapics_disabled",
// "entries_dropped"}.
void mp_json(lib::Json& j, const MpTable& t, MpError e);

}  // namespace acpi
