// MP floating pointer search and configuration table parser; see mptable.hpp. Section and
// table numbers are the MultiProcessor Specification 1.4's.
#include "acpi/mptable.hpp"

#include "acpi/firmware_bytes.hpp"
#include "acpi/mp_structs.hpp"
#include "lib/bytes.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"

namespace acpi {
namespace {

// The BIOS Data Area fields the search reads (the PC/AT BIOS's, which chapter 4 names):
// the EBDA's real-mode segment and the base memory size in KiB.
constexpr u64 kBdaEbdaSegment = 0x40E;
constexpr u64 kBdaBaseMemoryKib = 0x413;
constexpr u64 kConventionalEnd = 0xA0000;  // 640 KiB: the EBDA and base memory lie below
constexpr u64 kEbdaLowest = 0x80000;       // an EBDA below 512 KiB is not one a BIOS sets
constexpr u64 kBiosRomStart = 0xF0000;
constexpr u64 kBiosRomEnd = 0x100000;
constexpr u64 kSearchBytes = 1024;  // "the first kilobyte" / "the last kilobyte"

// A floating pointer at `pa`: signature, LENGTH paragraphs readable, checksum over them.
MpError check_floating(lib::PhysMem& mem, u64 pa, MpFloatingPointer* fp) {
  const u8* p = map_range(mem, pa, sizeof *fp);
  if (p == nullptr) return MpError::FloatingTruncated;
  if (!lib::ByteReader(p, sizeof *fp).read(0, fp)) return MpError::FloatingTruncated;
  if (memcmp(fp->signature, "_MP_", 4) != 0) return MpError::NotFound;
  if (fp->length == 0) return MpError::FloatingTruncated;
  const u64 n = u64{fp->length} * kMpParagraph;
  const u8* whole = map_range(mem, pa, n);
  if (whole == nullptr) return MpError::FloatingTruncated;
  if (!sum_ok(whole, n)) return MpError::FloatingChecksum;
  return MpError::None;
}

bool add_ioapic(MpTable* t, u32 id, u32 address) {
  if (t->ioapic_count >= kMaxIoApics) {
    ++t->entries_dropped;
    return false;
  }
  t->ioapics[t->ioapic_count++] = IoApic{id, address, 0};
  return true;
}

// A processor entry into the CPU list, by the same rules as the MADT's (tables.cpp
// add_cpu): 0xff is the xAPIC broadcast ID, a repeated APIC ID keeps the first entry.
void add_cpu(MpTable* t, u32 apic_id, u32 ordinal, bool enabled) {
  if (apic_id == 0xff) {
    ++t->cpus_rejected;
    return;
  }
  for (usize i = 0; i < t->cpu_count; ++i) {
    if (t->cpus[i].apic_id == apic_id) {
      ++t->cpus_rejected;
      return;
    }
  }
  if (t->cpu_count >= kMaxCpus) {
    ++t->cpus_dropped;
    return;
  }
  t->cpus[t->cpu_count++] = Cpu{apic_id, ordinal, enabled, false, false};
}

// Chapter 5: a default configuration has no table; what it describes is fixed.
void fill_default(MpTable* t) {
  t->lapic_address = kMpDefaultLapicAddress;
  add_cpu(t, 0, 0, true);
  add_cpu(t, 1, 1, true);
  (void)add_ioapic(t, kMpDefaultIoApicId, kMpDefaultIoApicAddress);
}

void trim_spaces(char* s) {
  usize n = lib::strlen(s);
  while (n > 0 && s[n - 1] == ' ') s[--n] = '\0';
}

// The length of a base entry of this type (Table 4-3), 0 for a reserved type.
usize base_entry_length(u8 type) {
  switch (static_cast<MpEntryType>(type)) {
    case MpEntryType::Processor: return sizeof(MpProcessor);
    case MpEntryType::Bus:
    case MpEntryType::IoApic:
    case MpEntryType::IoInterrupt:
    case MpEntryType::LocalInterrupt: return 8;
  }
  return 0;
}

}  // namespace

const char* mp_area_text(MpArea a) {
  switch (a) {
    case MpArea::None: return "nowhere";
    case MpArea::Ebda: return "the first KiB of the EBDA";
    case MpArea::BaseMemoryTop: return "the last KiB of base memory";
    case MpArea::BiosRom: return "the BIOS ROM area";
  }
  return "?";
}

const char* mp_error_text(MpError e) {
  switch (e) {
    case MpError::None: return "ok";
    case MpError::NotFound: return "no MP floating pointer (\"_MP_\") found";
    case MpError::FloatingTruncated: return "MP floating pointer: length 0 or past readable memory";
    case MpError::FloatingChecksum: return "MP floating pointer checksum is bad";
    case MpError::NoConfigTable: return "MP floating pointer gives neither a table nor a default configuration";
    case MpError::BadDefaultConfig: return "MP floating pointer names an undefined default configuration";
    case MpError::ConfigUnreadable: return "MP configuration table is outside readable memory";
    case MpError::ConfigSignature: return "MP configuration table has the wrong signature";
    case MpError::ConfigTruncated:
      return "MP configuration table length is shorter than its header or runs past readable memory";
    case MpError::ConfigChecksum: return "MP configuration table checksum is bad";
    case MpError::BadEntry:
      return "MP configuration table has a malformed base entry (reserved type, past the table end, or too few "
             "entries)";
    case MpError::ExtChecksum: return "MP extended table checksum is bad";
    case MpError::ExtBadEntry: return "MP extended table has a malformed entry";
  }
  return "unknown MP table error";
}

u64 find_mp_floating(lib::PhysMem& mem, MpArea* area) {
  *area = MpArea::None;
  struct Range {
    u64 start, end;
    MpArea area;
  } ranges[3] = {{0, 0, MpArea::Ebda}, {0, 0, MpArea::BaseMemoryTop}, {kBiosRomStart, kBiosRomEnd, MpArea::BiosRom}};
  const u8* bda = map_range(mem, kBdaEbdaSegment, kBdaBaseMemoryKib + 2 - kBdaEbdaSegment);
  if (bda != nullptr) {
    const lib::ByteReader b(bda, kBdaBaseMemoryKib + 2 - kBdaEbdaSegment);
    const u64 ebda = u64{b.get<u16>(0)} << 4;
    const u64 base_top = u64{b.get<u16>(kBdaBaseMemoryKib - kBdaEbdaSegment)} * KiB;
    // Chapter 4: the EBDA when it is defined, else the top of base memory. A segment
    // outside [512 KiB, 640 KiB) is not an EBDA; base memory is at most 640 KiB.
    if (ebda >= kEbdaLowest && ebda < kConventionalEnd) {
      ranges[0].start = ebda;
      ranges[0].end = ebda + kSearchBytes < kConventionalEnd ? ebda + kSearchBytes : kConventionalEnd;
    } else if (base_top >= kSearchBytes && base_top <= kConventionalEnd) {
      ranges[1].start = base_top - kSearchBytes;
      ranges[1].end = base_top;
    }
  }
  for (const Range& r : ranges) {
    for (u64 pa = r.start; pa + sizeof(MpFloatingPointer) <= r.end; pa += kMpParagraph) {
      MpFloatingPointer fp;
      if (check_floating(mem, pa, &fp) == MpError::None) {
        *area = r.area;
        return pa;
      }
    }
  }
  return 0;
}

MpError parse_mp_config(const u8* table, usize len, MpTable* out) {
  // Everything but what the floating pointer gave starts from zero.
  const u64 floating_phys = out->floating_phys, config_phys = out->config_phys;
  const MpArea area = out->area;
  const u8 spec_rev = out->spec_rev, default_config = out->default_config;
  const bool imcr = out->imcr;
  memset(out, 0, sizeof *out);
  out->floating_phys = floating_phys;
  out->config_phys = config_phys;
  out->area = area;
  out->spec_rev = spec_rev;
  out->default_config = default_config;
  out->imcr = imcr;
  const lib::ByteReader bytes(table, len);
  MpConfigHeader h;
  if (!bytes.read(0, &h)) return MpError::ConfigTruncated;
  if (memcmp(h.signature, "PCMP", 4) != 0) return MpError::ConfigSignature;
  out->base_length = h.base_length;
  out->ext_length = h.ext_length;
  out->entry_count = h.entry_count;
  copy_printable(out->oem_id, reinterpret_cast<const u8*>(h.oem_id), sizeof h.oem_id);
  copy_printable(out->product_id, reinterpret_cast<const u8*>(h.product_id), sizeof h.product_id);
  trim_spaces(out->oem_id);  // Table 4-2: space-filled strings
  trim_spaces(out->product_id);
  out->lapic_address = h.lapic_address;
  // Everything below reads inside [0, base_length) or the extended part right after it.
  const lib::ByteReader base = bytes.sub(0, h.base_length);
  if (h.base_length < sizeof h || base.size() == 0) return MpError::ConfigTruncated;
  if (!sum_ok(table, h.base_length)) return MpError::ConfigChecksum;

  // 4.3: ENTRY COUNT entries follow the header, each as long as its type says.
  usize off = sizeof h;
  u32 processors = 0;
  for (u32 i = 0; i < h.entry_count; ++i) {
    u8 type = 0;
    if (!base.read(off, &type)) return MpError::BadEntry;
    const usize n = base_entry_length(type);
    if (n == 0 || !base.has(off, n)) return MpError::BadEntry;
    const lib::ByteReader e = base.sub(off, n);
    switch (static_cast<MpEntryType>(type)) {
      case MpEntryType::Processor: {
        MpProcessor p;
        if (!e.read(0, &p)) return MpError::BadEntry;
        // Table 4-4: EN clear means unusable: listed, never started (as a MADT entry
        // with neither Enabled nor Online Capable).
        add_cpu(out, p.apic_id, processors++, (p.flags & kMpCpuEnabled) != 0);
        if ((p.flags & kMpCpuBootstrap) != 0 && !out->bsp_listed) {
          out->bsp_listed = true;
          out->bsp_apic_id = p.apic_id;
        }
        break;
      }
      case MpEntryType::Bus: {
        MpBus b;
        if (!e.read(0, &b)) return MpError::BadEntry;
        if (out->bus_count >= kMaxMpBuses) {
          ++out->entries_dropped;
          break;
        }
        MpBusInfo& bi = out->buses[out->bus_count++];
        bi.id = b.bus_id;
        copy_printable(bi.type, reinterpret_cast<const u8*>(b.bus_type), sizeof b.bus_type);
        trim_spaces(bi.type);
        break;
      }
      case MpEntryType::IoApic: {
        MpIoApic io;
        if (!e.read(0, &io)) return MpError::BadEntry;
        // Table 4-9: EN clear means unusable.
        if ((io.flags & kMpIoApicEnabled) == 0) {
          ++out->ioapics_disabled;
        } else {
          (void)add_ioapic(out, io.id, io.address);
        }
        break;
      }
      case MpEntryType::IoInterrupt: ++out->io_interrupts; break;
      case MpEntryType::LocalInterrupt: ++out->local_interrupts; break;
    }
    off += n;
  }

  // 4.4: the extended entries, each with its own length, right after the base table.
  if (h.ext_length != 0) {
    const lib::ByteReader ext = bytes.sub(h.base_length, h.ext_length);
    if (ext.size() == 0) return MpError::ConfigTruncated;
    u8 s = h.ext_checksum;
    for (usize i = 0; i < ext.size(); ++i) s = static_cast<u8>(s + ext.data()[i]);
    if (s != 0) return MpError::ExtChecksum;
    for (usize x = 0; x < ext.size();) {
      MpExtEntryHeader eh;
      if (!ext.read(x, &eh) || eh.length < sizeof eh || !ext.has(x, eh.length)) return MpError::ExtBadEntry;
      ++out->ext_entries;
      x += eh.length;
    }
  }
  return MpError::None;
}

MpError parse_mp(lib::PhysMem& mem, MpTable* out) {
  memset(out, 0, sizeof *out);
  const u64 pa = find_mp_floating(mem, &out->area);
  if (pa == 0) return MpError::NotFound;
  out->floating_phys = pa;
  MpFloatingPointer fp;
  const MpError fe = check_floating(mem, pa, &fp);
  if (fe != MpError::None) return fe;
  out->spec_rev = fp.spec_rev;
  out->default_config = fp.feature1;
  out->imcr = (fp.feature2 & kMpFeature2Imcrp) != 0;
  if (fp.feature1 != 0) {
    // Table 4-1: a non-zero feature byte 1 is a default configuration, and then the table
    // is not consulted even if the pointer is set.
    if (fp.feature1 > kMpDefaultMaxType) return MpError::BadDefaultConfig;
    fill_default(out);
    return MpError::None;
  }
  if (fp.config_table == 0) return MpError::NoConfigTable;
  out->config_phys = fp.config_table;
  const u8* hp = map_range(mem, fp.config_table, sizeof(MpConfigHeader));
  if (hp == nullptr) return MpError::ConfigUnreadable;
  MpConfigHeader h;
  if (!lib::ByteReader(hp, sizeof h).read(0, &h)) return MpError::ConfigUnreadable;
  if (memcmp(h.signature, "PCMP", 4) != 0) return MpError::ConfigSignature;
  if (h.base_length < sizeof h) return MpError::ConfigTruncated;
  const u64 total = u64{h.base_length} + h.ext_length;
  const u8* t = map_range(mem, fp.config_table, total);
  if (t == nullptr) {
    // The extended part may be what does not fit: try the base table alone, so the
    // error names the right part.
    t = map_range(mem, fp.config_table, h.base_length);
    if (t == nullptr) return MpError::ConfigTruncated;
    const MpError e = parse_mp_config(t, h.base_length, out);
    return e != MpError::None ? e : MpError::ConfigTruncated;
  }
  return parse_mp_config(t, static_cast<usize>(total), out);
}

void format_mp(lib::Sink& out, const MpTable& t, MpError e) {
  if (t.floating_phys == 0) {
    lib::format(out, "MP table: none (%s)\n", mp_error_text(e));
    return;
  }
  lib::format(out, "MP floating pointer 0x%016lx in %s, spec 1.%u, %s%s\n", t.floating_phys, mp_area_text(t.area),
              t.spec_rev, t.default_config != 0 ? "default configuration" : "configuration table",
              t.imcr ? ", IMCR present" : "");
  if (t.default_config != 0) lib::format(out, "default configuration type %u (MP spec chapter 5)\n", t.default_config);
  if (t.config_phys != 0) {
    lib::format(out, "MP configuration table 0x%016lx len=%u ext=%u entries=%u oem=%s product=%s\n", t.config_phys,
                t.base_length, t.ext_length, t.entry_count, t.oem_id, t.product_id);
  }
  if (e != MpError::None) {
    lib::format(out, "error: %s\n", mp_error_text(e));
    return;
  }
  usize enabled = 0;
  for (usize i = 0; i < t.cpu_count; ++i)
    if (t.cpus[i].enabled) ++enabled;
  lib::format(out, "MP lapic=0x%lx cpus=%zu enabled=%zu dropped=%zu rejected=%zu\n", t.lapic_address, t.cpu_count,
              enabled, t.cpus_dropped, t.cpus_rejected);
  for (usize i = 0; i < t.cpu_count; ++i) {
    const Cpu& c = t.cpus[i];
    lib::format(out, "cpu %u apic %u %s%s\n", c.uid, c.apic_id, c.enabled ? "enabled" : "disabled",
                t.bsp_listed && t.bsp_apic_id == c.apic_id ? " bsp" : "");
  }
  for (usize i = 0; i < t.bus_count; ++i) lib::format(out, "bus %u %s\n", t.buses[i].id, t.buses[i].type);
  for (usize i = 0; i < t.ioapic_count; ++i)
    lib::format(out, "ioapic id %u addr 0x%x\n", t.ioapics[i].id, t.ioapics[i].address);
  lib::format(out, "interrupts io=%zu local=%zu; extended entries %zu; ioapics disabled %zu; dropped %zu\n",
              t.io_interrupts, t.local_interrupts, t.ext_entries, t.ioapics_disabled, t.entries_dropped);
}

void mp_json(lib::Json& j, const MpTable& t, MpError e) {
  j.key("none");
  if (t.floating_phys == 0) {
    j.str(mp_error_text(e)).key("floating").null().key("config").null().key("parse_error").null();
    j.key("tables").null();
    return;
  }
  j.null().key("floating").begin_object().member_addr("address", t.floating_phys).member("area", mp_area_text(t.area));
  j.member("spec_rev", u32{t.spec_rev}).member("default_config", u32{t.default_config}).member("imcr", t.imcr);
  j.end_object().key("config");
  if (t.config_phys != 0) {
    j.begin_object().member_addr("address", t.config_phys).member("length", u32{t.base_length});
    j.member("ext_length", u32{t.ext_length}).member("entries", u32{t.entry_count}).member("oem", t.oem_id);
    j.member("product", t.product_id).end_object();
  } else {
    j.null();
  }
  j.key("parse_error");
  if (e != MpError::None) {
    j.str(mp_error_text(e)).key("tables").null();
    return;
  }
  j.null();
  usize enabled = 0;
  for (usize i = 0; i < t.cpu_count; ++i)
    if (t.cpus[i].enabled) ++enabled;
  j.key("tables").begin_object().member_addr("lapic", t.lapic_address);
  j.member("cpu_count", static_cast<u64>(t.cpu_count)).member("enabled", static_cast<u64>(enabled));
  j.member("dropped", static_cast<u64>(t.cpus_dropped)).member("rejected", static_cast<u64>(t.cpus_rejected));
  j.key("cpus").begin_array();
  for (usize i = 0; i < t.cpu_count; ++i) {
    const Cpu& c = t.cpus[i];
    j.begin_object().member("uid", c.uid).member("apic", c.apic_id).member("enabled", c.enabled);
    j.member("bsp", t.bsp_listed && t.bsp_apic_id == c.apic_id).end_object();
  }
  j.end_array().key("buses").begin_array();
  for (usize i = 0; i < t.bus_count; ++i)
    j.begin_object().member("id", u32{t.buses[i].id}).member("type", t.buses[i].type).end_object();
  j.end_array().key("ioapics").begin_array();
  for (usize i = 0; i < t.ioapic_count; ++i)
    j.begin_object().member("id", t.ioapics[i].id).member_addr("address", t.ioapics[i].address).end_object();
  j.end_array().member("io_interrupts", static_cast<u64>(t.io_interrupts));
  j.member("local_interrupts", static_cast<u64>(t.local_interrupts))
      .member("ext_entries", static_cast<u64>(t.ext_entries));
  j.member("ioapics_disabled", static_cast<u64>(t.ioapics_disabled));
  j.member("entries_dropped", static_cast<u64>(t.entries_dropped)).end_object();
}

}  // namespace acpi
