// The MP table search and parser (acpi/mptable.hpp) against what SeaBIOS builds under QEMU
// 10 (test/fixtures/mptable/<config>/, see the README there), synthetic tables for the
// search areas, default configurations and extended entries SeaBIOS does not produce,
// malformed tables, and a mutation loop.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "acpi/mptable.hpp"
#include "firmware_mem.hpp"
#include "lib/fmt.hpp"
#include "lib/json.hpp"

namespace {

using Bytes = std::vector<u8>;

Bytes load(const std::string& config, const std::string& file) { return test::load_fixture("mptable", config, file); }

using FakeMem = test::BlockMem;

struct Fixture {
  const char* name;
  u64 floating;
  u64 table;
};
constexpr Fixture kPcAcpiOff{"seabios-pc-acpioff-4s", 0xf53f0, 0xf5400};
constexpr Fixture kQ35{"seabios-q35-smp4", 0xf5420, 0xf5430};
constexpr Fixture kPc2of4{"seabios-pc-2of4", 0xf53e0, 0xf53f0};

// The guest's low memory as SeaBIOS left it: the BDA, the EBDA's first KiB, the F segment
// (SeaBIOS's code is not in the fixture: zeros with the floating pointer and the table at
// their addresses), so the search walks every area it would on the real machine.
void place_fixture(FakeMem& mem, const Fixture& f) {
  mem.place(0x400, load(f.name, "BDA.dat"));
  mem.place(0x9fc00, load(f.name, "EBDA.dat"));
  Bytes rom(0x10000, 0);
  const Bytes fp = load(f.name, "MPFP.dat");
  const Bytes t = load(f.name, "PCMP.dat");
  u32 pointer = 0;
  std::memcpy(&pointer, fp.data() + 4, 4);
  EXPECT_EQ(pointer, f.table) << "fixture README and its MPFP.dat disagree";
  std::memcpy(rom.data() + (f.floating - 0xf0000), fp.data(), fp.size());
  std::memcpy(rom.data() + (f.table - 0xf0000), t.data(), t.size());
  mem.place(0xf0000, rom);
}

std::unique_ptr<acpi::MpTable> new_table() { return std::make_unique<acpi::MpTable>(); }

std::string render(const acpi::MpTable& t, acpi::MpError e) {
  static char buf[64 * 1024];
  lib::BufSink s(buf, sizeof buf);
  acpi::format_mp(s, t, e);
  EXPECT_FALSE(s.truncated());
  return std::string(s.str());
}

// `mptable -j`'s part: mp_json's members in an object of their own.
std::string render_json(const acpi::MpTable& t, acpi::MpError e) {
  static char buf[256 * 1024];
  lib::BufSink s(buf, sizeof buf);
  lib::Json j(s);
  j.begin_object();
  acpi::mp_json(j, t, e);
  j.end_object();
  EXPECT_TRUE(j.finish());
  EXPECT_FALSE(s.truncated());
  return std::string(s.str());
}

void fix_sum(Bytes& b, usize csum_off, usize from, usize n) {
  b[csum_off] = 0;
  u8 s = 0;
  for (usize i = from; i < from + n; ++i) s = static_cast<u8>(s + b[i]);
  b[csum_off] = static_cast<u8>(-s);
}
void put16(Bytes& b, usize off, u16 v) { std::memcpy(b.data() + off, &v, 2); }
void put32(Bytes& b, usize off, u32 v) { std::memcpy(b.data() + off, &v, 4); }

// A configuration table: header, then the given base entries and extended bytes.
struct TableBuilder {
  Bytes entries;
  Bytes ext;
  u16 count = 0;
  TableBuilder& cpu(u8 apic, u8 flags) {
    Bytes e(20, 0);
    e[1] = apic;
    e[2] = 0x14;
    e[3] = flags;
    entries.insert(entries.end(), e.begin(), e.end());
    ++count;
    return *this;
  }
  TableBuilder& ioapic(u8 id, u8 flags, u32 addr) {
    Bytes e = {2, id, 0x11, flags, 0, 0, 0, 0};
    put32(e, 4, addr);
    entries.insert(entries.end(), e.begin(), e.end());
    ++count;
    return *this;
  }
  TableBuilder& bus(u8 id, const char* type) {
    Bytes e = {1, id, ' ', ' ', ' ', ' ', ' ', ' '};
    std::memcpy(e.data() + 2, type, std::strlen(type));
    entries.insert(entries.end(), e.begin(), e.end());
    ++count;
    return *this;
  }
  TableBuilder& raw(std::initializer_list<u8> e, u16 counted = 1) {
    entries.insert(entries.end(), e);
    count = static_cast<u16>(count + counted);
    return *this;
  }
  Bytes build() const {
    Bytes b(44, 0);
    std::memcpy(b.data(), "PCMP", 4);
    b[6] = 4;
    std::memcpy(b.data() + 8, "TESTOEM ", 8);
    std::memcpy(b.data() + 16, "PRODUCT     ", 12);
    put16(b, 34, count);
    put32(b, 36, 0xfee00000u);
    b.insert(b.end(), entries.begin(), entries.end());
    put16(b, 4, static_cast<u16>(b.size()));
    put16(b, 40, static_cast<u16>(ext.size()));
    u8 s = 0;
    for (u8 x : ext) s = static_cast<u8>(s + x);
    b[42] = static_cast<u8>(-s);
    fix_sum(b, 7, 0, b.size());
    b.insert(b.end(), ext.begin(), ext.end());
    return b;
  }
};

Bytes floating(u32 table, u8 feature1 = 0) {
  Bytes fp(16, 0);
  std::memcpy(fp.data(), "_MP_", 4);
  put32(fp, 4, table);
  fp[8] = 1;
  fp[9] = 4;
  fp[11] = feature1;
  fix_sum(fp, 10, 0, 16);
  return fp;
}

// A BDA with an EBDA segment and a base memory size.
Bytes bda(u16 ebda_segment, u16 base_kib) {
  Bytes b(0x100, 0);
  put16(b, 0x0e, ebda_segment);
  put16(b, 0x13, base_kib);
  return b;
}

}  // namespace

// ---------------------------------------------------------------- SeaBIOS fixtures

TEST(MpTable, PcAcpiOffFourSockets) {
  FakeMem mem;
  place_fixture(mem, kPcAcpiOff);
  acpi::MpArea area;
  EXPECT_EQ(acpi::find_mp_floating(mem, &area), kPcAcpiOff.floating);
  EXPECT_EQ(area, acpi::MpArea::BiosRom);
  auto t = new_table();
  ASSERT_EQ(acpi::parse_mp(mem, t.get()), acpi::MpError::None);
  EXPECT_EQ(t->config_phys, kPcAcpiOff.table);
  EXPECT_EQ(t->spec_rev, 4u);
  EXPECT_EQ(t->default_config, 0u);
  EXPECT_EQ(t->lapic_address, 0xfee00000u);
  ASSERT_EQ(t->cpu_count, 4u);
  for (u32 i = 0; i < 4; ++i) {
    EXPECT_EQ(t->cpus[i].apic_id, i);
    EXPECT_EQ(t->cpus[i].uid, i);
    EXPECT_TRUE(t->cpus[i].enabled);
  }
  EXPECT_TRUE(t->bsp_listed);
  EXPECT_EQ(t->bsp_apic_id, 0u);
  ASSERT_EQ(t->ioapic_count, 1u);
  EXPECT_EQ(t->ioapics[0].id, 0u);
  EXPECT_EQ(t->ioapics[0].address, 0xfec00000u);
  EXPECT_EQ(t->bus_count, 2u);
  EXPECT_EQ(t->io_interrupts, 11u);
  EXPECT_EQ(t->local_interrupts, 2u);
  EXPECT_EQ(render(*t, acpi::MpError::None),
            "MP floating pointer 0x00000000000f53f0 in the BIOS ROM area, spec 1.4, configuration table\n"
            "MP configuration table 0x00000000000f5400 len=252 ext=0 entries=20 oem=BOCHSCPU product=0.1\n"
            "MP lapic=0xfee00000 cpus=4 enabled=4 dropped=0 rejected=0\n"
            "cpu 0 apic 0 enabled bsp\n"
            "cpu 1 apic 1 enabled\n"
            "cpu 2 apic 2 enabled\n"
            "cpu 3 apic 3 enabled\n"
            "bus 0 PCI\n"
            "bus 1 ISA\n"
            "ioapic id 0 addr 0xfec00000\n"
            "interrupts io=11 local=2; extended entries 0; ioapics disabled 0; dropped 0\n");
}

// The JSON twin of the text above, field by field; a table with an error and none at all.
TEST(MpTable, PcAcpiOffFourSocketsJson) {
  FakeMem mem;
  place_fixture(mem, kPcAcpiOff);
  auto t = new_table();
  ASSERT_EQ(acpi::parse_mp(mem, t.get()), acpi::MpError::None);
  EXPECT_EQ(render_json(*t, acpi::MpError::None),
            "{\"none\":null,\"floating\":{\"address\":\"0x00000000000f53f0\",\"area\":\"the BIOS ROM area\","
            "\"spec_rev\":4,\"default_config\":0,\"imcr\":false},"
            "\"config\":{\"address\":\"0x00000000000f5400\",\"length\":252,\"ext_length\":0,\"entries\":20,"
            "\"oem\":\"BOCHSCPU\",\"product\":\"0.1\"},\"parse_error\":null,"
            "\"tables\":{\"lapic\":\"0x00000000fee00000\",\"cpu_count\":4,\"enabled\":4,\"dropped\":0,"
            "\"rejected\":0,\"cpus\":[{\"uid\":0,\"apic\":0,\"enabled\":true,\"bsp\":true},"
            "{\"uid\":1,\"apic\":1,\"enabled\":true,\"bsp\":false},{\"uid\":2,\"apic\":2,\"enabled\":true,"
            "\"bsp\":false},{\"uid\":3,\"apic\":3,\"enabled\":true,\"bsp\":false}],"
            "\"buses\":[{\"id\":0,\"type\":\"PCI\"},{\"id\":1,\"type\":\"ISA\"}],"
            "\"ioapics\":[{\"id\":0,\"address\":\"0x00000000fec00000\"}],\"io_interrupts\":11,"
            "\"local_interrupts\":2,\"ext_entries\":0,\"ioapics_disabled\":0,\"entries_dropped\":0}}\n");
  const std::string bad = render_json(*t, acpi::MpError::ConfigChecksum);
  const std::string tail =
      std::string("\"parse_error\":\"") + acpi::mp_error_text(acpi::MpError::ConfigChecksum) + "\",\"tables\":null}\n";
  ASSERT_GE(bad.size(), tail.size());
  EXPECT_EQ(bad.substr(bad.size() - tail.size()), tail);
  auto none = new_table();
  EXPECT_EQ(render_json(*none, acpi::MpError::NotFound),
            std::string("{\"none\":\"") + "no MP floating pointer (\\\"_MP_\\\") found" +
                "\",\"floating\":null,\"config\":null,\"parse_error\":null,\"tables\":null}\n");
}

TEST(MpTable, Q35OneSocketListsOnlyTheFirstLogicalCpu) {
  FakeMem mem;
  place_fixture(mem, kQ35);
  auto t = new_table();
  ASSERT_EQ(acpi::parse_mp(mem, t.get()), acpi::MpError::None);
  EXPECT_EQ(t->floating_phys, kQ35.floating);
  ASSERT_EQ(t->cpu_count, 1u);  // SeaBIOS: one entry per package (fixture README)
  EXPECT_EQ(t->cpus[0].apic_id, 0u);
  EXPECT_EQ(t->io_interrupts, 12u);  // q35 adds a PCI interrupt entry
}

TEST(MpTable, AbsentCpusHaveEnClear) {
  FakeMem mem;
  place_fixture(mem, kPc2of4);
  auto t = new_table();
  ASSERT_EQ(acpi::parse_mp(mem, t.get()), acpi::MpError::None);
  ASSERT_EQ(t->cpu_count, 4u);
  EXPECT_TRUE(t->cpus[0].enabled);
  EXPECT_TRUE(t->cpus[1].enabled);
  EXPECT_FALSE(t->cpus[2].enabled);
  EXPECT_FALSE(t->cpus[3].enabled);
  EXPECT_NE(render(*t, acpi::MpError::None).find("cpus=4 enabled=2"), std::string::npos);
}

TEST(MpTable, ConfigTableAloneEqualsTheWalk) {
  const Bytes b = load(kPcAcpiOff.name, "PCMP.dat");
  std::unique_ptr<u8[]> copy(new u8[b.size()]);
  std::memcpy(copy.get(), b.data(), b.size());
  auto t = new_table();
  ASSERT_EQ(acpi::parse_mp_config(copy.get(), b.size(), t.get()), acpi::MpError::None);
  EXPECT_EQ(t->cpu_count, 4u);
  EXPECT_STREQ(t->oem_id, "BOCHSCPU");
  EXPECT_STREQ(t->product_id, "0.1");
  // One byte short of BASE TABLE LENGTH: refused, nothing read past it.
  EXPECT_EQ(acpi::parse_mp_config(copy.get(), b.size() - 1, t.get()), acpi::MpError::ConfigTruncated);
}

// ---------------------------------------------------------------- the search (chapter 4)

TEST(MpSearch, EbdaThenBaseMemoryThenRom) {
  const Bytes table = TableBuilder().cpu(0, 3).cpu(1, 1).build();
  // In the EBDA's first KiB (segment 0x9fc0).
  {
    FakeMem mem;
    mem.place(0x400, bda(0x9fc0, 639));
    Bytes ebda(1024, 0);
    const Bytes fp = floating(0x9fd00);
    std::memcpy(ebda.data() + 0x40, fp.data(), 16);
    std::memcpy(ebda.data() + 0x100, table.data(), table.size());
    mem.place(0x9fc00, ebda);
    acpi::MpArea area;
    EXPECT_EQ(acpi::find_mp_floating(mem, &area), 0x9fc40u);
    EXPECT_EQ(area, acpi::MpArea::Ebda);
    auto t = new_table();
    ASSERT_EQ(acpi::parse_mp(mem, t.get()), acpi::MpError::None);
    EXPECT_EQ(t->cpu_count, 2u);
  }
  // No EBDA (segment 0): the last KiB of base memory (0x413 says 512 KiB).
  {
    FakeMem mem;
    mem.place(0x400, bda(0, 512));
    Bytes top(1024, 0);
    const Bytes fp = floating(0xf0000);
    std::memcpy(top.data() + 0x3f0, fp.data(), 16);
    mem.place(0x7fc00, top);
    mem.place(0xf0000, table);
    acpi::MpArea area;
    EXPECT_EQ(acpi::find_mp_floating(mem, &area), 0x7fff0u);
    EXPECT_EQ(area, acpi::MpArea::BaseMemoryTop);
  }
  // A "_MP_" with a bad checksum is passed over; the next good one is taken. Off the
  // 16-byte grid it is never seen.
  {
    FakeMem mem;
    mem.place(0x400, bda(0, 639));
    Bytes rom(0x10000, 0);
    Bytes bad = floating(0xf8000);
    bad[5] ^= 1;
    std::memcpy(rom.data() + 0x100, bad.data(), 16);
    const Bytes fp = floating(0xf8000);
    std::memcpy(rom.data() + 0x208, fp.data(), 16);  // unaligned
    std::memcpy(rom.data() + 0x300, fp.data(), 16);
    std::memcpy(rom.data() + 0x8000, table.data(), table.size());
    mem.place(0xf0000, rom);
    acpi::MpArea area;
    EXPECT_EQ(acpi::find_mp_floating(mem, &area), 0xf0300u);
    EXPECT_EQ(area, acpi::MpArea::BiosRom);
  }
  // Nothing anywhere (the BDA unreadable too): not found, and said so.
  {
    FakeMem mem;
    acpi::MpArea area;
    EXPECT_EQ(acpi::find_mp_floating(mem, &area), 0u);
    EXPECT_EQ(area, acpi::MpArea::None);
    auto t = new_table();
    EXPECT_EQ(acpi::parse_mp(mem, t.get()), acpi::MpError::NotFound);
    EXPECT_NE(render(*t, acpi::MpError::NotFound).find("MP table: none (no MP floating pointer"), std::string::npos);
  }
}

TEST(MpSearch, DefaultConfigurationAndFloatingPointerErrors) {
  auto t = new_table();
  auto with_fp = [&](const Bytes& fp) {
    FakeMem mem;
    mem.place(0x400, bda(0, 639));
    Bytes rom(0x10000, 0);
    std::memcpy(rom.data() + 0x10, fp.data(), fp.size());
    mem.place(0xf0000, rom);
    return acpi::parse_mp(mem, t.get());
  };
  // Chapter 5: feature byte 1 = 5 (ISA + PCI, integrated APICs): two CPUs, I/O APIC 2.
  ASSERT_EQ(with_fp(floating(0, 5)), acpi::MpError::None);
  ASSERT_EQ(t->cpu_count, 2u);
  EXPECT_EQ(t->cpus[0].apic_id, 0u);
  EXPECT_EQ(t->cpus[1].apic_id, 1u);
  ASSERT_EQ(t->ioapic_count, 1u);
  EXPECT_EQ(t->ioapics[0].id, 2u);
  EXPECT_EQ(t->ioapics[0].address, 0xfec00000u);
  EXPECT_NE(render(*t, acpi::MpError::None).find("default configuration type 5"), std::string::npos);
  EXPECT_EQ(with_fp(floating(0, 8)), acpi::MpError::BadDefaultConfig);
  EXPECT_EQ(with_fp(floating(0, 0)), acpi::MpError::NoConfigTable);
  EXPECT_EQ(with_fp(floating(0x12345678)), acpi::MpError::ConfigUnreadable);
  // LENGTH 2: the checksum covers 32 bytes, which then must add up.
  Bytes two = floating(0, 5);
  two[8] = 2;
  two.resize(32, 0);
  fix_sum(two, 10, 0, 32);
  EXPECT_EQ(with_fp(two), acpi::MpError::None);
}

// ---------------------------------------------------------------- malformed tables

namespace {
acpi::MpError parse_bytes(const Bytes& b, acpi::MpTable* t) {
  std::unique_ptr<u8[]> copy(new u8[b.empty() ? 1 : b.size()]);
  if (!b.empty()) std::memcpy(copy.get(), b.data(), b.size());
  return acpi::parse_mp_config(copy.get(), b.size(), t);
}
}  // namespace

TEST(MpConfig, EntriesAndTheirRules) {
  auto t = new_table();
  // Duplicates and the broadcast ID are rejected; a disabled I/O APIC is counted only.
  TableBuilder b;
  b.cpu(0, 3).cpu(2, 1).cpu(2, 1).cpu(0xff, 1).cpu(5, 0).bus(0, "PCI").bus(1, "ISA").ioapic(3, 1, 0xfec00000);
  b.ioapic(4, 0, 0xfec01000);
  b.raw({3, 0, 0, 0, 1, 0, 3, 2}).raw({4, 1, 0, 0, 1, 0, 0xff, 1});
  ASSERT_EQ(parse_bytes(b.build(), t.get()), acpi::MpError::None);
  ASSERT_EQ(t->cpu_count, 3u);
  EXPECT_EQ(t->cpus[1].apic_id, 2u);
  EXPECT_EQ(t->cpus[2].apic_id, 5u);
  EXPECT_FALSE(t->cpus[2].enabled);
  EXPECT_EQ(t->cpus[2].uid, 4u);  // the fifth processor entry
  EXPECT_EQ(t->cpus_rejected, 2u);
  ASSERT_EQ(t->ioapic_count, 1u);
  EXPECT_EQ(t->ioapics[0].id, 3u);
  EXPECT_EQ(t->ioapics_disabled, 1u);
  EXPECT_STREQ(t->buses[1].type, "ISA");
  EXPECT_EQ(t->io_interrupts, 1u);
  EXPECT_EQ(t->local_interrupts, 1u);
  // Extended entries: walked by their lengths, checksum checked.
  TableBuilder x;
  x.cpu(0, 3);
  x.ext = {128, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 130, 8, 0, 0, 0, 0, 0, 0};
  ASSERT_EQ(parse_bytes(x.build(), t.get()), acpi::MpError::None);
  EXPECT_EQ(t->ext_entries, 2u);
  Bytes bad = x.build();
  bad[44 + 20 + 3] ^= 1;  // inside the extended part: its checksum no longer adds up
  EXPECT_EQ(parse_bytes(bad, t.get()), acpi::MpError::ExtChecksum);
  TableBuilder zero;
  zero.cpu(0, 3);
  zero.ext = {128, 0, 0, 0};  // length 0 would loop forever
  EXPECT_EQ(parse_bytes(zero.build(), t.get()), acpi::MpError::ExtBadEntry);
  TableBuilder past;
  past.cpu(0, 3);
  past.ext = {128, 20, 0, 0};
  EXPECT_EQ(parse_bytes(past.build(), t.get()), acpi::MpError::ExtBadEntry);
}

TEST(MpConfig, Malformed) {
  auto t = new_table();
  const Bytes good = TableBuilder().cpu(0, 3).cpu(1, 1).build();
  ASSERT_EQ(parse_bytes(good, t.get()), acpi::MpError::None);
  Bytes b = good;
  b[50] ^= 1;
  EXPECT_EQ(parse_bytes(b, t.get()), acpi::MpError::ConfigChecksum);
  b = good;
  b[0] = 'X';
  EXPECT_EQ(parse_bytes(b, t.get()), acpi::MpError::ConfigSignature);
  EXPECT_EQ(parse_bytes(Bytes(good.begin(), good.begin() + 30), t.get()), acpi::MpError::ConfigTruncated);
  EXPECT_EQ(parse_bytes(Bytes(), t.get()), acpi::MpError::ConfigTruncated);
  // BASE TABLE LENGTH below the header.
  b = good;
  put16(b, 4, 40);
  fix_sum(b, 7, 0, 40);
  EXPECT_EQ(parse_bytes(b, t.get()), acpi::MpError::ConfigTruncated);
  // A reserved base entry type: its length is unknown, the walk stops.
  EXPECT_EQ(parse_bytes(TableBuilder().cpu(0, 3).raw({9, 0, 0, 0, 0, 0, 0, 0}).build(), t.get()),
            acpi::MpError::BadEntry);
  // ENTRY COUNT beyond what BASE TABLE LENGTH holds.
  b = good;
  put16(b, 34, 3);
  fix_sum(b, 7, 0, b.size());
  EXPECT_EQ(parse_bytes(b, t.get()), acpi::MpError::BadEntry);
  // A processor entry cut short by the table's end.
  EXPECT_EQ(parse_bytes(TableBuilder().raw({0, 1, 0x14, 1, 0, 0, 0, 0}).build(), t.get()), acpi::MpError::BadEntry);
  for (int e = 0; e <= static_cast<int>(acpi::MpError::ExtBadEntry); ++e)
    EXPECT_GT(std::strlen(acpi::mp_error_text(static_cast<acpi::MpError>(e))), 1u);
}

TEST(MpConfig, MoreProcessorsThanKept) {
  // 256 processor entries with IDs 0..254 and a repeated one: the parser keeps kMaxCpus.
  TableBuilder b;
  for (u32 i = 0; i < 255; ++i) b.cpu(static_cast<u8>(i), i == 0 ? 3 : 1);
  auto t = new_table();
  ASSERT_EQ(parse_bytes(b.build(), t.get()), acpi::MpError::None);
  const usize kept = acpi::kMaxCpus < 255 ? acpi::kMaxCpus : 255;
  EXPECT_EQ(t->cpu_count, kept);
  EXPECT_EQ(t->cpus_dropped, 255 - kept);
}

TEST(MpConfig, MutationsNeverReadOutside) {
  // Every single-byte change and every truncation of the real table: any outcome but a
  // read past the buffer (ASan) or counts beyond the arrays.
  const Bytes base = load(kPcAcpiOff.name, "PCMP.dat");
  auto t = new_table();
  std::mt19937 rng(7);
  for (usize i = 0; i < base.size(); ++i) {
    for (int k = 0; k < 8; ++k) {
      Bytes b = base;
      b[i] = static_cast<u8>(rng());
      if (k & 1) fix_sum(b, 7, 0, b.size());
      (void)parse_bytes(b, t.get());
      ASSERT_LE(t->cpu_count, acpi::kMaxCpus);
      ASSERT_LE(t->ioapic_count, acpi::kMaxIoApics);
      ASSERT_LE(t->bus_count, acpi::kMaxMpBuses);
    }
    (void)parse_bytes(Bytes(base.begin(), base.begin() + i), t.get());
  }
}
