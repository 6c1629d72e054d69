// The Intel MultiProcessor Specification 1.4 (May 1997, order no. 242016-006) tables as it
// lays them out, packed, each size static_asserted against its table in the spec. The
// firmware's CPU list on machines without ACPI (SeaBIOS builds one; see mptable.hpp). Read
// only through lib::ByteReader.
#pragma once
#include "lib/types.hpp"

namespace acpi {

// 4.1 MP Floating Pointer Structure, Table 4-1 (16 bytes, on a 16-byte boundary).
struct __attribute__((packed)) MpFloatingPointer {
  char signature[4];  // "_MP_"
  u32 config_table;   // physical address of the MP configuration table; 0: none
  u8 length;          // in 16-byte paragraphs: 1
  u8 spec_rev;        // 1: version 1.1, 4: version 1.4
  u8 checksum;        // all `length` * 16 bytes sum to 0
  u8 feature1;        // 0: a configuration table exists; else the default configuration (5)
  u8 feature2;        // bit 7 IMCRP: the IMCR is present (PIC mode)
  u8 feature3_5[3];
};
static_assert(sizeof(MpFloatingPointer) == 16);
constexpr usize kMpParagraph = 16;
constexpr u8 kMpFeature2Imcrp = 1u << 7;

// 4.2 MP Configuration Table Header, Table 4-2 (44 bytes).
struct __attribute__((packed)) MpConfigHeader {
  char signature[4];  // "PCMP"
  u16 base_length;    // header and base entries
  u8 spec_rev;
  u8 checksum;  // over base_length bytes
  char oem_id[8];
  char product_id[12];
  u32 oem_table;
  u16 oem_table_size;
  u16 entry_count;  // base entries
  u32 lapic_address;
  u16 ext_length;   // extended entries, right after the base table
  u8 ext_checksum;  // added to the sum of the extended entries' bytes: 0
  u8 reserved;
};
static_assert(sizeof(MpConfigHeader) == 44);

// 4.3 Table 4-3 "Base MP Configuration Table Entry Types": a type code fixes the length
// (no length field: an unknown type ends the walk).
enum class MpEntryType : u8 {
  Processor = 0,       // 4.3.1, 20 bytes
  Bus = 1,             // 4.3.2, 8 bytes
  IoApic = 2,          // 4.3.3, 8 bytes
  IoInterrupt = 3,     // 4.3.4, 8 bytes
  LocalInterrupt = 4,  // 4.3.5, 8 bytes
};

struct __attribute__((packed)) MpProcessor {  // Table 4-4 Processor Entry Fields
  u8 type;
  u8 apic_id;
  u8 apic_version;
  u8 flags;       // bit 0 EN (usable), bit 1 BP (the bootstrap processor)
  u32 signature;  // stepping, model, family (Table 4-5)
  u32 features;   // CPUID.1 EDX (Table 4-6)
  u32 reserved[2];
};
static_assert(sizeof(MpProcessor) == 20);
constexpr u8 kMpCpuEnabled = 1u << 0;
constexpr u8 kMpCpuBootstrap = 1u << 1;

struct __attribute__((packed)) MpBus {  // Table 4-7 Bus Entry Fields
  u8 type;
  u8 bus_id;
  char bus_type[6];  // Table 4-8, e.g. "PCI   ", "ISA   "
};
static_assert(sizeof(MpBus) == 8);

struct __attribute__((packed)) MpIoApic {  // Table 4-9 I/O APIC Entry Fields
  u8 type;
  u8 id;
  u8 version;
  u8 flags;  // bit 0 EN: zero means unusable
  u32 address;
};
static_assert(sizeof(MpIoApic) == 8);
constexpr u8 kMpIoApicEnabled = 1u << 0;

// Table 4-10 I/O Interrupt Entry Fields and Table 4-12 Local Interrupt Entry Fields share
// this layout (the destination is an I/O APIC and its INTIN, or a local APIC and LINTIN).
struct __attribute__((packed)) MpInterrupt {
  u8 type;
  u8 interrupt_type;  // Table 4-11: 0 INT, 1 NMI, 2 SMI, 3 ExtINT
  u16 flags;          // polarity bits 0-1, trigger mode bits 2-3
  u8 source_bus;
  u8 source_irq;
  u8 dest_apic;  // 0xff: every APIC (local interrupts)
  u8 dest_pin;
};
static_assert(sizeof(MpInterrupt) == 8);

// 4.4 Extended MP Configuration Table Entries: type, length, then the type's fields.
struct __attribute__((packed)) MpExtEntryHeader {
  u8 type;
  u8 length;
};

// Chapter 5 "Default Configurations": two processors with local APIC IDs 0 and 1, one
// I/O APIC (ID 2) at 0xFEC00000 (5.1, 5.3), the local APICs at 0xFEE00000.
constexpr u8 kMpDefaultMaxType = 7;  // Table 5-1 lists types 1-7
constexpr u32 kMpDefaultIoApicId = 2;
constexpr u32 kMpDefaultIoApicAddress = 0xFEC00000;
constexpr u32 kMpDefaultLapicAddress = 0xFEE00000;

}  // namespace acpi
