#include "acpi/acpi.hpp"

#include "kernel/console.hpp"
#include "lib/boot_code.hpp"
#include "lib/string.hpp"

namespace acpi {

Info g_info;
const char* g_rsdp_source = "none";
bool g_ignored;
MpTable g_mp;
MpError g_mp_error = MpError::NotFound;
bool g_mp_read;

BOOT_CODE void load(const u8* rsdp, usize rsdp_len, bool rsdp_v2, lib::PhysMem& mem) {
  // The multiboot2 ACPI tags carry a copy of the RSDP, not its address. The legacy BIOS
  // scan gives the address too; use it when the copy matches what the scan finds.
  u64 scanned = find_rsdp_bios(mem);
  Error e = Error::NoRsdp;
  if (rsdp_len >= 20) {
    u64 phys = 0;
    if (scanned != 0) {
      const u8* p = mem.map(scanned, 20);
      if (p != nullptr && memcmp(p, rsdp, 20) == 0) phys = scanned;
    }
    g_rsdp_source = rsdp_v2 ? "multiboot2 ACPI 2.0 tag" : "multiboot2 ACPI 1.0 tag";
    e = parse_acpi(mem, rsdp, rsdp_len, phys, &g_info);
  } else if (scanned != 0) {
    g_rsdp_source = "BIOS area scan";
    e = parse_acpi_at(mem, scanned, &g_info);
  } else {
    g_info.error = e;  // nothing to parse: no tag, nothing in the BIOS areas
  }
  if (e != Error::None) kernel::console::printf("error: acpi: %s\n", error_text(e));
  if (!g_info.madt_found) kernel::console::puts("acpi: no usable MADT; looking for an MP table\n");
}

BOOT_CODE void ignore() {
  g_ignored = true;
  g_rsdp_source = "nowhere (acpi=off on the command line)";
  kernel::console::puts("acpi: ignored (acpi=off on the command line); looking for an MP table\n");
}

BOOT_CODE bool load_mp(lib::PhysMem& mem) {
  g_mp_read = true;
  g_mp_error = parse_mp(mem, &g_mp);
  if (g_mp_error == MpError::NotFound) {
    kernel::console::puts("mptable: none; running on the bootstrap CPU alone\n");
  } else if (g_mp_error != MpError::None) {
    kernel::console::printf("error: mptable: %s; running on the bootstrap CPU alone\n", mp_error_text(g_mp_error));
  }
  return g_mp_error == MpError::None;
}

}  // namespace acpi
