// The kernel's ACPI state: where the RSDP came from, and the parsed tables.
#pragma once
#include "acpi/tables.hpp"

namespace acpi {
extern Info g_info;
extern const char* g_rsdp_source;  // "multiboot2 (ACPI 2.0 tag)", "bios scan", ...
// Reads the tables from a copy of the RSDP the boot loader handed over (rsdp_len 0: none;
// rsdp_v2: it came as ACPI 2.0+), else from the legacy BIOS area scan. On failure prints a
// clear boot message and leaves g_info.madt_found false.
void load(const u8* rsdp, usize rsdp_len, bool rsdp_v2, lib::PhysMem& mem);
}  // namespace acpi
