// libFuzzer: the multiboot2 boot-information parser on arbitrary bytes (an exactly sized
// copy, so ASan sees any read past the end), then the memory map it filled normalized
// both ways, with the invariants normalize() promises checked.
#include <cstring>
#include <memory>

#include "boot/multiboot2.hpp"

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
  std::unique_ptr<u8[]> copy(new u8[size ? size : 1]);
  std::memcpy(copy.get(), data, size);
  static boot::BootInfo bi;
  static mm::MemoryMap map;
  bi = boot::BootInfo{};
  map.clear();
  const char* err = nullptr;
  bool ok = boot::parse_multiboot2(copy.get(), size, &bi, &map, &err);
  if (!ok && err == nullptr) __builtin_trap();  // a refusal always says why
  if (map.size() > mm::MemoryMap::kMaxRanges) __builtin_trap();
  if (bi.rsdp_len > sizeof bi.rsdp) __builtin_trap();
  if (std::memchr(bi.cmdline, 0, sizeof bi.cmdline) == nullptr) __builtin_trap();
  char val[32];
  (void)boot::cmdline_option(bi.cmdline, "smp.skip_apic", val, sizeof val);
  map.normalize();
  for (usize i = 0; i < map.size(); ++i) {
    const mm::MemRange& r = map[i];
    if (r.start >= r.end) __builtin_trap();
    if (i > 0 && map[i - 1].end > r.start) __builtin_trap();  // sorted, no overlap
    if (r.type == mm::MemType::Usable && ((r.start | r.end) & 0xfff) != 0) __builtin_trap();
  }
  return 0;
}
