// The NASM boot code cannot include C++ headers, so its constants (boot_defs.inc) are
// checked here against the C++ names for the same architectural values.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "arch/cpu.hpp"
#include "arch/gdt.hpp"
#include "arch/pte.hpp"
#include "mm/layout.hpp"

namespace {
std::map<std::string, unsigned long long> read_inc() {
  std::ifstream in(SOURCE_DIR "/src/boot/boot_defs.inc");
  EXPECT_TRUE(in.good());
  std::map<std::string, unsigned long long> v;
  std::regex shift(R"(^(\w+)\s+equ\s+1\s*<<\s*(\d+))"), plain(R"(^(\w+)\s+equ\s+(0x[0-9a-fA-F]+|\d+)\s*(;.*)?$)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, shift))
      v[m[1]] = 1ULL << std::stoi(m[2]);
    else if (std::regex_search(line, m, plain))
      v[m[1]] = std::stoull(m[2], nullptr, 0);
  }
  return v;
}
}  // namespace

TEST(AsmConsts, BootDefsMatchCpp) {
  auto v = read_inc();
  EXPECT_EQ(v.at("KERNEL_VMA"), layout::kKernelBase);
  EXPECT_EQ(v.at("PTE_P"), arch::pte::kPresent.mask);
  EXPECT_EQ(v.at("PTE_W"), arch::pte::kWrite.mask);
  EXPECT_EQ(v.at("PTE_PS"), arch::pte::kPageSize.mask);
  EXPECT_EQ(v.at("CR0_PE"), arch::cr0::kPE);
  EXPECT_EQ(v.at("CR0_WP"), arch::cr0::kWP);
  EXPECT_EQ(v.at("CR0_PG"), arch::cr0::kPG);
  EXPECT_EQ(v.at("CR4_PAE"), arch::cr4::kPAE);
  EXPECT_EQ(v.at("CR4_PGE"), arch::cr4::kPGE);
  EXPECT_EQ(v.at("MSR_EFER"), arch::msr::kEfer);
  EXPECT_EQ(v.at("EFER_LME"), arch::efer::kLME);
  EXPECT_EQ(v.at("EFER_NXE"), arch::efer::kNXE);
  EXPECT_EQ(v.at("BOOT_CS"), arch::sel::kKernelCode);
  EXPECT_EQ(v.at("BOOT_DS"), arch::sel::kKernelData);
}
