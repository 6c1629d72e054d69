// ACPI table walk and MADT parser against tables SeaBIOS built under QEMU 7.2
// (test/fixtures/acpi/<config>/, see the README there), synthetic tables for what QEMU
// does not produce (XSDT, x2APIC entries), malformed tables, and a mutation loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "acpi/tables.hpp"
#include "firmware_mem.hpp"
#include "lib/fmt.hpp"
#include "lib/json.hpp"
#include "smp/slot_plan.hpp"

namespace {

using Bytes = std::vector<u8>;

using test::tighten;

Bytes load(const std::string& config, const std::string& file) { return test::load_fixture("acpi", config, file); }

using FakeMem = test::BlockMem;

struct TableLoc {
  const char* sig;
  u64 addr;
  u32 length;
  u8 revision;
};
struct Layout {
  const char* name;
  u64 rsdp;
  std::vector<TableLoc> tables;  // in the order parse_acpi records them
};

// From each fixture's tables.json (RSDP excluded): RSDT, its entries, FACS, DSDT.
const std::vector<Layout>& layouts() {
  static const std::vector<Layout> all = {
      {"q35-smp4",
       0xf59e0,
       {{"RSDT", 0x1ffe2353, 56, 1},
        {"FACP", 0x1ffe2133, 244, 3},
        {"APIC", 0x1ffe2227, 144, 1},
        {"HPET", 0x1ffe22b7, 56, 1},
        {"MCFG", 0x1ffe22ef, 60, 1},
        {"WAET", 0x1ffe232b, 40, 1},
        {"FACS", 0x1ffe0000, 64, 0},
        {"DSDT", 0x1ffe0040, 8435, 1}}},
      {"pc-smp4",
       0xf59d0,
       {{"RSDT", 0x1ffe1b60, 52, 1},
        {"FACP", 0x1ffe19fc, 116, 1},
        {"APIC", 0x1ffe1a70, 144, 1},
        {"HPET", 0x1ffe1b00, 56, 1},
        {"WAET", 0x1ffe1b38, 40, 1},
        {"FACS", 0x1ffe0000, 64, 0},
        {"DSDT", 0x1ffe0040, 6588, 1}}},
      {"q35-sparse-2s3c",
       0xf5990,
       {{"RSDT", 0x1ffe2410, 56, 1},
        {"FACP", 0x1ffe21e0, 244, 3},
        {"APIC", 0x1ffe22d4, 160, 1},
        {"HPET", 0x1ffe2374, 56, 1},
        {"MCFG", 0x1ffe23ac, 60, 1},
        {"WAET", 0x1ffe23e8, 40, 1},
        {"FACS", 0x1ffe0000, 64, 0},
        {"DSDT", 0x1ffe0040, 8608, 1}}},
      {"q35-sparse-2s3c2t",
       0xf5990,
       {{"RSDT", 0x1ffe2644, 56, 1},
        {"FACP", 0x1ffe23e4, 244, 3},
        {"APIC", 0x1ffe24d8, 208, 1},
        {"HPET", 0x1ffe25a8, 56, 1},
        {"MCFG", 0x1ffe25e0, 60, 1},
        {"WAET", 0x1ffe261c, 40, 1},
        {"FACS", 0x1ffe0000, 64, 0},
        {"DSDT", 0x1ffe0040, 9124, 1}}},
      {"q35-smp255",
       0xf59e0,
       {{"RSDT", 0x1ffe7f80, 56, 1},
        {"FACP", 0x1ffe7588, 244, 3},
        {"APIC", 0x1ffe767c, 2152, 1},
        {"HPET", 0x1ffe7ee4, 56, 1},
        {"MCFG", 0x1ffe7f1c, 60, 1},
        {"WAET", 0x1ffe7f58, 40, 1},
        {"FACS", 0x1ffe0000, 64, 0},
        {"DSDT", 0x1ffe0040, 30024, 1}}},
      {"q35-maxcpus",
       0xf59e0,
       {{"RSDT", 0x1ffe24cc, 56, 1},
        {"FACP", 0x1ffe228c, 244, 3},
        {"APIC", 0x1ffe2380, 176, 1},
        {"HPET", 0x1ffe2430, 56, 1},
        {"MCFG", 0x1ffe2468, 60, 1},
        {"WAET", 0x1ffe24a4, 40, 1},
        {"FACS", 0x1ffe0000, 64, 0},
        {"DSDT", 0x1ffe0040, 8780, 1}}},
  };
  return all;
}

const Layout& layout(const char* name) {
  for (const auto& l : layouts())
    if (std::strcmp(l.name, name) == 0) return l;
  std::abort();
}

// The guest's memory as SeaBIOS left it: the RSDP in the F segment, every table at
// its address.
void place_fixture(FakeMem& mem, const Layout& l) {
  mem.place(l.rsdp, load(l.name, "RSDP.dat"));
  for (const auto& t : l.tables) mem.place(t.addr, load(l.name, std::string(t.sig) + ".dat"));
}

std::unique_ptr<acpi::Info> new_info() { return std::make_unique<acpi::Info>(); }
std::unique_ptr<acpi::Madt> new_madt() { return std::make_unique<acpi::Madt>(); }

void put32(Bytes& b, usize off, u32 v) { std::memcpy(b.data() + off, &v, 4); }
void put64(Bytes& b, usize off, u64 v) { std::memcpy(b.data() + off, &v, 8); }
u32 get32(const Bytes& b, usize off) {
  u32 v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}

// Makes bytes [0, n) sum to 0 by adjusting the byte at csum_off.
void fix_sum(Bytes& b, usize csum_off, usize n) {
  b[csum_off] = 0;
  u8 s = 0;
  for (usize i = 0; i < n; ++i) s = static_cast<u8>(s + b[i]);
  b[csum_off] = static_cast<u8>(-s);
}

// A System Description Table: 36-byte header + body, length and checksum filled in.
Bytes make_sdt(const char* sig, u8 rev, const Bytes& body) {
  Bytes b(36, 0);
  std::memcpy(b.data(), sig, 4);
  b[8] = rev;
  std::memcpy(b.data() + 10, "TESTOE", 6);
  std::memcpy(b.data() + 16, "TESTTBL ", 8);
  b.insert(b.end(), body.begin(), body.end());
  put32(b, 4, static_cast<u32>(b.size()));
  fix_sum(b, 9, b.size());
  return b;
}

// MADT body builder.
struct MadtBuilder {
  Bytes body = Bytes(8, 0);
  MadtBuilder() {
    put32(body, 0, 0xfee00000u);
    put32(body, 4, 1);
  }
  MadtBuilder& raw(std::initializer_list<u8> e) {
    body.insert(body.end(), e);
    return *this;
  }
  MadtBuilder& lapic(u8 uid, u8 id, u32 flags) {
    Bytes e = {0, 8, uid, id, 0, 0, 0, 0};
    put32(e, 4, flags);
    body.insert(body.end(), e.begin(), e.end());
    return *this;
  }
  MadtBuilder& x2apic(u32 id, u32 uid, u32 flags) {
    Bytes e(16, 0);
    e[0] = 9;
    e[1] = 16;
    put32(e, 4, id);
    put32(e, 8, flags);
    put32(e, 12, uid);
    body.insert(body.end(), e.begin(), e.end());
    return *this;
  }
  Bytes build() const { return make_sdt("APIC", 5, body); }
};

// RSDT (4-byte entries) or XSDT (8-byte entries) pointing at `addrs`.
Bytes make_root(bool xsdt, const std::vector<u64>& addrs) {
  Bytes body;
  for (u64 a : addrs) {
    const usize off = body.size();
    body.resize(off + (xsdt ? 8 : 4));
    if (xsdt)
      put64(body, off, a);
    else
      put32(body, off, static_cast<u32>(a));
  }
  return make_sdt(xsdt ? "XSDT" : "RSDT", 1, body);
}

Bytes make_rsdp(u8 rev, u32 rsdt, u64 xsdt) {
  Bytes b(rev >= 2 ? 36 : 20, 0);
  std::memcpy(b.data(), "RSD PTR ", 8);
  std::memcpy(b.data() + 9, "TESTOE", 6);
  b[15] = rev;
  put32(b, 16, rsdt);
  if (rev >= 2) {
    put32(b, 20, 36);
    put64(b, 24, xsdt);
  }
  fix_sum(b, 8, 20);  // first: byte 8 is inside the extended checksum's range
  if (rev >= 2) fix_sum(b, 32, 36);
  return b;
}

std::string render(const acpi::Info& info) {
  static char buf[64 * 1024];
  lib::BufSink s(buf, sizeof buf);
  acpi::format_tables(s, info);
  EXPECT_FALSE(s.truncated());
  return std::string(s.str());
}

// `acpi -j`'s part: tables_json's members in an object of their own.
std::string render_json(const acpi::Info& info) {
  static char buf[256 * 1024];
  lib::BufSink s(buf, sizeof buf);
  lib::Json j(s);
  j.begin_object();
  acpi::tables_json(j, info);
  j.end_object();
  EXPECT_TRUE(j.finish());
  EXPECT_FALSE(s.truncated());
  return std::string(s.str());
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  usize start = 0;
  while (start < s.size()) {
    usize nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// What every SeaBIOS MADT has besides the CPUs (fixture README "Other entries").
void expect_seabios_common(const acpi::Madt& m) {
  EXPECT_EQ(m.lapic_address, 0xfee00000u);
  EXPECT_EQ(m.flags, 1u);
  ASSERT_EQ(m.ioapic_count, 1u);
  EXPECT_EQ(m.ioapics[0].id, 0u);
  EXPECT_EQ(m.ioapics[0].address, 0xfec00000u);
  EXPECT_EQ(m.ioapics[0].gsi_base, 0u);
  ASSERT_EQ(m.override_count, 5u);
  const u8 src[5] = {0, 5, 9, 10, 11};
  const u32 gsi[5] = {2, 5, 9, 10, 11};
  const u16 flags[5] = {0, 0xd, 0xd, 0xd, 0xd};
  for (usize i = 0; i < 5; ++i) {
    EXPECT_EQ(m.overrides[i].bus, 0u);
    EXPECT_EQ(m.overrides[i].source, src[i]);
    EXPECT_EQ(m.overrides[i].gsi, gsi[i]);
    EXPECT_EQ(m.overrides[i].flags, flags[i]);
  }
  ASSERT_EQ(m.nmi_count, 1u);
  EXPECT_EQ(m.nmis[0].uid, 0xffu);
  EXPECT_TRUE(m.nmis[0].all);
  EXPECT_FALSE(m.nmis[0].x2apic);
  EXPECT_EQ(m.nmis[0].flags, 0u);
  EXPECT_EQ(m.nmis[0].lint, 1u);
  EXPECT_EQ(m.cpus_rejected, 0u);
  EXPECT_EQ(m.entries_dropped, 0u);
  EXPECT_EQ(m.entries_unknown, 0u);
}

// CPUs as in the fixture README: UIDs 0..n-1 in order, these APIC IDs, type-0 entries.
void expect_cpus(const acpi::Madt& m, const std::vector<u32>& ids, usize enabled) {
  ASSERT_EQ(m.cpu_count, ids.size());
  EXPECT_EQ(m.cpus_dropped, 0u);
  for (usize i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(m.cpus[i].uid, i);
    EXPECT_EQ(m.cpus[i].apic_id, ids[i]);
    EXPECT_EQ(m.cpus[i].enabled, i < enabled);
    EXPECT_FALSE(m.cpus[i].online_capable);
    EXPECT_FALSE(m.cpus[i].x2apic);
  }
}

acpi::Error parse_madt_bytes(const Bytes& b, acpi::Madt* m) {
  // An exactly sized copy, so ASan sees any read past len.
  std::unique_ptr<u8[]> copy(new u8[b.size() == 0 ? 1 : b.size()]);
  if (!b.empty()) std::memcpy(copy.get(), b.data(), b.size());
  return acpi::parse_madt(copy.get(), b.size(), m);
}

}  // namespace

// ---------------------------------------------------------------- fixture MADTs

TEST(AcpiMadt, Q35Smp4) {
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(load("q35-smp4", "APIC.dat"), m.get()), acpi::Error::None);
  expect_cpus(*m, {0, 1, 2, 3}, 4);
  expect_seabios_common(*m);
}

TEST(AcpiMadt, PcSmp4) {
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(load("pc-smp4", "APIC.dat"), m.get()), acpi::Error::None);
  expect_cpus(*m, {0, 1, 2, 3}, 4);
  expect_seabios_common(*m);
}

TEST(AcpiMadt, SparseTwoSocketsThreeCores) {
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(load("q35-sparse-2s3c", "APIC.dat"), m.get()), acpi::Error::None);
  expect_cpus(*m, {0, 1, 2, 4, 5, 6}, 6);
  expect_seabios_common(*m);
}

TEST(AcpiMadt, SparseTwoSocketsThreeCoresTwoThreads) {
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(load("q35-sparse-2s3c2t", "APIC.dat"), m.get()), acpi::Error::None);
  expect_cpus(*m, {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13}, 12);
  expect_seabios_common(*m);
}

TEST(AcpiMadt, MaxCpusHotplugSlotsHaveFlagsZero) {
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(load("q35-maxcpus", "APIC.dat"), m.get()), acpi::Error::None);
  // 0 and 1 Enabled; 2-7 neither Enabled nor Online Capable.
  expect_cpus(*m, {0, 1, 2, 3, 4, 5, 6, 7}, 2);
  expect_seabios_common(*m);
}

TEST(AcpiMadt, Smp255) {
  auto m = new_madt();
  const Bytes b = load("q35-smp255", "APIC.dat");
  ASSERT_EQ(b.size(), 2152u);
  ASSERT_EQ(parse_madt_bytes(b, m.get()), acpi::Error::None);
  const usize kept = acpi::kMaxCpus < 255 ? acpi::kMaxCpus : 255;
  ASSERT_EQ(m->cpu_count, kept);
  EXPECT_EQ(m->cpus_dropped, 255 - kept);
  for (usize i = 0; i < kept; ++i) {
    EXPECT_EQ(m->cpus[i].apic_id, i);
    EXPECT_EQ(m->cpus[i].uid, i);
    EXPECT_TRUE(m->cpus[i].enabled);
  }
  expect_seabios_common(*m);
}

// ---------------------------------------------------------------- full walk

class AcpiFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(AcpiFixture, WalkMatchesTablesJson) {
  const Layout& l = layout(GetParam());
  FakeMem mem;
  place_fixture(mem, l);
  const Bytes rsdp = load(l.name, "RSDP.dat");
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), l.rsdp, info.get()), acpi::Error::None)
      << acpi::error_text(info->error);
  EXPECT_EQ(info->error, acpi::Error::None);
  EXPECT_EQ(info->rsdp_phys, l.rsdp);
  EXPECT_EQ(info->rsdp_revision, 0u);
  EXPECT_STREQ(info->oem_id, "BOCHS ");
  EXPECT_FALSE(info->use_xsdt);
  EXPECT_EQ(info->root_phys, l.tables[0].addr);
  ASSERT_EQ(info->table_count, l.tables.size());
  EXPECT_EQ(info->tables_dropped, 0u);
  for (usize i = 0; i < l.tables.size(); ++i) {
    SCOPED_TRACE(l.tables[i].sig);
    const acpi::TableInfo& t = info->tables[i];
    EXPECT_STREQ(t.signature, l.tables[i].sig);
    EXPECT_EQ(t.phys, l.tables[i].addr);
    EXPECT_EQ(t.length, l.tables[i].length);
    EXPECT_EQ(t.revision, l.tables[i].revision);
    EXPECT_TRUE(t.checksum_ok);  // FACS: signature matched
    if (std::strcmp(t.signature, "FACS") == 0)
      EXPECT_STREQ(t.oem_id, "");
    else
      EXPECT_STREQ(t.oem_id, "BOCHS ");
  }
  ASSERT_TRUE(info->madt_found);
  expect_seabios_common(info->madt);
  // Every SeaBIOS machine: HPET at 0xfed00000 (QEMU's block, ID 0x8086a201: 3 timers,
  // 64-bit counter), PM timer on port 0x608, 24 bits; ACPI 1.0 FADTs ("pc") give only
  // PM_TMR_BLK, the revision-3 ones (q35) X_PM_TMR_BLK as well.
  ASSERT_EQ(info->hpet_status, acpi::TimerTable::Ok);
  EXPECT_EQ(info->hpet.base, 0xfed00000u);
  EXPECT_EQ(info->hpet.block_id, 0x8086a201u);
  EXPECT_EQ(info->hpet.number, 0u);
  ASSERT_EQ(info->pm_timer_status, acpi::TimerTable::Ok);
  EXPECT_TRUE(info->pm_timer.io);
  EXPECT_EQ(info->pm_timer.address, 0x608u);
  EXPECT_FALSE(info->pm_timer.ext32);
  EXPECT_EQ(info->pm_timer.from_x, std::strcmp(l.name, "pc-smp4") != 0);

  // The same through the legacy scan and the by-address entry point.
  EXPECT_EQ(acpi::find_rsdp_bios(mem), l.rsdp);
  auto again = new_info();
  EXPECT_EQ(acpi::parse_acpi_at(mem, l.rsdp, again.get()), acpi::Error::None);
  EXPECT_EQ(again->table_count, info->table_count);
  EXPECT_EQ(again->madt.cpu_count, info->madt.cpu_count);

  // Every output line starts with a letter, and each table has its line.
  const std::string text = render(*info);
  for (const auto& line : lines_of(text)) {
    ASSERT_FALSE(line.empty());
    EXPECT_TRUE((line[0] >= 'a' && line[0] <= 'z') || (line[0] >= 'A' && line[0] <= 'Z')) << line;
  }
  for (const auto& t : l.tables) {
    char want[96];
    std::snprintf(want, sizeof want, "%s 0x%016llx len=%u rev=%u checksum=ok oem=%s\n", t.sig,
                  static_cast<unsigned long long>(t.addr), t.length, t.revision,
                  std::strcmp(t.sig, "FACS") == 0 ? "" : "BOCHS");
    EXPECT_NE(text.find(want), std::string::npos) << want << "\nin:\n" << text;
  }
}

INSTANTIATE_TEST_SUITE_P(All, AcpiFixture,
                         ::testing::Values("q35-smp4", "pc-smp4", "q35-sparse-2s3c", "q35-sparse-2s3c2t", "q35-smp255",
                                           "q35-maxcpus"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string s = p.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

TEST(AcpiWalk, CpusPerFixtureThroughTheWalk) {
  struct Want {
    const char* name;
    std::vector<u32> ids;
    usize enabled;
  } wants[] = {
      {"q35-sparse-2s3c", {0, 1, 2, 4, 5, 6}, 6},
      {"q35-sparse-2s3c2t", {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13}, 12},
      {"q35-maxcpus", {0, 1, 2, 3, 4, 5, 6, 7}, 2},
  };
  for (const auto& w : wants) {
    SCOPED_TRACE(w.name);
    FakeMem mem;
    place_fixture(mem, layout(w.name));
    auto info = new_info();
    ASSERT_EQ(acpi::parse_acpi_at(mem, acpi::find_rsdp_bios(mem), info.get()), acpi::Error::None);
    expect_cpus(info->madt, w.ids, w.enabled);
  }
}

TEST(AcpiFormat, Q35Smp4Exact) {
  const Layout& l = layout("q35-smp4");
  FakeMem mem;
  place_fixture(mem, l);
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi_at(mem, l.rsdp, info.get()), acpi::Error::None);
  EXPECT_EQ(render(*info),
            "RSDP 0x00000000000f59e0 rev=0 oem=BOCHS root=RSDT 0x000000001ffe2353\n"
            "RSDT 0x000000001ffe2353 len=56 rev=1 checksum=ok oem=BOCHS\n"
            "FACP 0x000000001ffe2133 len=244 rev=3 checksum=ok oem=BOCHS\n"
            "APIC 0x000000001ffe2227 len=144 rev=1 checksum=ok oem=BOCHS\n"
            "HPET 0x000000001ffe22b7 len=56 rev=1 checksum=ok oem=BOCHS\n"
            "MCFG 0x000000001ffe22ef len=60 rev=1 checksum=ok oem=BOCHS\n"
            "WAET 0x000000001ffe232b len=40 rev=1 checksum=ok oem=BOCHS\n"
            "FACS 0x000000001ffe0000 len=64 rev=0 checksum=ok oem=\n"
            "DSDT 0x000000001ffe0040 len=8435 rev=1 checksum=ok oem=BOCHS\n"
            "hpet: base 0xfed00000 block-id 0x8086a201 number 0 min-tick 0 page-protection 0x0\n"
            "pm-timer: port 0x608 24-bit (FADT X_PM_TMR_BLK)\n"
            "MADT lapic=0xfee00000 flags=0x1 cpus=4 enabled=4 dropped=0 rejected=0\n"
            "cpu 0 apic 0 enabled\n"
            "cpu 1 apic 1 enabled\n"
            "cpu 2 apic 2 enabled\n"
            "cpu 3 apic 3 enabled\n"
            "ioapic id 0 addr 0xfec00000 gsi 0\n"
            "override bus 0 irq 0 gsi 2 flags 0x0\n"
            "override bus 0 irq 5 gsi 5 flags 0xd\n"
            "override bus 0 irq 9 gsi 9 flags 0xd\n"
            "override bus 0 irq 10 gsi 10 flags 0xd\n"
            "override bus 0 irq 11 gsi 11 flags 0xd\n"
            "nmi cpu all lint 1 flags 0x0\n");
}

// The JSON twin of Q35Smp4Exact: the same tables, clocks and MADT, field by field.
TEST(AcpiFormat, Q35Smp4JsonExact) {
  const Layout& l = layout("q35-smp4");
  FakeMem mem;
  place_fixture(mem, l);
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi_at(mem, l.rsdp, info.get()), acpi::Error::None);
  EXPECT_EQ(render_json(*info),
            "{\"rsdp\":{\"address\":\"0x00000000000f59e0\",\"revision\":0,\"oem\":\"BOCHS\",\"root\":\"RSDT\","
            "\"root_address\":\"0x000000001ffe2353\"},\"tables\":["
            "{\"signature\":\"RSDT\",\"address\":\"0x000000001ffe2353\",\"length\":56,\"revision\":1,"
            "\"checksum\":\"ok\",\"oem\":\"BOCHS\"},"
            "{\"signature\":\"FACP\",\"address\":\"0x000000001ffe2133\",\"length\":244,\"revision\":3,"
            "\"checksum\":\"ok\",\"oem\":\"BOCHS\"},"
            "{\"signature\":\"APIC\",\"address\":\"0x000000001ffe2227\",\"length\":144,\"revision\":1,"
            "\"checksum\":\"ok\",\"oem\":\"BOCHS\"},"
            "{\"signature\":\"HPET\",\"address\":\"0x000000001ffe22b7\",\"length\":56,\"revision\":1,"
            "\"checksum\":\"ok\",\"oem\":\"BOCHS\"},"
            "{\"signature\":\"MCFG\",\"address\":\"0x000000001ffe22ef\",\"length\":60,\"revision\":1,"
            "\"checksum\":\"ok\",\"oem\":\"BOCHS\"},"
            "{\"signature\":\"WAET\",\"address\":\"0x000000001ffe232b\",\"length\":40,\"revision\":1,"
            "\"checksum\":\"ok\",\"oem\":\"BOCHS\"},"
            "{\"signature\":\"FACS\",\"address\":\"0x000000001ffe0000\",\"length\":64,\"revision\":0,"
            "\"checksum\":\"ok\",\"oem\":\"\"},"
            "{\"signature\":\"DSDT\",\"address\":\"0x000000001ffe0040\",\"length\":8435,\"revision\":1,"
            "\"checksum\":\"ok\",\"oem\":\"BOCHS\"}],"
            "\"tables_not_listed\":0,\"parse_error\":null,"
            "\"hpet\":{\"base\":\"0x00000000fed00000\",\"block_id\":\"0x8086a201\",\"number\":0,\"min_tick\":0,"
            "\"page_protection\":\"0x0\"},\"hpet_none\":null,"
            "\"pm_timer\":{\"port\":1544,\"address\":null,\"bits\":24,\"field\":\"X_PM_TMR_BLK\"},"
            "\"pm_timer_none\":null,"
            "\"madt\":{\"lapic\":\"0x00000000fee00000\",\"flags\":\"0x1\",\"cpu_count\":4,\"enabled\":4,"
            "\"dropped\":0,\"rejected\":0,\"cpus\":["
            "{\"uid\":0,\"apic\":0,\"enabled\":true,\"online_capable\":false,\"x2apic\":false},"
            "{\"uid\":1,\"apic\":1,\"enabled\":true,\"online_capable\":false,\"x2apic\":false},"
            "{\"uid\":2,\"apic\":2,\"enabled\":true,\"online_capable\":false,\"x2apic\":false},"
            "{\"uid\":3,\"apic\":3,\"enabled\":true,\"online_capable\":false,\"x2apic\":false}],"
            "\"ioapics\":[{\"id\":0,\"address\":\"0x00000000fec00000\",\"gsi\":0}],"
            "\"overrides\":[{\"bus\":0,\"irq\":0,\"gsi\":2,\"flags\":\"0x0\"},"
            "{\"bus\":0,\"irq\":5,\"gsi\":5,\"flags\":\"0xd\"},{\"bus\":0,\"irq\":9,\"gsi\":9,\"flags\":\"0xd\"},"
            "{\"bus\":0,\"irq\":10,\"gsi\":10,\"flags\":\"0xd\"},{\"bus\":0,\"irq\":11,\"gsi\":11,\"flags\":\"0xd\"}],"
            "\"nmis\":[{\"cpu\":\"all\",\"lint\":1,\"flags\":\"0x0\",\"x2apic\":false}],"
            "\"entries_dropped\":0,\"entries_unknown\":0}}\n");
}

// No MADT, an error, a copy of the RSDP without its address: nulls where the text says
// "not parsed", "none (...)" or leaves the address out.
TEST(AcpiFormat, JsonNullsForWhatTheTextLeavesOut) {
  auto info = new_info();
  info->error = acpi::Error::MadtBadEntry;
  const std::string doc = render_json(*info);
  EXPECT_NE(doc.find("\"rsdp\":{\"address\":null,\"revision\":0,\"oem\":\"\",\"root\":null,\"root_address\":null}"),
            std::string::npos)
      << doc;
  EXPECT_NE(doc.find(std::string("\"parse_error\":\"") + acpi::error_text(acpi::Error::MadtBadEntry) + "\""),
            std::string::npos);
  EXPECT_NE(doc.find("\"hpet\":null,\"hpet_none\":\""), std::string::npos);
  EXPECT_NE(doc.find("\"madt\":null}"), std::string::npos);
}

TEST(AcpiFormat, MaxCpusAndCopyWithoutAddress) {
  const Layout& l = layout("q35-maxcpus");
  FakeMem mem;
  place_fixture(mem, l);
  const Bytes rsdp = load(l.name, "RSDP.dat");
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::None);
  const std::string text = render(*info);
  EXPECT_EQ(text.rfind("RSDP (copy, address unknown) rev=0 oem=BOCHS root=RSDT", 0), 0u) << text;
  EXPECT_NE(text.find("cpus=8 enabled=2"), std::string::npos);
  EXPECT_NE(text.find("cpu 1 apic 1 enabled\ncpu 2 apic 2 disabled\n"), std::string::npos);
}

TEST(AcpiFormat, ErrorsAreReportedAndLinesStartWithALetter) {
  auto info = new_info();
  info->error = acpi::Error::MadtBadEntry;
  info->table_count = 1;
  std::memcpy(info->tables[0].signature, "1BAD", 5);  // corrupt signature
  const std::string text = render(*info);
  for (const auto& line : lines_of(text)) {
    ASSERT_FALSE(line.empty());
    EXPECT_FALSE(line[0] >= '0' && line[0] <= '9') << line;
  }
  EXPECT_NE(text.find("error: "), std::string::npos);
  EXPECT_NE(text.find("MADT: not parsed"), std::string::npos);
}

TEST(AcpiErrors, EveryErrorHasText) {
  for (int e = 0; e <= static_cast<int>(acpi::Error::MadtBadEntry); ++e) {
    const char* t = acpi::error_text(static_cast<acpi::Error>(e));
    ASSERT_NE(t, nullptr);
    EXPECT_GT(std::strlen(t), 1u);
    EXPECT_EQ(std::strchr(t, '\n'), nullptr);
  }
}

// ---------------------------------------------------------------- synthetic tables

TEST(AcpiWalk, XsdtFromRevision2Rsdp) {
  // ACPI 2.0+ layout with everything above 4 GiB, where an RSDT could not point; the
  // RSDT address is set too but must be ignored in favour of the XSDT (5.2.5.3).
  const u64 xsdt_at = 0x1'2345'6000ULL, madt_at = 0x1'2345'7001ULL, fadt_at = 0x1'2345'8003ULL;
  const u64 facs_at = 0x1'2345'9000ULL, dsdt_at = 0x1'2345'a000ULL;
  FakeMem mem;
  mem.place(madt_at, MadtBuilder().lapic(0, 0, 1).lapic(1, 2, 1).x2apic(300, 7, 1).build());
  Bytes fadt_body(244 - 36, 0);
  put32(fadt_body, 36 - 36, 0xdead0000u);  // FIRMWARE_CTRL: superseded by X_FIRMWARE_CTRL
  put32(fadt_body, 40 - 36, 0xdead1000u);  // DSDT: superseded by X_DSDT
  put64(fadt_body, 132 - 36, facs_at);
  put64(fadt_body, 140 - 36, dsdt_at);
  mem.place(fadt_at, make_sdt("FACP", 6, fadt_body));
  Bytes facs(64, 0);
  std::memcpy(facs.data(), "FACS", 4);
  put32(facs, 4, 64);
  facs[32] = 2;
  mem.place(facs_at, facs);
  mem.place(dsdt_at, make_sdt("DSDT", 2, Bytes(10, 0x5b)));
  mem.place(xsdt_at, make_root(true, {fadt_at, madt_at}));
  mem.place(0x1000, make_root(false, {0x2000}));  // the RSDT a 1.0 OS would use
  const Bytes rsdp = make_rsdp(2, 0x1000, xsdt_at);
  mem.place(0xe0000, rsdp);

  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi_at(mem, acpi::find_rsdp_bios(mem), info.get()), acpi::Error::None)
      << acpi::error_text(info->error);
  EXPECT_EQ(info->rsdp_phys, 0xe0000u);
  EXPECT_EQ(info->rsdp_revision, 2u);
  EXPECT_TRUE(info->use_xsdt);
  EXPECT_EQ(info->root_phys, xsdt_at);
  ASSERT_EQ(info->table_count, 5u);
  EXPECT_STREQ(info->tables[0].signature, "XSDT");
  EXPECT_STREQ(info->tables[1].signature, "FACP");
  EXPECT_STREQ(info->tables[2].signature, "APIC");
  EXPECT_EQ(info->tables[2].phys, madt_at);
  EXPECT_STREQ(info->tables[3].signature, "FACS");
  EXPECT_EQ(info->tables[3].phys, facs_at);
  EXPECT_EQ(info->tables[3].revision, 2u);
  EXPECT_TRUE(info->tables[3].checksum_ok);
  EXPECT_STREQ(info->tables[4].signature, "DSDT");
  EXPECT_EQ(info->tables[4].phys, dsdt_at);
  EXPECT_TRUE(info->tables[4].checksum_ok);
  ASSERT_TRUE(info->madt_found);
  ASSERT_EQ(info->madt.cpu_count, 3u);
  EXPECT_EQ(info->madt.cpus[2].apic_id, 300u);
  EXPECT_TRUE(info->madt.cpus[2].x2apic);
  const std::string text = render(*info);
  EXPECT_NE(text.find("root=XSDT 0x0000000123456000"), std::string::npos) << text;
  EXPECT_NE(text.find("cpu 7 apic 300 enabled x2apic\n"), std::string::npos) << text;
}

TEST(AcpiWalk, Revision2WithoutXsdtUsesRsdt) {
  FakeMem mem;
  mem.place(0x3000, MadtBuilder().lapic(0, 0, 1).build());
  mem.place(0x1000, make_root(false, {0x3000}));
  const Bytes rsdp = make_rsdp(2, 0x1000, 0);
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::None);
  EXPECT_FALSE(info->use_xsdt);
  EXPECT_TRUE(info->madt_found);
}

TEST(AcpiMadt, X2apicEntriesAndOtherTypes) {
  MadtBuilder b;
  b.lapic(0, 0, 1)
      .lapic(1, 1, 2)  // Online Capable only
      .x2apic(0x100, 256, 1)
      .x2apic(0x12345678, 0xfffffffe, 3)
      .raw({0xA, 12, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0})        // x2APIC NMI, all
      .raw({0xA, 12, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0})        // x2APIC NMI uid 256
      .raw({4, 6, 0x01, 0x05, 0x00, 0})                                      // LAPIC NMI uid 1 LINT0
      .raw({5, 12, 0, 0, 0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00})    // address override
      .raw({0x7f, 5, 1, 2, 3})                                               // unknown type: skipped by its length
      .raw({1, 14, 3, 0, 0x00, 0x10, 0xc0, 0xfe, 24, 0, 0, 0, 0xaa, 0xbb});  // longer IOAPIC
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(b.build(), m.get()), acpi::Error::None);
  EXPECT_EQ(m->lapic_address, 0x1fee00000ULL);
  ASSERT_EQ(m->cpu_count, 4u);
  EXPECT_TRUE(m->cpus[1].online_capable);
  EXPECT_FALSE(m->cpus[1].enabled);
  EXPECT_EQ(m->cpus[2].apic_id, 0x100u);
  EXPECT_EQ(m->cpus[2].uid, 256u);
  EXPECT_TRUE(m->cpus[2].x2apic);
  EXPECT_TRUE(m->cpus[2].enabled);
  EXPECT_EQ(m->cpus[3].apic_id, 0x12345678u);
  EXPECT_EQ(m->cpus[3].uid, 0xfffffffeu);
  EXPECT_TRUE(m->cpus[3].online_capable);
  ASSERT_EQ(m->nmi_count, 3u);
  EXPECT_TRUE(m->nmis[0].all);
  EXPECT_TRUE(m->nmis[0].x2apic);
  EXPECT_EQ(m->nmis[0].flags, 5u);
  EXPECT_EQ(m->nmis[0].lint, 1u);
  EXPECT_FALSE(m->nmis[1].all);
  EXPECT_EQ(m->nmis[1].uid, 256u);
  EXPECT_EQ(m->nmis[2].uid, 1u);
  EXPECT_EQ(m->nmis[2].flags, 5u);
  EXPECT_EQ(m->nmis[2].lint, 0u);
  EXPECT_FALSE(m->nmis[2].all);
  EXPECT_EQ(m->entries_unknown, 1u);
  ASSERT_EQ(m->ioapic_count, 1u);
  EXPECT_EQ(m->ioapics[0].id, 3u);
  EXPECT_EQ(m->ioapics[0].address, 0xfec01000u);
  EXPECT_EQ(m->ioapics[0].gsi_base, 24u);
}

TEST(AcpiMadt, DuplicateAndInvalidApicIdsAreRejected) {
  MadtBuilder b;
  b.lapic(0, 0, 1)
      .lapic(1, 1, 0)
      .lapic(2, 1, 1)            // duplicate of APIC ID 1: the later entry loses, even if enabled
      .x2apic(0, 9, 1)           // same CPU as APIC ID 0 described again as x2APIC
      .lapic(3, 0xff, 1)         // 0xff: xAPIC broadcast, not a CPU
      .x2apic(0xffffffff, 4, 1)  // x2APIC broadcast
      .x2apic(0xff, 5, 1);       // 0xff is a valid x2APIC ID
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(b.build(), m.get()), acpi::Error::None);
  ASSERT_EQ(m->cpu_count, 3u);
  EXPECT_EQ(m->cpus[1].uid, 1u);
  EXPECT_FALSE(m->cpus[1].enabled);
  EXPECT_EQ(m->cpus[2].apic_id, 0xffu);
  EXPECT_TRUE(m->cpus[2].x2apic);
  EXPECT_EQ(m->cpus_rejected, 4u);
}

TEST(AcpiMadt, MoreCpusThanKMaxCpusAreCounted) {
  MadtBuilder b;
  for (u32 i = 0; i < acpi::kMaxCpus + 10; ++i) b.x2apic(i, i, 1);
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(b.build(), m.get()), acpi::Error::None);
  EXPECT_EQ(m->cpu_count, acpi::kMaxCpus);
  EXPECT_EQ(m->cpus_dropped, 10u);
  EXPECT_EQ(m->cpus[acpi::kMaxCpus - 1].apic_id, acpi::kMaxCpus - 1);
}

TEST(AcpiMadt, ArrayLimitsForOtherEntries) {
  MadtBuilder b;
  for (usize i = 0; i < acpi::kMaxIoApics + 2; ++i) b.raw({1, 12, u8(i), 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0});
  for (usize i = 0; i < acpi::kMaxOverrides + 3; ++i) b.raw({2, 10, 0, u8(i), u8(i), 0, 0, 0, 0, 0});
  for (usize i = 0; i < acpi::kMaxNmis + 4; ++i) b.raw({4, 6, u8(i), 0, 0, 1});
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(b.build(), m.get()), acpi::Error::None);
  EXPECT_EQ(m->ioapic_count, acpi::kMaxIoApics);
  EXPECT_EQ(m->override_count, acpi::kMaxOverrides);
  EXPECT_EQ(m->nmi_count, acpi::kMaxNmis);
  EXPECT_EQ(m->entries_dropped, 9u);
}

// ---------------------------------------------------------------- malformed MADTs

TEST(AcpiMadtMalformed, BadChecksum) {
  Bytes b = load("q35-smp4", "APIC.dat");
  b[50] ^= 0x40;
  auto m = new_madt();
  EXPECT_EQ(parse_madt_bytes(b, m.get()), acpi::Error::MadtChecksum);
}

TEST(AcpiMadtMalformed, WrongSignature) {
  Bytes b = load("q35-smp4", "HPET.dat");
  auto m = new_madt();
  EXPECT_EQ(parse_madt_bytes(b, m.get()), acpi::Error::MadtSignature);
}

TEST(AcpiMadtMalformed, TruncatedHeader) {
  const Bytes full = load("q35-smp4", "APIC.dat");
  auto m = new_madt();
  for (usize n : {0, 1, 4, 20, 35, 36, 43}) {
    SCOPED_TRACE(n);
    Bytes b(full.begin(), full.begin() + n);
    const acpi::Error e = parse_madt_bytes(b, m.get());
    EXPECT_EQ(e, acpi::Error::MadtTruncated);
  }
  // A header length too small to hold the MADT's own fields (checksum fixed).
  for (u32 n : {0u, 36u, 43u}) {
    Bytes b = full;
    put32(b, 4, n);
    fix_sum(b, 9, n >= 10 ? n : b.size());
    EXPECT_EQ(parse_madt_bytes(b, m.get()), acpi::Error::MadtTruncated) << n;
  }
}

TEST(AcpiMadtMalformed, LengthFieldLargerThanBuffer) {
  Bytes b = load("q35-smp4", "APIC.dat");
  put32(b, 4, static_cast<u32>(b.size() + 1));
  auto m = new_madt();
  EXPECT_EQ(parse_madt_bytes(b, m.get()), acpi::Error::MadtTruncated);
  put32(b, 4, 0xffffffffu);
  EXPECT_EQ(parse_madt_bytes(b, m.get()), acpi::Error::MadtTruncated);
  // Whole table given but the buffer handed over is one byte short.
  Bytes c = load("q35-smp4", "APIC.dat");
  c.pop_back();
  EXPECT_EQ(parse_madt_bytes(c, m.get()), acpi::Error::MadtTruncated);
}

TEST(AcpiMadtMalformed, ZeroAndOneLengthEntries) {
  auto m = new_madt();
  EXPECT_EQ(parse_madt_bytes(MadtBuilder().lapic(0, 0, 1).raw({0, 0, 0, 0, 0, 0, 0, 0}).build(), m.get()),
            acpi::Error::MadtBadEntry);
  EXPECT_EQ(m->cpu_count, 1u);  // what came before is kept, for diagnostics
  EXPECT_EQ(parse_madt_bytes(MadtBuilder().raw({0x7f, 1, 0, 0}).build(), m.get()), acpi::Error::MadtBadEntry);
  EXPECT_EQ(parse_madt_bytes(MadtBuilder().raw({0x7f, 0}).build(), m.get()), acpi::Error::MadtBadEntry);
}

TEST(AcpiMadtMalformed, EntryPastTheEnd) {
  auto m = new_madt();
  // Claims 8 bytes, 6 remain.
  EXPECT_EQ(parse_madt_bytes(MadtBuilder().lapic(0, 0, 1).raw({0, 8, 1, 1, 1, 0}).build(), m.get()),
            acpi::Error::MadtBadEntry);
  // A single trailing byte cannot even hold type and length.
  EXPECT_EQ(parse_madt_bytes(MadtBuilder().lapic(0, 0, 1).raw({0}).build(), m.get()), acpi::Error::MadtBadEntry);
  // An unknown type running past the end is not skipped either.
  EXPECT_EQ(parse_madt_bytes(MadtBuilder().raw({0x40, 200, 0, 0}).build(), m.get()), acpi::Error::MadtBadEntry);
}

TEST(AcpiMadtMalformed, EntryShorterThanItsType) {
  auto m = new_madt();
  const std::vector<Bytes> shorts = {
      {0, 6, 0, 0, 1, 0},                     // LAPIC needs 8
      {1, 10, 0, 0, 0, 0, 0, 0, 0, 0},        // IOAPIC needs 12
      {2, 8, 0, 0, 2, 0, 0, 0},               // override needs 10
      {4, 5, 0, 0, 0},                        // LAPIC NMI needs 6
      {5, 10, 0, 0, 0, 0, 0, 0, 0, 0},        // address override needs 12
      {9, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0},  // x2APIC needs 16
      {0xA, 8, 0, 0, 0, 0, 0, 0},             // x2APIC NMI needs 12
  };
  for (const auto& e : shorts) {
    MadtBuilder b;
    b.body.insert(b.body.end(), e.begin(), e.end());
    EXPECT_EQ(parse_madt_bytes(b.build(), m.get()), acpi::Error::MadtBadEntry) << int(e[0]);
  }
}

// ---------------------------------------------------------------- malformed RSDP / root

TEST(AcpiRsdp, Errors) {
  u64 root;
  bool x;
  u8 rev;
  char oem[7];
  Bytes good = make_rsdp(0, 0x1000, 0);
  ASSERT_EQ(acpi::parse_rsdp(good.data(), good.size(), &root, &x, &rev, oem), acpi::Error::None);
  EXPECT_EQ(root, 0x1000u);
  EXPECT_STREQ(oem, "TESTOE");

  Bytes b = good;
  b[0] = 'X';
  EXPECT_EQ(acpi::parse_rsdp(b.data(), b.size(), &root, &x, &rev, oem), acpi::Error::NoRsdp);
  b = good;
  b[12] ^= 1;
  EXPECT_EQ(acpi::parse_rsdp(b.data(), b.size(), &root, &x, &rev, oem), acpi::Error::RsdpChecksum);
  EXPECT_EQ(acpi::parse_rsdp(good.data(), 19, &root, &x, &rev, oem), acpi::Error::RsdpTruncated);
  EXPECT_EQ(acpi::parse_rsdp(good.data(), 3, &root, &x, &rev, oem), acpi::Error::RsdpTruncated);
  EXPECT_EQ(acpi::parse_rsdp(nullptr, 0, &root, &x, &rev, oem), acpi::Error::RsdpTruncated);
  b = make_rsdp(0, 0, 0);
  EXPECT_EQ(acpi::parse_rsdp(b.data(), b.size(), &root, &x, &rev, oem), acpi::Error::RsdpNoRoot);

  Bytes v2 = make_rsdp(2, 0x1000, 0x2000);
  ASSERT_EQ(acpi::parse_rsdp(v2.data(), v2.size(), &root, &x, &rev, oem), acpi::Error::None);
  EXPECT_TRUE(x);
  EXPECT_EQ(root, 0x2000u);
  EXPECT_EQ(rev, 2u);
  // Only the 1.0 part handed over for a revision-2 RSDP.
  EXPECT_EQ(acpi::parse_rsdp(v2.data(), 20, &root, &x, &rev, oem), acpi::Error::RsdpTruncated);
  // Extended checksum bad, first checksum still fine.
  b = v2;
  b[30] ^= 1;
  EXPECT_EQ(acpi::parse_rsdp(b.data(), b.size(), &root, &x, &rev, oem), acpi::Error::RsdpChecksum);
  // Length field below 36 or beyond the buffer.
  for (u32 len : {0u, 20u, 35u, 37u, 0xffffffffu}) {
    b = v2;
    put32(b, 20, len);
    fix_sum(b, 8, 20);
    EXPECT_EQ(acpi::parse_rsdp(b.data(), b.size(), &root, &x, &rev, oem), acpi::Error::RsdpTruncated) << len;
  }
}

TEST(AcpiRoot, RsdtOutsideMemory) {
  FakeMem mem;
  const Bytes rsdp = make_rsdp(0, 0x7000'0000, 0);
  auto info = new_info();
  EXPECT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::RootUnreadable);
  EXPECT_EQ(info->table_count, 0u);
  EXPECT_FALSE(info->madt_found);
  // Right at the top of the address space: must not wrap.
  const Bytes rsdp2 = make_rsdp(2, 0, 0xffff'ffff'ffff'fff0ULL);
  EXPECT_EQ(acpi::parse_acpi(mem, rsdp2.data(), rsdp2.size(), 0, info.get()), acpi::Error::RootUnreadable);
  // No RSDP at the address given.
  EXPECT_EQ(acpi::parse_acpi_at(mem, 0xe0000, info.get()), acpi::Error::NoRsdp);
}

TEST(AcpiRoot, RsdtWithOddLength) {
  FakeMem mem;
  mem.place(0x3000, MadtBuilder().lapic(0, 0, 1).build());
  Bytes rsdt = make_root(false, {0x3000});
  rsdt.push_back(0x12);  // 41 bytes: one 4-byte entry plus a stray byte
  put32(rsdt, 4, static_cast<u32>(rsdt.size()));
  fix_sum(rsdt, 9, rsdt.size());
  mem.place(0x1000, rsdt);
  const Bytes rsdp = make_rsdp(0, 0x1000, 0);
  auto info = new_info();
  EXPECT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::RootBadLength);
  EXPECT_FALSE(info->madt_found);
  // The same for an XSDT whose entry area is a multiple of 4 but not of 8.
  FakeMem mem2;
  Bytes xsdt = make_sdt("XSDT", 1, Bytes(12, 0));
  mem2.place(0x2000, xsdt);
  const Bytes rsdp2 = make_rsdp(2, 0, 0x2000);
  EXPECT_EQ(acpi::parse_acpi(mem2, rsdp2.data(), rsdp2.size(), 0, info.get()), acpi::Error::RootBadLength);
}

TEST(AcpiRoot, BadRootTables) {
  const Layout& l = layout("q35-smp4");
  const Bytes rsdp = load(l.name, "RSDP.dat");
  const u64 rsdt_at = l.tables[0].addr;
  auto info = new_info();
  {
    FakeMem mem;
    place_fixture(mem, l);
    (*mem.at(rsdt_at))[40] ^= 1;  // checksum
    EXPECT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), l.rsdp, info.get()), acpi::Error::RootChecksum);
  }
  {
    FakeMem mem;
    place_fixture(mem, l);
    (*mem.at(rsdt_at))[0] = 'X';  // signature
    EXPECT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), l.rsdp, info.get()), acpi::Error::RootSignature);
  }
  for (u32 len : {0u, 35u, 57u, 0x10000u, 0xffffffffu}) {
    FakeMem mem;
    place_fixture(mem, l);
    Bytes& r = *mem.at(rsdt_at);
    put32(r, 4, len);
    fix_sum(r, 9, r.size());
    EXPECT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), l.rsdp, info.get()), acpi::Error::RootTruncated) << len;
  }
  {
    // The RSDT region cut short of the header: unreadable.
    FakeMem mem;
    Bytes cut = load(l.name, "RSDT.dat");
    cut.resize(30);
    mem.place(rsdt_at, cut);
    EXPECT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), l.rsdp, info.get()), acpi::Error::RootUnreadable);
  }
}

TEST(AcpiWalk, UnreadableAndBrokenEntries) {
  FakeMem mem;
  Bytes bad_madt = MadtBuilder().lapic(0, 0, 1).build();
  bad_madt[40] ^= 1;
  mem.place(0x3000, bad_madt);
  Bytes short_hdr(20, 'Z');
  mem.place(0x4000, short_hdr);  // header cannot be read in full
  Bytes big = make_sdt("SSDT", 2, Bytes(8, 0));
  put32(big, 4, 4096);  // longer than mapped memory
  mem.place(0x5000, big);
  mem.place(0x1000, make_root(false, {0x3000, 0x9999'0000, 0, 0x4000, 0x5000}));
  const Bytes rsdp = make_rsdp(0, 0x1000, 0);
  auto info = new_info();
  EXPECT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::MadtChecksum);
  ASSERT_EQ(info->table_count, 6u);
  EXPECT_STREQ(info->tables[1].signature, "APIC");
  EXPECT_FALSE(info->tables[1].checksum_ok);
  for (usize i : {2, 3, 4}) {
    EXPECT_STREQ(info->tables[i].signature, "????");
    EXPECT_EQ(info->tables[i].length, 0u);
    EXPECT_FALSE(info->tables[i].checksum_ok);
  }
  EXPECT_EQ(info->tables[5].length, 4096u);
  EXPECT_FALSE(info->tables[5].checksum_ok);
  EXPECT_FALSE(info->madt_found);
  const std::string text = render(*info);
  EXPECT_NE(text.find("???? 0x0000000099990000 len=0 rev=0 checksum=BAD oem=\n"), std::string::npos) << text;
}

TEST(AcpiWalk, FirstGoodMadtWinsAndMissingMadt) {
  FakeMem mem;
  Bytes bad = MadtBuilder().lapic(0, 0, 1).build();
  bad[40] ^= 1;
  mem.place(0x3000, bad);
  mem.place(0x4000, MadtBuilder().lapic(0, 5, 1).build());
  mem.place(0x5000, MadtBuilder().lapic(0, 6, 1).build());
  mem.place(0x1000, make_root(false, {0x3000, 0x4000, 0x5000}));
  const Bytes rsdp = make_rsdp(0, 0x1000, 0);
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::None);
  ASSERT_TRUE(info->madt_found);
  EXPECT_EQ(info->madt.cpus[0].apic_id, 5u);

  FakeMem mem2;
  mem2.place(0x1000, make_root(false, {}));
  EXPECT_EQ(acpi::parse_acpi(mem2, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::MadtMissing);
  EXPECT_EQ(info->table_count, 1u);

  // A MADT with a bad entry: listed, error reported, not marked found.
  FakeMem mem3;
  mem3.place(0x3000, MadtBuilder().lapic(0, 0, 1).raw({0, 0}).build());
  mem3.place(0x1000, make_root(false, {0x3000}));
  EXPECT_EQ(acpi::parse_acpi(mem3, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::MadtBadEntry);
  EXPECT_FALSE(info->madt_found);
}

TEST(AcpiWalk, MoreTablesThanKMaxTables) {
  FakeMem mem;
  std::vector<u64> addrs;
  for (usize i = 0; i < acpi::kMaxTables + 5; ++i) {
    const u64 a = 0x10000 + i * 0x100;
    mem.place(a, make_sdt("SSDT", 1, Bytes(4, u8(i))));
    addrs.push_back(a);
  }
  mem.place(0x9000, MadtBuilder().lapic(0, 3, 1).build());
  addrs.push_back(0x9000);  // the MADT comes after the list is full: still found
  mem.place(0x1000, make_root(false, addrs));
  const Bytes rsdp = make_rsdp(0, 0x1000, 0);
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::None);
  EXPECT_EQ(info->table_count, acpi::kMaxTables);
  EXPECT_EQ(info->tables_dropped, 6u + 1u);  // 37 SSDT+MADT + RSDT = 39 seen, 32 kept
  EXPECT_TRUE(info->madt_found);
  EXPECT_NE(render(*info).find("tables not listed: 7"), std::string::npos);
}

TEST(AcpiScan, EbdaAndRomArea) {
  FakeMem mem;
  // BDA says EBDA at segment 0x9fc0 -> 0x9fc00; RSDP 0x40 bytes in.
  Bytes bda(0x100, 0);
  bda[0x0e] = 0xc0;
  bda[0x0f] = 0x9f;
  mem.place(0x400, bda);
  Bytes ebda(0x400, 0);
  const Bytes rsdp = make_rsdp(0, 0x1000, 0);
  std::memcpy(ebda.data() + 0x40, rsdp.data(), rsdp.size());
  mem.place(0x9fc00, ebda);
  // A copy with a bad checksum in the ROM area, and a good one further up.
  Bytes rom(0x20000, 0);
  Bytes broken = rsdp;
  broken[8] ^= 1;
  std::memcpy(rom.data() + 0x100, broken.data(), broken.size());
  std::memcpy(rom.data() + 0x1f000, rsdp.data(), rsdp.size());
  std::memcpy(rom.data() + 0x1f108, rsdp.data(), rsdp.size());  // not 16-byte aligned: ignored
  mem.place(0xe0000, rom);
  EXPECT_EQ(acpi::find_rsdp_bios(mem), 0x9fc40u);

  // EBDA pointer outside [0x80000, 0xa0000): not followed.
  (*mem.at(0x400))[0x0f] = 0x7f;
  EXPECT_EQ(acpi::find_rsdp_bios(mem), 0xe0000u + 0x1f000u);
  (*mem.at(0x400))[0x0f] = 0xa0;
  EXPECT_EQ(acpi::find_rsdp_bios(mem), 0xe0000u + 0x1f000u);

  // Nothing anywhere.
  FakeMem empty;
  EXPECT_EQ(acpi::find_rsdp_bios(empty), 0u);
  FakeMem zeros;
  zeros.place(0xe0000, Bytes(0x20000, 0));
  EXPECT_EQ(acpi::find_rsdp_bios(zeros), 0u);
}

// ---------------------------------------------------------------- mutation loop

namespace {

void mutate(std::mt19937& rng, Bytes& b, bool fix_checksum_at_9) {
  std::uniform_int_distribution<int> pick(0, 9);
  const int kind = pick(rng);
  if (!b.empty()) {
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const usize pos = rng() % b.size();
      switch (kind % 3) {
        case 0: b[pos] ^= static_cast<u8>(1u << (rng() % 8)); break;
        case 1: b[pos] = static_cast<u8>(rng()); break;
        default: b[pos] = (rng() & 1) ? 0 : 0xff; break;
      }
    }
  }
  if (kind == 7 && !b.empty()) b.resize(rng() % b.size());  // truncate the buffer
  if (kind == 8 && b.size() >= 8) put32(b, 4, static_cast<u32>(rng() % (b.size() + 64)));
  if (kind == 9) b.resize(b.size() + rng() % 16, static_cast<u8>(rng()));
  if (fix_checksum_at_9 && b.size() >= 10 && (rng() & 1)) {
    u32 len = get32(b, 4);
    fix_sum(b, 9, len <= b.size() && len >= 10 ? len : b.size());
  }
  tighten(b);
}

}  // namespace

TEST(AcpiFuzz, MutatedMadtsNeverCrash) {
  std::mt19937 rng(12345);
  const Bytes sources[] = {load("q35-smp4", "APIC.dat"), load("q35-sparse-2s3c2t", "APIC.dat"),
                           load("q35-smp255", "APIC.dat"),
                           MadtBuilder()
                               .lapic(0, 0, 1)
                               .x2apic(300, 1, 1)
                               .raw({0xA, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0})
                               .raw({5, 12, 0, 0, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0})
                               .build()};
  auto m = new_madt();
  usize ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b = sources[iter % 4];
    mutate(rng, b, true);
    const acpi::Error e = parse_madt_bytes(b, m.get());
    if (e == acpi::Error::None) {
      ++ok;
      ASSERT_LE(m->cpu_count, acpi::kMaxCpus);
      ASSERT_LE(m->ioapic_count, acpi::kMaxIoApics);
      ASSERT_LE(m->override_count, acpi::kMaxOverrides);
      ASSERT_LE(m->nmi_count, acpi::kMaxNmis);
    }
  }
  EXPECT_GT(ok, 100u);  // the loop does reach the entry parser
}

TEST(AcpiFuzz, MutatedRootAndTablesNeverCrash) {
  std::mt19937 rng(67890);
  const char* configs[] = {"q35-smp4", "pc-smp4"};
  usize found = 0;
  static char text[64 * 1024];
  for (int iter = 0; iter < 20000; ++iter) {
    const Layout& l = layout(configs[iter % 2]);
    FakeMem mem;
    place_fixture(mem, l);
    // Mutate the RSDT always, and one of RSDP / FACP / APIC sometimes.
    Bytes* rsdt = mem.at(l.tables[0].addr);
    mutate(rng, *rsdt, true);
    const int which = static_cast<int>(rng() % 4);
    Bytes rsdp = load(l.name, "RSDP.dat");
    if (which == 0) {
      mutate(rng, rsdp, false);
      if (rsdp.size() >= 20 && (rng() & 1)) fix_sum(rsdp, 8, 20);
    } else if (which == 1) {
      mutate(rng, *mem.at(l.tables[1].addr), true);  // FACP: FACS/DSDT pointers
    } else if (which == 2) {
      mutate(rng, *mem.at(l.tables[2].addr), true);  // APIC
    }
    tighten(rsdp);
    auto info = new_info();
    const acpi::Error e = acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), l.rsdp, info.get());
    ASSERT_EQ(e, info->error);
    ASSERT_LE(info->table_count, acpi::kMaxTables);
    if (info->madt_found) ++found;
    lib::BufSink s(text, sizeof text);
    acpi::format_tables(s, *info);
    const std::string out(s.str());
    for (const auto& line : lines_of(out)) ASSERT_FALSE(!line.empty() && line[0] >= '0' && line[0] <= '9') << line;
    // The JSON twin of whatever was parsed is one complete line.
    const std::string doc = render_json(*info);
    ASSERT_EQ(doc.find('\n'), doc.size() - 1);
  }
  EXPECT_GT(found, 100u);
}

// ---------------------------------------------------------------- QEMU 10 (x2APIC) MADTs

// -smp 288: IDs 0-254 as Local APIC entries, 255-287 as Local x2APIC entries, all kept
// (the parser keeps KCONFIG_MAX_MADT_CPUS, more than the 256 slots).
TEST(AcpiMadt, Qemu10Smp288KeepsEveryProcessor) {
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(load("q10-q35-smp288", "APIC.dat"), m.get()), acpi::Error::None);
  ASSERT_EQ(m->cpu_count, 288u);
  EXPECT_EQ(m->cpus_dropped, 0u);
  EXPECT_EQ(m->cpus_rejected, 0u);
  for (u32 i = 0; i < 288; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(m->cpus[i].apic_id, i);
    EXPECT_EQ(m->cpus[i].uid, i);
    EXPECT_TRUE(m->cpus[i].enabled);
    EXPECT_EQ(m->cpus[i].x2apic, i >= 255);
  }
  // Slots: the first 256 by MADT order, 32 without.
  std::vector<u32> slot_of(m->cpu_count);
  smp::SlotPlan p = smp::plan_slots(m->cpus, m->cpu_count, 0, 256, slot_of.data());
  EXPECT_EQ(p.used, 256u);
  EXPECT_EQ(p.enabled_noslot, 32u);
  for (u32 i = 256; i < 288; ++i) EXPECT_EQ(slot_of[i], smp::kNoSlot);
}

// -smp 195,sockets=3,cores=65: APIC IDs 0-64, 128-192, 256-320 (socket 2 above 255, as
// Local x2APIC entries).
TEST(AcpiMadt, Qemu10SparseIdsAbove255) {
  auto m = new_madt();
  ASSERT_EQ(parse_madt_bytes(load("q10-q35-x2apic-3s65c", "APIC.dat"), m.get()), acpi::Error::None);
  ASSERT_EQ(m->cpu_count, 195u);
  std::vector<u32> want;
  for (u32 s = 0; s < 3; ++s)
    for (u32 c = 0; c < 65; ++c) want.push_back(s * 128 + c);
  std::vector<u32> got;
  for (usize i = 0; i < m->cpu_count; ++i) got.push_back(m->cpus[i].apic_id);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  usize x2 = 0;
  for (usize i = 0; i < m->cpu_count; ++i) {
    EXPECT_TRUE(m->cpus[i].enabled);
    if (m->cpus[i].apic_id > 254) {
      EXPECT_TRUE(m->cpus[i].x2apic) << m->cpus[i].apic_id;
    }
    x2 += m->cpus[i].x2apic;
  }
  EXPECT_GE(x2, 65u);
  // The Local x2APIC NMI entry (type 0xA) is read too.
  bool x2nmi = false;
  for (usize i = 0; i < m->nmi_count; ++i) x2nmi |= m->nmis[i].x2apic;
  EXPECT_TRUE(x2nmi);
}

// ---------------------------------------------------------------- HPET and FADT (clocks)

namespace {

// A FADT of `len` bytes (116: ACPI 1.0; 244 and 276: later), PM timer fields set.
Bytes make_fadt(usize len, u32 pm_blk, u8 pm_len, u32 flags, u8 x_space, u64 x_addr) {
  Bytes body(len - 36, 0);
  put32(body, 76 - 36, pm_blk);
  body[91 - 36] = pm_len;
  put32(body, 112 - 36, flags);
  if (len >= 220) {
    body[208 - 36] = x_space;
    body[209 - 36] = 32;
    put64(body, 212 - 36, x_addr);
  }
  return make_sdt("FACP", len >= 244 ? 3 : 1, body);
}

Bytes make_hpet_table(u8 space, u64 base) {
  Bytes body(20, 0);
  put32(body, 0, 0x8086a201u);
  body[4] = space;
  put64(body, 8, base);
  body[16] = 0;  // HPET number
  return make_sdt("HPET", 1, body);
}

acpi::TimerTable pm_of(const Bytes& b, acpi::PmTimerInfo* pm) {
  std::unique_ptr<u8[]> copy(new u8[b.empty() ? 1 : b.size()]);
  if (!b.empty()) std::memcpy(copy.get(), b.data(), b.size());
  return acpi::parse_fadt_pm_timer(copy.get(), b.size(), pm);
}

acpi::TimerTable hpet_of(const Bytes& b, acpi::HpetInfo* h) {
  std::unique_ptr<u8[]> copy(new u8[b.empty() ? 1 : b.size()]);
  if (!b.empty()) std::memcpy(copy.get(), b.data(), b.size());
  return acpi::parse_hpet(copy.get(), b.size(), h);
}

}  // namespace

TEST(AcpiClocks, FixtureTables) {
  for (const char* name : {"q35-smp4", "pc-smp4", "q10-q35-smp4", "q10-q35-smp288"}) {
    SCOPED_TRACE(name);
    acpi::HpetInfo h;
    ASSERT_EQ(hpet_of(load(name, "HPET.dat"), &h), acpi::TimerTable::Ok);
    EXPECT_EQ(h.base, 0xfed00000u);
    EXPECT_EQ(h.block_id, 0x8086a201u);
    acpi::PmTimerInfo pm;
    ASSERT_EQ(pm_of(load(name, "FACP.dat"), &pm), acpi::TimerTable::Ok);
    EXPECT_TRUE(pm.io);
    EXPECT_EQ(pm.address, 0x608u);
    EXPECT_FALSE(pm.ext32);  // QEMU's PM timer is 24 bits (flags 0x84a5/0x80a5: bit 8 clear)
  }
  // Each parser refuses the other's table.
  acpi::HpetInfo h;
  acpi::PmTimerInfo pm;
  EXPECT_EQ(hpet_of(load("q35-smp4", "FACP.dat"), &h), acpi::TimerTable::BadSignature);
  EXPECT_EQ(pm_of(load("q35-smp4", "HPET.dat"), &pm), acpi::TimerTable::BadSignature);
}

TEST(AcpiClocks, PmTimerRules) {
  acpi::PmTimerInfo pm;
  // ACPI 1.0: PM_TMR_BLK only; TMR_VAL_EXT gives 32 bits.
  ASSERT_EQ(pm_of(make_fadt(116, 0xb008, 4, 1u << 8, 0, 0), &pm), acpi::TimerTable::Ok);
  EXPECT_TRUE(pm.io && pm.ext32 && !pm.from_x);
  EXPECT_EQ(pm.address, 0xb008u);
  // X_PM_TMR_BLK supersedes PM_TMR_BLK when non-zero, in I/O or memory space.
  ASSERT_EQ(pm_of(make_fadt(244, 0x608, 4, 0, 1, 0x1808), &pm), acpi::TimerTable::Ok);
  EXPECT_TRUE(pm.io && pm.from_x);
  EXPECT_EQ(pm.address, 0x1808u);
  ASSERT_EQ(pm_of(make_fadt(276, 0x608, 4, 0, 0, 0xfe000008), &pm), acpi::TimerTable::Ok);
  EXPECT_FALSE(pm.io);
  EXPECT_EQ(pm.address, 0xfe000008u);
  // A zero X_PM_TMR_BLK falls back to PM_TMR_BLK.
  ASSERT_EQ(pm_of(make_fadt(244, 0x608, 4, 0, 1, 0), &pm), acpi::TimerTable::Ok);
  EXPECT_FALSE(pm.from_x);
  // Not supported: PM_TMR_LEN 0, or a hardware-reduced platform.
  EXPECT_EQ(pm_of(make_fadt(244, 0x608, 0, 0, 1, 0x608), &pm), acpi::TimerTable::NotSupported);
  EXPECT_EQ(pm_of(make_fadt(276, 0x608, 4, 1u << 20, 1, 0x608), &pm), acpi::TimerTable::NotSupported);
  // PCI configuration space (2) is not a place to read a timer from.
  EXPECT_EQ(pm_of(make_fadt(244, 0x608, 4, 0, 2, 0x608), &pm), acpi::TimerTable::AddressSpace);
  // No address at all, or a port beyond the 64 KiB I/O space.
  EXPECT_EQ(pm_of(make_fadt(244, 0, 4, 0, 1, 0), &pm), acpi::TimerTable::NoAddress);
  EXPECT_EQ(pm_of(make_fadt(244, 0, 4, 0, 1, 0x10000), &pm), acpi::TimerTable::NoAddress);
  EXPECT_EQ(pm.address, 0u);  // nothing half-filled
}

TEST(AcpiClocks, MalformedFadtAndHpet) {
  acpi::PmTimerInfo pm;
  acpi::HpetInfo h;
  Bytes f = make_fadt(244, 0x608, 4, 0, 1, 0x608);
  Bytes bad = f;
  bad[100] ^= 1;
  EXPECT_EQ(pm_of(bad, &pm), acpi::TimerTable::BadChecksum);
  // Shorter than the ACPI 1.0 fields, or a length beyond the readable bytes.
  EXPECT_EQ(pm_of(make_sdt("FACP", 1, Bytes(60, 0)), &pm), acpi::TimerTable::Truncated);
  EXPECT_EQ(pm_of(Bytes(f.begin(), f.begin() + 200), &pm), acpi::TimerTable::Truncated);
  EXPECT_EQ(pm_of(Bytes(f.begin(), f.begin() + 20), &pm), acpi::TimerTable::Truncated);
  EXPECT_EQ(pm_of(Bytes(), &pm), acpi::TimerTable::Truncated);
  // HPET: system memory only, a non-zero base, all 56 bytes.
  ASSERT_EQ(hpet_of(make_hpet_table(0, 0xfed00000), &h), acpi::TimerTable::Ok);
  EXPECT_EQ(hpet_of(make_hpet_table(1, 0xfed00000), &h), acpi::TimerTable::AddressSpace);
  EXPECT_EQ(hpet_of(make_hpet_table(0, 0), &h), acpi::TimerTable::NoAddress);
  EXPECT_EQ(hpet_of(make_sdt("HPET", 1, Bytes(10, 0)), &h), acpi::TimerTable::Truncated);
  Bytes hb = make_hpet_table(0, 0xfed00000);
  hb[45] ^= 0x10;
  EXPECT_EQ(hpet_of(hb, &h), acpi::TimerTable::BadChecksum);
  // Every status has text.
  for (int t = 0; t <= static_cast<int>(acpi::TimerTable::NoAddress); ++t)
    EXPECT_GT(std::strlen(acpi::timer_table_text(static_cast<acpi::TimerTable>(t))), 1u);
}

TEST(AcpiClocks, WalkTakesTheFirstGoodHpetAndTheFadt) {
  // RSDT -> a HPET with a bad checksum, a good one in I/O space (refused), a good one,
  // and a FADT with a 32-bit PM timer: the walk reports the last HPET and the FADT's timer.
  FakeMem mem;
  Bytes h1 = make_hpet_table(0, 0x1000);
  h1[40] ^= 1;  // checksum now wrong
  mem.place(0x2000, h1);
  mem.place(0x3000, make_hpet_table(1, 0x2000));
  mem.place(0x4000, make_hpet_table(0, 0xfed00000));
  mem.place(0x5000, make_fadt(244, 0x608, 4, 1u << 8, 1, 0x608));
  mem.place(0x6000, MadtBuilder().lapic(0, 0, 1).build());
  mem.place(0x1000, make_root(false, {0x2000, 0x3000, 0x4000, 0x5000, 0x6000}));
  const Bytes rsdp = make_rsdp(0, 0x1000, 0);
  auto info = new_info();
  ASSERT_EQ(acpi::parse_acpi(mem, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::None);
  ASSERT_EQ(info->hpet_status, acpi::TimerTable::Ok);
  EXPECT_EQ(info->hpet.base, 0xfed00000u);
  ASSERT_EQ(info->pm_timer_status, acpi::TimerTable::Ok);
  EXPECT_TRUE(info->pm_timer.ext32);
  const std::string text = render(*info);
  EXPECT_NE(text.find("pm-timer: port 0x608 32-bit (FADT X_PM_TMR_BLK)\n"), std::string::npos) << text;
  // No HPET table and no FADT: both say so.
  FakeMem bare;
  bare.place(0x6000, MadtBuilder().lapic(0, 0, 1).build());
  bare.place(0x1000, make_root(false, {0x6000}));
  ASSERT_EQ(acpi::parse_acpi(bare, rsdp.data(), rsdp.size(), 0, info.get()), acpi::Error::None);
  EXPECT_EQ(info->hpet_status, acpi::TimerTable::Missing);
  EXPECT_EQ(info->pm_timer_status, acpi::TimerTable::Missing);
  EXPECT_NE(render(*info).find("hpet: none (no table)\npm-timer: none (no table)\n"), std::string::npos);
}
