// The kernel's ACPI state: where the RSDP came from, and the parsed tables.
#pragma once
#include "boot/multiboot2.hpp"
#include "smp/acpi_tables.hpp"

namespace acpi {
extern Info g_info;
extern const char* g_rsdp_source;  // "multiboot2 (ACPI 2.0 tag)", "bios scan", ...
// Reads the tables; on failure prints a clear boot message and leaves g_info.madt_found false.
void load(const boot::BootInfo& bi, lib::PhysMem& mem);
}  // namespace acpi
