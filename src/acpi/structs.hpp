// ACPI structures as the specification lays them out (ACPI 6.5), packed, each size
// static_asserted against its table in the spec. Read only through lib::ByteReader.
#pragma once
#include "lib/types.hpp"

namespace acpi {

// 5.2.5.3 Root System Description Pointer (the ACPI 1.0 part is the first 20 bytes).
struct __attribute__((packed)) Rsdp {
  char signature[8];  // "RSD PTR "
  u8 checksum;        // over the first 20 bytes
  char oem_id[6];
  u8 revision;  // 0: ACPI 1.0; 2 and later carry the fields below
  u32 rsdt_address;
  u32 length;  // revision >= 2
  u64 xsdt_address;
  u8 extended_checksum;  // over `length` bytes
  u8 reserved[3];
};
static_assert(sizeof(Rsdp) == 36);
constexpr usize kRsdpV1Size = 20;

// 5.2.6 System Description Table Header, Table 5.4.
struct __attribute__((packed)) SdtHeader {
  char signature[4];
  u32 length;
  u8 revision;
  u8 checksum;
  char oem_id[6];
  char oem_table_id[8];
  u32 oem_revision;
  u32 creator_id;
  u32 creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);

// 5.2.9 FADT, Table 5.9: only the fields this kernel reads, at their offsets.
constexpr usize kFadtFirmwareCtrl = 36;    // u32 FIRMWARE_CTRL: the FACS
constexpr usize kFadtDsdt = 40;            // u32 DSDT
constexpr usize kFadtXFirmwareCtrl = 132;  // u64 X_FIRMWARE_CTRL (ACPI 2.0+)
constexpr usize kFadtXDsdt = 140;          // u64 X_DSDT (ACPI 2.0+)

// 5.2.10 FACS, Table 5.14: no checksum; Version at 32.
struct __attribute__((packed)) FacsHead {
  char signature[4];  // "FACS"
  u32 length;
  u32 hardware_signature;
  u32 firmware_waking_vector;
  u32 global_lock;
  u32 flags;
  u64 x_firmware_waking_vector;
  u8 version;
};
static_assert(sizeof(FacsHead) == 33);

// 5.2.12 MADT, Table 5.19: the header, then Interrupt Controller Structures.
struct __attribute__((packed)) MadtHeader {
  SdtHeader sdt;
  u32 local_apic_address;
  u32 flags;  // bit 0 PCAT_COMPAT
};
static_assert(sizeof(MadtHeader) == 44);

// Table 5.21: Interrupt Controller Structure types this parser reads.
enum class MadtType : u8 {
  LocalApic = 0,         // 5.2.12.2
  IoApic = 1,            // 5.2.12.3
  SourceOverride = 2,    // 5.2.12.5
  LocalApicNmi = 4,      // 5.2.12.7
  LocalApicAddress = 5,  // 5.2.12.8
  LocalX2apic = 9,       // 5.2.12.12
  LocalX2apicNmi = 0xA,  // 5.2.12.13
};

struct __attribute__((packed)) MadtEntryHeader {
  u8 type;
  u8 length;
};
struct __attribute__((packed)) MadtLocalApic {  // Table 5.22
  MadtEntryHeader h;
  u8 uid;
  u8 apic_id;
  u32 flags;  // Table 5.23: bit 0 Enabled, bit 1 Online Capable
};
static_assert(sizeof(MadtLocalApic) == 8);
struct __attribute__((packed)) MadtIoApic {  // Table 5.24
  MadtEntryHeader h;
  u8 id;
  u8 reserved;
  u32 address;
  u32 gsi_base;
};
static_assert(sizeof(MadtIoApic) == 12);
struct __attribute__((packed)) MadtSourceOverride {  // Table 5.25
  MadtEntryHeader h;
  u8 bus;
  u8 source;
  u32 gsi;
  u16 flags;  // MPS INTI flags
};
static_assert(sizeof(MadtSourceOverride) == 10);
struct __attribute__((packed)) MadtLocalApicNmi {  // Table 5.29
  MadtEntryHeader h;
  u8 uid;  // 0xff: all processors
  u16 flags;
  u8 lint;
};
static_assert(sizeof(MadtLocalApicNmi) == 6);
struct __attribute__((packed)) MadtLocalApicAddress {  // Table 5.30
  MadtEntryHeader h;
  u16 reserved;
  u64 address;
};
static_assert(sizeof(MadtLocalApicAddress) == 12);
struct __attribute__((packed)) MadtLocalX2apic {  // Table 5.37
  MadtEntryHeader h;
  u16 reserved;
  u32 x2apic_id;
  u32 flags;
  u32 uid;
};
static_assert(sizeof(MadtLocalX2apic) == 16);
struct __attribute__((packed)) MadtLocalX2apicNmi {  // Table 5.38
  MadtEntryHeader h;
  u16 flags;
  u32 uid;  // 0xffffffff: all processors
  u8 lint;
  u8 reserved[3];
};
static_assert(sizeof(MadtLocalX2apicNmi) == 12);

// Table 5.23 Local APIC Flags.
constexpr u32 kLapicEnabled = 1u << 0;
constexpr u32 kLapicOnlineCapable = 1u << 1;

}  // namespace acpi
