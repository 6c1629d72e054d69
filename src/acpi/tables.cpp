// ACPI table walk and MADT parser; see tables.hpp. Section numbers are ACPI 6.5.
#include "acpi/tables.hpp"

#include "acpi/firmware_bytes.hpp"
#include "acpi/structs.hpp"
#include "lib/bytes.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"

namespace acpi {
namespace {

// Sizes from the structures (acpi/structs.hpp).
constexpr usize kSdtHeader = sizeof(SdtHeader);
constexpr usize kMadtHeader = sizeof(MadtHeader);
constexpr usize kRsdpV1 = kRsdpV1Size;
constexpr usize kRsdpV2 = sizeof(Rsdp);

bool add_cpu(Madt* m, u32 apic_id, u32 uid, u32 flags, bool x2apic) {
  // 0xff is the xAPIC broadcast ID and 0xffffffff the x2APIC one: neither can name a
  // processor, and Linux ignores such entries too.
  if ((!x2apic && apic_id == 0xff) || apic_id == 0xffffffffu) {
    ++m->cpus_rejected;
    return false;
  }
  // Duplicate APIC IDs: firmware bug (or a type-0 and a type-9 entry describing the
  // same CPU, which 5.2.12.12 forbids). Starting the same APIC twice would be wrong, so
  // keep the first description and reject the later one.
  for (usize i = 0; i < m->cpu_count; ++i) {
    if (m->cpus[i].apic_id == apic_id) {
      ++m->cpus_rejected;
      return false;
    }
  }
  if (m->cpu_count >= kMaxCpus) {
    ++m->cpus_dropped;
    return false;
  }
  Cpu& c = m->cpus[m->cpu_count++];
  c.apic_id = apic_id;
  c.uid = uid;
  c.enabled = (flags & kLapicEnabled) != 0;
  c.online_capable = (flags & kLapicOnlineCapable) != 0;  // ACPI 6.3+
  c.x2apic = x2apic;
  return true;
}

void add_nmi(Madt* m, u32 uid, u16 flags, u8 lint, bool x2apic) {
  if (m->nmi_count >= kMaxNmis) {
    ++m->entries_dropped;
    return;
  }
  LapicNmi& n = m->nmis[m->nmi_count++];
  n.uid = uid;
  n.flags = flags;
  n.lint = lint;
  n.x2apic = x2apic;
  n.all = x2apic ? uid == 0xffffffffu : uid == 0xff;
}

bool sig_is(const u8* p, const char* sig) { return memcmp(p, sig, 4) == 0; }

}  // namespace

const char* error_text(Error e) {
  switch (e) {
    case Error::None: return "ok";
    case Error::NoRsdp: return "no ACPI RSDP found (no \"RSD PTR \" signature)";
    case Error::RsdpChecksum: return "ACPI RSDP checksum is bad";
    case Error::RsdpTruncated: return "ACPI RSDP is truncated or its length field is invalid";
    case Error::RsdpNoRoot: return "ACPI RSDP gives neither an RSDT nor an XSDT address";
    case Error::RootUnreadable: return "ACPI RSDT/XSDT header is outside readable memory";
    case Error::RootSignature: return "ACPI RSDT/XSDT has the wrong signature";
    case Error::RootChecksum: return "ACPI RSDT/XSDT checksum is bad";
    case Error::RootTruncated: return "ACPI RSDT/XSDT length is shorter than its header or runs past readable memory";
    case Error::RootBadLength: return "ACPI RSDT/XSDT length is not a whole number of entries";
    case Error::MadtMissing: return "ACPI MADT (\"APIC\") not found";
    case Error::MadtSignature: return "ACPI MADT has the wrong signature";
    case Error::MadtChecksum: return "ACPI MADT checksum is bad";
    case Error::MadtTruncated: return "ACPI MADT is truncated (length field too small or past readable memory)";
    case Error::MadtBadEntry: return "ACPI MADT has a malformed entry (bad length or past the table end)";
  }
  return "unknown ACPI error";
}

Error parse_madt(const u8* table, usize len, Madt* out) {
  memset(out, 0, sizeof *out);
  const lib::ByteReader bytes(table, len);
  MadtHeader h;
  if (!bytes.read(0, &h.sdt)) return Error::MadtTruncated;
  if (memcmp(h.sdt.signature, "APIC", 4) != 0) return Error::MadtSignature;
  // The header's length must cover the MADT's own fixed fields and lie inside what the
  // caller could read; everything below reads inside [0, length).
  const lib::ByteReader madt = bytes.sub(0, h.sdt.length);
  if (h.sdt.length < kMadtHeader || madt.size() == 0) return Error::MadtTruncated;
  if (!sum_ok(table, h.sdt.length)) return Error::MadtChecksum;
  if (!madt.read(0, &h)) return Error::MadtTruncated;
  out->lapic_address = h.local_apic_address;
  out->flags = h.flags;

  // Interrupt Controller Structures (5.2.12, Table 5.21): Type u8, Length u8, then the
  // type's fields. The length is what lets an OS skip types it does not know, so a
  // length that cannot be right means nothing after it can be trusted.
  usize off = kMadtHeader;
  while (off < madt.size()) {
    MadtEntryHeader eh;
    if (!madt.read(off, &eh)) return Error::MadtBadEntry;
    if (eh.length < sizeof eh || !madt.has(off, eh.length)) return Error::MadtBadEntry;
    // The entry alone: a structure longer than its length field says is refused below
    // (read fails), a longer entry is accepted (later revisions may append fields).
    const lib::ByteReader e = madt.sub(off, eh.length);
    bool ok = true;
    switch (static_cast<MadtType>(eh.type)) {
      case MadtType::LocalApic: {
        MadtLocalApic x;
        if ((ok = e.read(0, &x))) add_cpu(out, x.apic_id, x.uid, x.flags, false);
        break;
      }
      case MadtType::IoApic: {
        MadtIoApic x;
        if (!(ok = e.read(0, &x))) break;
        if (out->ioapic_count < kMaxIoApics) {
          out->ioapics[out->ioapic_count++] = IoApic{x.id, x.address, x.gsi_base};
        } else {
          ++out->entries_dropped;
        }
        break;
      }
      case MadtType::SourceOverride: {
        MadtSourceOverride x;
        if (!(ok = e.read(0, &x))) break;
        if (out->override_count < kMaxOverrides) {
          out->overrides[out->override_count++] = Override{x.bus, x.source, x.gsi, x.flags};
        } else {
          ++out->entries_dropped;
        }
        break;
      }
      case MadtType::LocalApicNmi: {
        MadtLocalApicNmi x;
        if ((ok = e.read(0, &x))) add_nmi(out, x.uid, x.flags, x.lint, false);
        break;
      }
      case MadtType::LocalApicAddress: {  // replaces the 32-bit header field
        MadtLocalApicAddress x;
        if ((ok = e.read(0, &x))) out->lapic_address = x.address;
        break;
      }
      case MadtType::LocalX2apic: {
        MadtLocalX2apic x;
        if ((ok = e.read(0, &x))) add_cpu(out, x.x2apic_id, x.uid, x.flags, true);
        break;
      }
      case MadtType::LocalX2apicNmi: {
        MadtLocalX2apicNmi x;
        if ((ok = e.read(0, &x))) add_nmi(out, x.uid, x.flags, x.lint, true);
        break;
      }
      default: ++out->entries_unknown; break;
    }
    if (!ok) return Error::MadtBadEntry;  // shorter than its type needs
    off += eh.length;
  }
  return Error::None;
}

const char* timer_table_text(TimerTable t) {
  switch (t) {
    case TimerTable::Missing: return "no table";
    case TimerTable::Ok: return "ok";
    case TimerTable::Truncated: return "table truncated";
    case TimerTable::BadSignature: return "wrong signature";
    case TimerTable::BadChecksum: return "bad checksum";
    case TimerTable::NotSupported: return "not supported by the platform";
    case TimerTable::AddressSpace: return "register in an address space other than system memory or I/O";
    case TimerTable::NoAddress: return "no usable register address";
  }
  return "unknown";
}

namespace {

// A whole table checked the way every SDT is (5.2.6): signature, a header length that
// covers `min_len` bytes of fields and lies inside the `len` readable bytes, checksum.
// On success *sdt is the view [0, header length).
TimerTable check_sdt(const u8* table, usize len, const char* sig, usize min_len, lib::ByteReader* sdt) {
  const lib::ByteReader bytes(table, len);
  SdtHeader h;
  if (!bytes.read(0, &h)) return TimerTable::Truncated;
  if (memcmp(h.signature, sig, 4) != 0) return TimerTable::BadSignature;
  if (h.length < min_len || !bytes.has(0, h.length)) return TimerTable::Truncated;
  if (!sum_ok(table, h.length)) return TimerTable::BadChecksum;
  *sdt = bytes.sub(0, h.length);
  return TimerTable::Ok;
}

}  // namespace

TimerTable parse_hpet(const u8* table, usize len, HpetInfo* out) {
  memset(out, 0, sizeof *out);
  lib::ByteReader t;
  const TimerTable r = check_sdt(table, len, "HPET", sizeof(HpetTable), &t);
  if (r != TimerTable::Ok) return r;
  HpetTable h;
  if (!t.read(0, &h)) return TimerTable::Truncated;
  // HPET 1.0a 3.2.4 Note 2: the block is memory-mapped (2.1.1); a GAS naming any other
  // space cannot describe it.
  if (h.base.space_id != kGasSystemMemory) return TimerTable::AddressSpace;
  if (h.base.address == 0) return TimerTable::NoAddress;
  out->base = h.base.address;
  out->block_id = h.event_timer_block_id;
  out->number = h.hpet_number;
  out->min_clock_tick = h.min_clock_tick;
  out->page_protection = h.page_protection;
  return TimerTable::Ok;
}

TimerTable parse_fadt_pm_timer(const u8* table, usize len, PmTimerInfo* out) {
  memset(out, 0, sizeof *out);
  lib::ByteReader t;
  // PM_TMR_BLK, PM_TMR_LEN and Flags are all in the ACPI 1.0 part (up to offset 116).
  const TimerTable r = check_sdt(table, len, "FACP", kFadtFlags + sizeof(u32), &t);
  if (r != TimerTable::Ok) return r;
  const u32 flags = t.get<u32>(kFadtFlags);
  // Table 5.10: a hardware-reduced platform has no fixed hardware, so no PM timer
  // (4.1); Table 5.9: PM_TMR_LEN is 4 when the PM timer is supported, else 0.
  if ((flags & kFadtFlagHwReducedAcpi) != 0 || t.get<u8>(kFadtPmTmrLen) != kFadtPmTmrLenSupported)
    return TimerTable::NotSupported;
  out->ext32 = (flags & kFadtFlagTmrValExt) != 0;
  GenericAddress x{};
  if (t.read(kFadtXPmTmrBlk, &x) && x.address != 0) {
    // Table 5.9: a non-zero X_PM_TMR_BLK supersedes PM_TMR_BLK.
    if (x.space_id != kGasSystemIo && x.space_id != kGasSystemMemory) return TimerTable::AddressSpace;
    out->io = x.space_id == kGasSystemIo;
    out->address = x.address;
    out->from_x = true;
  } else {
    out->io = true;  // PM_TMR_BLK is a system I/O port address
    out->address = t.get<u32>(kFadtPmTmrBlk);
  }
  // x86 I/O ports are 16 bits (SDM Vol. 1 19.3 "I/O Address Space").
  if (out->address == 0 || (out->io && out->address > 0xffff)) {
    memset(out, 0, sizeof *out);
    return TimerTable::NoAddress;
  }
  return TimerTable::Ok;
}

Error parse_rsdp(const u8* p, usize len, u64* root_phys, bool* use_xsdt, u8* revision, char oem_id[7]) {
  *root_phys = 0;
  *use_xsdt = false;
  *revision = 0;
  oem_id[0] = '\0';
  const lib::ByteReader bytes(p, len);
  Rsdp r{};
  if (!bytes.has(0, sizeof r.signature)) return Error::RsdpTruncated;
  if (memcmp(p, "RSD PTR ", 8) != 0) return Error::NoRsdp;
  if (!bytes.has(0, kRsdpV1)) return Error::RsdpTruncated;
  if (!sum_ok(p, kRsdpV1)) return Error::RsdpChecksum;
  memcpy(&r, p, kRsdpV1);  // the ACPI 1.0 part
  copy_printable(oem_id, reinterpret_cast<const u8*>(r.oem_id), sizeof r.oem_id);
  *revision = r.revision;
  u64 xsdt = 0;
  // Revision 0 is ACPI 1.0; 1 was never used; 2 and later carry the extended fields.
  if (r.revision >= 2) {
    if (!bytes.read(0, &r)) return Error::RsdpTruncated;
    if (r.length < kRsdpV2 || r.length > len) return Error::RsdpTruncated;
    if (!sum_ok(p, r.length)) return Error::RsdpChecksum;
    xsdt = r.xsdt_address;
  }
  // 5.2.5.3: on ACPI 2.0+ systems the OS uses the XSDT when it is present.
  if (xsdt != 0) {
    *root_phys = xsdt;
    *use_xsdt = true;
  } else if (r.rsdt_address != 0) {
    *root_phys = r.rsdt_address;
  } else {
    return Error::RsdpNoRoot;
  }
  return Error::None;
}

namespace {

// Reads a table's header (and, when its length allows, the whole table to check the
// checksum) and fills *ti. Returns the mapped table (ti->length readable bytes) when
// the whole table could be mapped, else nullptr.
const u8* inspect_table(lib::PhysMem& mem, u64 phys, TableInfo* ti) {
  memset(ti, 0, sizeof *ti);
  ti->phys = phys;
  memcpy(ti->signature, "????", 5);
  const u8* h = phys == 0 ? nullptr : map_range(mem, phys, kSdtHeader);
  if (h == nullptr) return nullptr;  // recorded with length 0, checksum_ok=false
  SdtHeader hdr;
  if (!lib::ByteReader(h, kSdtHeader).read(0, &hdr)) return nullptr;
  copy_printable(ti->signature, h, sizeof hdr.signature);
  ti->length = hdr.length;
  ti->revision = hdr.revision;
  copy_printable(ti->oem_id, reinterpret_cast<const u8*>(hdr.oem_id), sizeof hdr.oem_id);
  if (ti->length < kSdtHeader) return nullptr;  // cannot even hold its own header
  const u8* t = map_range(mem, phys, ti->length);
  if (t == nullptr) return nullptr;
  ti->checksum_ok = sum_ok(t, ti->length);
  return t;
}

// The FACS (5.2.10) has no checksum and a different header (FacsHead).
void inspect_facs(lib::PhysMem& mem, u64 phys, TableInfo* ti) {
  memset(ti, 0, sizeof *ti);
  ti->phys = phys;
  memcpy(ti->signature, "????", 5);
  const u8* h = map_range(mem, phys, 8);
  if (h == nullptr) return;
  copy_printable(ti->signature, h, 4);
  ti->length = lib::ByteReader(h, 8).get<u32>(4);
  ti->checksum_ok = sig_is(h, "FACS");
  if (ti->length >= sizeof(FacsHead)) {
    FacsHead f;
    const u8* t = map_range(mem, phys, sizeof f);
    if (t != nullptr && lib::ByteReader(t, sizeof f).read(0, &f)) ti->revision = f.version;
  }
}

bool already_recorded(const Info* out, u64 phys) {
  for (usize i = 0; i < out->table_count; ++i)
    if (out->tables[i].phys == phys) return true;
  return false;
}

void record(Info* out, const TableInfo& ti) {
  if (out->table_count < kMaxTables) {
    out->tables[out->table_count++] = ti;
  } else {
    ++out->tables_dropped;
  }
}

}  // namespace

Error parse_acpi(lib::PhysMem& mem, const u8* rsdp, usize rsdp_len, u64 rsdp_phys, Info* out) {
  memset(out, 0, sizeof *out);
  out->rsdp_phys = rsdp_phys;
  Error err = parse_rsdp(rsdp, rsdp_len, &out->root_phys, &out->use_xsdt, &out->rsdp_revision, out->oem_id);
  if (err != Error::None) return out->error = err;

  // RSDT (5.2.7) holds u32 physical addresses, XSDT (5.2.8) u64 ones, both right after
  // the 36-byte header, at unaligned offsets.
  const char* root_sig = out->use_xsdt ? "XSDT" : "RSDT";
  const usize entry_size = out->use_xsdt ? 8 : 4;
  const u8* rh = map_range(mem, out->root_phys, kSdtHeader);
  if (rh == nullptr) return out->error = Error::RootUnreadable;
  if (!sig_is(rh, root_sig)) return out->error = Error::RootSignature;
  TableInfo root;
  const u8* rt = inspect_table(mem, out->root_phys, &root);
  record(out, root);
  if (root.length < kSdtHeader || rt == nullptr) return out->error = Error::RootTruncated;
  if (!root.checksum_ok) return out->error = Error::RootChecksum;
  // A checksummed length that is not header + whole entries is not something to guess
  // about (ACPICA would silently drop the tail); report it instead.
  if ((root.length - kSdtHeader) % entry_size != 0) return out->error = Error::RootBadLength;
  const usize count = (root.length - kSdtHeader) / entry_size;

  Error madt_err = Error::MadtMissing;
  bool madt_tried = false;
  bool fadt_seen = false;
  u64 facs_phys = 0;
  u64 dsdt_phys = 0;
  for (usize i = 0; i < count; ++i) {
    const usize off = kSdtHeader + i * entry_size;
    const lib::ByteReader entries(rt, root.length);
    const u64 phys = out->use_xsdt ? entries.get<u64>(off) : entries.get<u32>(off);
    TableInfo ti;
    const u8* t = inspect_table(mem, phys, &ti);
    record(out, ti);  // an unreadable one is listed too (length 0), then matches nothing

    if (memcmp(ti.signature, "APIC", 4) == 0 && !madt_tried) {
      // 5.2.12: only one MADT is expected; take the first one that checks out, and
      // remember why earlier ones did not.
      if (t == nullptr || ti.length < kMadtHeader) {
        if (madt_err == Error::MadtMissing) madt_err = Error::MadtTruncated;
      } else if (!ti.checksum_ok) {
        if (madt_err == Error::MadtMissing) madt_err = Error::MadtChecksum;
      } else {
        madt_tried = true;
        madt_err = parse_madt(t, ti.length, &out->madt);
        out->madt_found = madt_err == Error::None;
      }
    }

    if (memcmp(ti.signature, "HPET", 4) == 0 && t != nullptr && ti.checksum_ok && out->hpet_status != TimerTable::Ok) {
      // HPET 1.0a 3.2.4: one table describes the block that boots the OS; take the first
      // usable one.
      out->hpet_status = parse_hpet(t, ti.length, &out->hpet);
    }

    if (memcmp(ti.signature, "FACP", 4) == 0 && !fadt_seen && t != nullptr && ti.checksum_ok) {
      fadt_seen = true;
      out->pm_timer_status = parse_fadt_pm_timer(t, ti.length, &out->pm_timer);
      // FADT (5.2.9, Table 5.9): a non-zero X_ field supersedes the 32-bit one. ACPI 1.0
      // FADTs (116 bytes on QEMU "pc") end before the X_ fields: a read that does not fit
      // leaves the value as it was.
      const lib::ByteReader fadt(t, ti.length);
      u32 facs32 = 0, dsdt32 = 0;
      if (fadt.read(kFadtFirmwareCtrl, &facs32) && fadt.read(kFadtDsdt, &dsdt32)) {
        facs_phys = facs32;
        dsdt_phys = dsdt32;
      }
      u64 x = 0;
      if (fadt.read(kFadtXFirmwareCtrl, &x) && x != 0) facs_phys = x;
      if (fadt.read(kFadtXDsdt, &x) && x != 0) dsdt_phys = x;
    }
  }

  if (facs_phys != 0 && !already_recorded(out, facs_phys)) {
    TableInfo ti;
    inspect_facs(mem, facs_phys, &ti);
    record(out, ti);
  }
  if (dsdt_phys != 0 && !already_recorded(out, dsdt_phys)) {
    TableInfo ti;
    inspect_table(mem, dsdt_phys, &ti);
    record(out, ti);
  }
  return out->error = madt_err;
}

Error parse_acpi_at(lib::PhysMem& mem, u64 rsdp_phys, Info* out) {
  const u8* p = map_range(mem, rsdp_phys, kRsdpV1);
  if (p == nullptr) {
    memset(out, 0, sizeof *out);
    out->rsdp_phys = rsdp_phys;
    return out->error = Error::NoRsdp;
  }
  usize len = kRsdpV1;
  if (lib::ByteReader(p, kRsdpV1).get<u8>(__builtin_offsetof(Rsdp, revision)) >= 2) {
    const u8* p2 = map_range(mem, rsdp_phys, kRsdpV2);
    if (p2 != nullptr) {
      p = p2;
      len = kRsdpV2;
      // Map the Length the RSDP claims, if sane; otherwise parse_rsdp reports it.
      const u32 rlen = lib::ByteReader(p2, kRsdpV2).get<u32>(__builtin_offsetof(Rsdp, length));
      if (rlen > kRsdpV2 && rlen <= 4096) {
        const u8* p3 = map_range(mem, rsdp_phys, rlen);
        if (p3 != nullptr) {
          p = p3;
          len = rlen;
        }
      }
    }
  }
  return parse_acpi(mem, p, len, rsdp_phys, out);
}

u64 find_rsdp_bios(lib::PhysMem& mem) {
  // 5.2.5.1: look in the first 1 KiB of the EBDA, whose real-mode segment is stored at
  // 0x40E in the BIOS Data Area, then in the BIOS ROM area 0xE0000-0xFFFFF, on 16-byte
  // boundaries. An EBDA pointer outside conventional memory below the VGA hole is
  // garbage (no EBDA), so it is not followed.
  struct Range {
    u64 start, end;
  } ranges[2] = {{0, 0}, {0xE0000, 0x100000}};
  const u8* bda = map_range(mem, 0x40E, 2);
  if (bda != nullptr) {
    const u64 ebda = u64{lib::ByteReader(bda, 2).get<u16>(0)} << 4;
    if (ebda >= 0x80000 && ebda < 0xA0000) {
      u64 end = ebda + 1024;
      if (end > 0xA0000) end = 0xA0000;
      ranges[0] = {ebda, end};
    }
  }
  for (const Range& r : ranges) {
    for (u64 pa = r.start; pa < r.end; pa += 16) {
      const u8* p = map_range(mem, pa, kRsdpV1);
      if (p == nullptr) continue;
      if (memcmp(p, "RSD PTR ", 8) == 0 && sum_ok(p, kRsdpV1)) return pa;
    }
  }
  return 0;
}

namespace {

// Firmware pads OEM IDs with spaces; trailing ones are dropped when printing.
struct Trimmed {
  char s[7];
};
Trimmed trim(const char* src) {
  Trimmed t;
  usize n = lib::strnlen(src, 6);
  memcpy(t.s, src, n);
  while (n > 0 && t.s[n - 1] == ' ') --n;
  t.s[n] = '\0';
  return t;
}

}  // namespace

// The signature as the text prints it: a line must start with a letter, a corrupt
// signature may not.
struct Signature {
  char s[5];
  explicit Signature(const TableInfo& t) {
    memcpy(s, t.signature, 5);
    s[4] = '\0';
    if (s[0] >= '0' && s[0] <= '9') s[0] = '?';
  }
};

void format_tables(lib::Sink& out, const Info& info) {
  const Trimmed oem = trim(info.oem_id);
  if (info.rsdp_phys != 0) {
    lib::format(out, "RSDP 0x%016lx rev=%u oem=%s", info.rsdp_phys, info.rsdp_revision, oem.s);
  } else {
    lib::format(out, "RSDP (copy, address unknown) rev=%u oem=%s", info.rsdp_revision, oem.s);
  }
  if (info.root_phys != 0) {
    lib::format(out, " root=%s 0x%016lx", info.use_xsdt ? "XSDT" : "RSDT", info.root_phys);
  }
  lib::format(out, "\n");

  for (usize i = 0; i < info.table_count; ++i) {
    const TableInfo& t = info.tables[i];
    lib::format(out, "%s 0x%016lx len=%u rev=%u checksum=%s oem=%s\n", Signature(t).s, t.phys, t.length, t.revision,
                t.checksum_ok ? "ok" : "BAD", trim(t.oem_id).s);
  }
  if (info.tables_dropped != 0) {
    lib::format(out, "tables not listed: %zu (more than %zu)\n", info.tables_dropped, kMaxTables);
  }
  if (info.error != Error::None) lib::format(out, "error: %s\n", error_text(info.error));
  // The platform's clocks as the tables describe them ("hpet:" / "pm-timer:", never a
  // table signature followed by an address).
  if (info.hpet_status == TimerTable::Ok) {
    const HpetInfo& h = info.hpet;
    lib::format(out, "hpet: base 0x%lx block-id 0x%08x number %u min-tick %u page-protection 0x%x\n", h.base,
                h.block_id, h.number, h.min_clock_tick, h.page_protection);
  } else {
    lib::format(out, "hpet: none (%s)\n", timer_table_text(info.hpet_status));
  }
  if (info.pm_timer_status == TimerTable::Ok) {
    const PmTimerInfo& p = info.pm_timer;
    lib::format(out, "pm-timer: %s 0x%lx %u-bit (FADT %s)\n", p.io ? "port" : "mmio", p.address, p.ext32 ? 32 : 24,
                p.from_x ? "X_PM_TMR_BLK" : "PM_TMR_BLK");
  } else {
    lib::format(out, "pm-timer: none (%s)\n", timer_table_text(info.pm_timer_status));
  }
  if (!info.madt_found) {
    lib::format(out, "MADT: not parsed\n");
    return;
  }

  const Madt& m = info.madt;
  usize enabled = 0;
  for (usize i = 0; i < m.cpu_count; ++i)
    if (m.cpus[i].enabled) ++enabled;
  lib::format(out, "MADT lapic=0x%lx flags=0x%x cpus=%zu enabled=%zu dropped=%zu rejected=%zu\n", m.lapic_address,
              m.flags, m.cpu_count, enabled, m.cpus_dropped, m.cpus_rejected);
  for (usize i = 0; i < m.cpu_count; ++i) {
    const Cpu& c = m.cpus[i];
    lib::format(out, "cpu %u apic %u %s%s%s\n", c.uid, c.apic_id, c.enabled ? "enabled" : "disabled",
                c.online_capable ? " online-capable" : "", c.x2apic ? " x2apic" : "");
  }
  for (usize i = 0; i < m.ioapic_count; ++i) {
    const IoApic& io = m.ioapics[i];
    lib::format(out, "ioapic id %u addr 0x%x gsi %u\n", io.id, io.address, io.gsi_base);
  }
  for (usize i = 0; i < m.override_count; ++i) {
    const Override& o = m.overrides[i];
    lib::format(out, "override bus %u irq %u gsi %u flags 0x%x\n", o.bus, o.source, o.gsi, o.flags);
  }
  for (usize i = 0; i < m.nmi_count; ++i) {
    const LapicNmi& n = m.nmis[i];
    if (n.all) {
      lib::format(out, "nmi cpu all lint %u flags 0x%x%s\n", n.lint, n.flags, n.x2apic ? " x2apic" : "");
    } else {
      lib::format(out, "nmi cpu %u lint %u flags 0x%x%s\n", n.uid, n.lint, n.flags, n.x2apic ? " x2apic" : "");
    }
  }
  if (m.entries_dropped != 0 || m.entries_unknown != 0) {
    lib::format(out, "entries dropped=%zu unknown-type=%zu\n", m.entries_dropped, m.entries_unknown);
  }
}

namespace {

void json_null_or_str(lib::Json& j, const char* k, const char* s) {
  j.key(k);
  if (s != nullptr) {
    j.str(s);
  } else {
    j.null();
  }
}

void madt_json(lib::Json& j, const Madt& m) {
  usize enabled = 0;
  for (usize i = 0; i < m.cpu_count; ++i)
    if (m.cpus[i].enabled) ++enabled;
  j.begin_object().member_addr("lapic", m.lapic_address).member_hex("flags", m.flags);
  j.member("cpu_count", static_cast<u64>(m.cpu_count)).member("enabled", static_cast<u64>(enabled));
  j.member("dropped", static_cast<u64>(m.cpus_dropped)).member("rejected", static_cast<u64>(m.cpus_rejected));
  j.key("cpus").begin_array();
  for (usize i = 0; i < m.cpu_count; ++i) {
    const Cpu& c = m.cpus[i];
    j.begin_object().member("uid", c.uid).member("apic", c.apic_id).member("enabled", c.enabled);
    j.member("online_capable", c.online_capable).member("x2apic", c.x2apic).end_object();
  }
  j.end_array().key("ioapics").begin_array();
  for (usize i = 0; i < m.ioapic_count; ++i) {
    const IoApic& io = m.ioapics[i];
    j.begin_object().member("id", io.id).member_addr("address", io.address).member("gsi", io.gsi_base).end_object();
  }
  j.end_array().key("overrides").begin_array();
  for (usize i = 0; i < m.override_count; ++i) {
    const Override& o = m.overrides[i];
    j.begin_object().member("bus", u32{o.bus}).member("irq", u32{o.source}).member("gsi", o.gsi);
    j.member_hex("flags", o.flags).end_object();
  }
  j.end_array().key("nmis").begin_array();
  for (usize i = 0; i < m.nmi_count; ++i) {
    const LapicNmi& n = m.nmis[i];
    j.begin_object().key("cpu");
    if (n.all) {
      j.str("all");
    } else {
      j.num(n.uid);
    }
    j.member("lint", u32{n.lint}).member_hex("flags", n.flags).member("x2apic", n.x2apic).end_object();
  }
  j.end_array().member("entries_dropped", static_cast<u64>(m.entries_dropped));
  j.member("entries_unknown", static_cast<u64>(m.entries_unknown)).end_object();
}

}  // namespace

void tables_json(lib::Json& j, const Info& info) {
  j.key("rsdp").begin_object().key("address");
  if (info.rsdp_phys != 0) {
    j.addr(info.rsdp_phys);
  } else {
    j.null();
  }
  j.member("revision", u32{info.rsdp_revision}).member("oem", trim(info.oem_id).s);
  json_null_or_str(j, "root", info.root_phys != 0 ? (info.use_xsdt ? "XSDT" : "RSDT") : nullptr);
  j.key("root_address");
  if (info.root_phys != 0) {
    j.addr(info.root_phys);
  } else {
    j.null();
  }
  j.end_object().key("tables").begin_array();
  for (usize i = 0; i < info.table_count; ++i) {
    const TableInfo& t = info.tables[i];
    j.begin_object().member("signature", Signature(t).s).member_addr("address", t.phys).member("length", t.length);
    j.member("revision", u32{t.revision}).member("checksum", t.checksum_ok ? "ok" : "BAD");
    j.member("oem", trim(t.oem_id).s).end_object();
  }
  j.end_array().member("tables_not_listed", static_cast<u64>(info.tables_dropped));
  json_null_or_str(j, "parse_error", info.error != Error::None ? error_text(info.error) : nullptr);
  j.key("hpet");
  if (info.hpet_status == TimerTable::Ok) {
    const HpetInfo& h = info.hpet;
    j.begin_object().member_addr("base", h.base).member_hex("block_id", h.block_id, 8).member("number", u32{h.number});
    j.member("min_tick", u32{h.min_clock_tick}).member_hex("page_protection", h.page_protection).end_object();
  } else {
    j.null();
  }
  json_null_or_str(j, "hpet_none", info.hpet_status != TimerTable::Ok ? timer_table_text(info.hpet_status) : nullptr);
  j.key("pm_timer");
  if (info.pm_timer_status == TimerTable::Ok) {
    const PmTimerInfo& p = info.pm_timer;
    j.begin_object().key("port");
    if (p.io) {
      j.num(p.address).key("address").null();
    } else {
      j.null().member_addr("address", p.address);
    }
    j.member("bits", u32{p.ext32 ? 32u : 24u}).member("field", p.from_x ? "X_PM_TMR_BLK" : "PM_TMR_BLK").end_object();
  } else {
    j.null();
  }
  json_null_or_str(j, "pm_timer_none",
                   info.pm_timer_status != TimerTable::Ok ? timer_table_text(info.pm_timer_status) : nullptr);
  j.key("madt");
  if (info.madt_found) {
    madt_json(j, info.madt);
  } else {
    j.null();
  }
}

}  // namespace acpi
