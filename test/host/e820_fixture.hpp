// Reads test/fixtures/e820/<name>.txt ("0x<start> 0x<end-inclusive> <type as Linux
// prints it>", copied from QEMU boots) into a MemoryMap, not normalized. Shared by the
// memory-map, frame-allocator and direct-map tests.
#pragma once
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "mm/memmap.hpp"

inline void load_e820(const char* name, mm::MemoryMap* map) {
  std::string path = std::string(FIXTURE_DIR) + "/e820/" + name + ".txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  map->clear();
  std::string line;
  int entries = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string s, e, type;
    ls >> s >> e;
    std::getline(ls >> std::ws, type);
    u64 start = std::stoull(s, nullptr, 16), last = std::stoull(e, nullptr, 16);
    u32 t = type == "usable" ? 1 : type == "reserved" ? 2 : type == "ACPI data" ? 3 : type == "ACPI NVS" ? 4 : 0;
    if (type == "unusable") t = 5;
    ASSERT_NE(t, 0u) << "unknown type '" << type << "' in " << path;
    ASSERT_TRUE(map->add(start, last - start + 1, mm::mem_type_from_multiboot(t)));
    ++entries;
  }
  ASSERT_GT(entries, 0) << path;
}
