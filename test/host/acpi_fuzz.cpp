// libFuzzer: the ACPI walk (RSDP -> RSDT/XSDT -> tables -> MADT, HPET, FADT) over fuzzed physical
// memory. The input is split into an RSDP copy and a "physical memory" image starting at
// address 0; every pointer the tables hold lands somewhere in it or nowhere. The parser
// must never read outside what PhysMem::map handed out (ASan sees it: each map() returns
// an exactly sized copy) and must keep its counts within its arrays.
#include <cstring>
#include <memory>
#include <vector>

#include "acpi/tables.hpp"

namespace {
class FuzzMem final : public lib::PhysMem {
 public:
  FuzzMem(const u8* d, usize n) : data_(d), size_(n) {}
  u8* map(u64 pa, usize len) override {
    if (len == 0 || pa >= size_ || len > size_ - pa) return nullptr;
    copies_.push_back(std::make_unique<u8[]>(len));  // exactly sized: ASan catches overreads
    std::memcpy(copies_.back().get(), data_ + pa, len);
    return copies_.back().get();
  }

 private:
  const u8* data_;
  usize size_;
  std::vector<std::unique_ptr<u8[]>> copies_;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
  if (size < 1) return 0;
  usize rsdp_len = data[0] % 40;  // 0..39: short, ACPI 1.0 (20) and 2.0 (36) sizes
  if (size < 1 + rsdp_len) return 0;
  std::unique_ptr<u8[]> rsdp(new u8[rsdp_len ? rsdp_len : 1]);
  std::memcpy(rsdp.get(), data + 1, rsdp_len);
  FuzzMem mem(data + 1 + rsdp_len, size - 1 - rsdp_len);
  static acpi::Info info;  // large: not on the stack
  acpi::Error e = acpi::parse_acpi(mem, rsdp.get(), rsdp_len, 0, &info);
  if (info.table_count > acpi::kMaxTables || info.madt.cpu_count > acpi::kMaxCpus ||
      info.madt.ioapic_count > acpi::kMaxIoApics || info.madt.nmi_count > acpi::kMaxNmis ||
      info.madt.override_count > acpi::kMaxOverrides)
    __builtin_trap();
  if (e == acpi::Error::None && !info.madt_found) __builtin_trap();
  char buf[4096];
  lib::BufSink out(buf, sizeof buf);
  acpi::format_tables(out, info);
  // And the MADT parser alone on the raw bytes.
  static acpi::Madt madt;
  std::unique_ptr<u8[]> copy(new u8[size]);
  std::memcpy(copy.get(), data, size);
  (void)acpi::parse_madt(copy.get(), size, &madt);
  if (madt.cpu_count > acpi::kMaxCpus) __builtin_trap();
  // The clock tables' parsers too (HPET 1.0a 3.2.4; the FADT's PM timer fields).
  acpi::HpetInfo hpet;
  acpi::PmTimerInfo pm;
  if (acpi::parse_hpet(copy.get(), size, &hpet) == acpi::TimerTable::Ok && hpet.base == 0) __builtin_trap();
  if (acpi::parse_fadt_pm_timer(copy.get(), size, &pm) == acpi::TimerTable::Ok &&
      (pm.address == 0 || (pm.io && pm.address > 0xffff)))
    __builtin_trap();
  return 0;
}
