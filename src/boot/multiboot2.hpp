// The multiboot2 boot information (Multiboot2 specification 1.0, section 3.6), read
// once at boot into plain values. Bounds-checked: a malformed tag ends the parse.
#pragma once
#include "lib/types.hpp"
#include "mm/memmap.hpp"

namespace boot {

constexpr u32 kMultiboot2BootMagic = 0x36d76289;

struct BootInfo {
  char cmdline[256];
  char loader[64];
  u8 rsdp[64];  // a copy of the RSDP (tag 14: ACPI 1.0, tag 15: ACPI 2.0+)
  usize rsdp_len;
  bool rsdp_v2;
  bool has_mmap;
  bool efi;  // an EFI system table tag was present: booted through UEFI
  u64 info_size;
};

// Parses `size` bytes at `info`; memory-map entries go to `map` (not yet normalized).
// Returns false with a reason in `error` if the structure is malformed.
[[nodiscard]] bool parse_multiboot2(const u8* info, usize size, BootInfo* out, mm::MemoryMap* map, const char** error);

// Looks for `key` or `key=value` in the command line; value copied into buf.
[[nodiscard]] bool cmdline_option(const char* cmdline, const char* key, char* buf, usize cap);

}  // namespace boot
