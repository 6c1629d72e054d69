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

// 5.2.3.2 Generic Address Structure (GAS), Table 5.1: a register in some address space.
struct __attribute__((packed)) GenericAddress {
  u8 space_id;     // Table 5.1 Address Space ID: 0 system memory, 1 system I/O, ...
  u8 bit_width;    // register width in bits (0: not given, for non-register structures)
  u8 bit_offset;   // offset of the register within the address
  u8 access_size;  // 0 undefined (legacy), 1 byte, 2 word, 3 dword, 4 qword
  u64 address;
};
static_assert(sizeof(GenericAddress) == 12);
constexpr u8 kGasSystemMemory = 0;
constexpr u8 kGasSystemIo = 1;

// 5.2.9 FADT, Table 5.9: only the fields this kernel reads, at their offsets. An ACPI 1.0
// FADT (revision 1, 116 bytes on QEMU "pc" and on SeaBIOS's own tables) ends after Flags.
constexpr usize kFadtFirmwareCtrl = 36;    // u32 FIRMWARE_CTRL: the FACS
constexpr usize kFadtDsdt = 40;            // u32 DSDT
constexpr usize kFadtPmTmrBlk = 76;        // u32 PM_TMR_BLK: the PM timer's system I/O port
constexpr usize kFadtPmTmrLen = 91;        // u8 PM_TMR_LEN: 4 if the PM timer is supported, else 0
constexpr usize kFadtFlags = 112;          // u32 Flags, Table 5.10
constexpr usize kFadtXFirmwareCtrl = 132;  // u64 X_FIRMWARE_CTRL (ACPI 2.0+)
constexpr usize kFadtXDsdt = 140;          // u64 X_DSDT (ACPI 2.0+)
constexpr usize kFadtXPmTmrBlk = 208;      // GAS X_PM_TMR_BLK (ACPI 2.0+): supersedes PM_TMR_BLK when non-zero
constexpr u8 kFadtPmTmrLenSupported = 4;   // Table 5.9, PM_TMR_LEN: "must be 4"
// Table 5.10 Fixed ACPI Description Table Fixed Feature Flags.
constexpr u32 kFadtFlagTmrValExt = 1u << 8;       // TMR_VAL_EXT: the PM timer is 32 bits wide, else 24
constexpr u32 kFadtFlagHwReducedAcpi = 1u << 20;  // HW_REDUCED_ACPI: no fixed hardware, no PM timer

// IA-PC HPET Specification 1.0a, 3.2.4 "The ACPI 2.0 HPET Description Table (HPET)",
// Table 3 (the signature is "HPET"; 56 bytes).
struct __attribute__((packed)) HpetTable {
  SdtHeader sdt;
  u32 event_timer_block_id;  // a copy of the block's General Capabilities bits 31:0 (2.3.4)
  GenericAddress base;       // the 1 KiB register block; must be in system memory
  u8 hpet_number;            // sequence number of this block (0: the first)
  u16 min_clock_tick;        // main counter minimum clock tick in periodic mode
  u8 page_protection;        // bits 0-3: page protection guarantee; 4-7 OEM attributes
};
static_assert(sizeof(HpetTable) == 56);

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
