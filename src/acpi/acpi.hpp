// The kernel's firmware-table state: where the RSDP came from, the parsed ACPI tables, and
// the MP table (read when there is no usable MADT).
#pragma once
#include "acpi/mptable.hpp"
#include "acpi/tables.hpp"

namespace acpi {
extern Info g_info;
extern const char* g_rsdp_source;  // "multiboot2 (ACPI 2.0 tag)", "bios scan", ...
extern bool g_ignored;             // `acpi=off` on the kernel command line: no table read
extern MpTable g_mp;
extern MpError g_mp_error;
extern bool g_mp_read;  // load_mp() ran (there was no usable MADT)
// Reads the tables from a copy of the RSDP the boot loader handed over (rsdp_len 0: none;
// rsdp_v2: it came as ACPI 2.0+), else from the legacy BIOS area scan. On failure prints a
// clear boot message and leaves g_info.madt_found false.
void load(const u8* rsdp, usize rsdp_len, bool rsdp_v2, lib::PhysMem& mem);
// `acpi=off`: records that ACPI is ignored (g_info stays empty).
void ignore();
// Searches and parses the MP table (MP spec 1.4) into g_mp; says so on failure. True when
// it gives a CPU list.
bool load_mp(lib::PhysMem& mem);
}  // namespace acpi
