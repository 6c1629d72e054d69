// libFuzzer: the MP table search and parser (acpi/mptable.hpp) over fuzzed low memory.
// Input bytes 0-3 are the BIOS data area's EBDA segment and base memory size; the rest is
// "physical memory" seen both at 0xF0000 (the BIOS ROM area) and at the EBDA, so floating
// pointers, their table pointers and the tables all come from the input. The parser must
// never read outside what PhysMem::map handed out (each map() returns an exactly sized
// copy, so ASan sees it) and must keep its counts within its arrays.
#include <cstring>
#include <memory>
#include <vector>

#include "acpi/mptable.hpp"
#include "lib/fmt.hpp"

namespace {
class FuzzMem final : public lib::PhysMem {
 public:
  FuzzMem(const u8* bda, const u8* d, usize n, u64 ebda) : data_(d), size_(n), ebda_(ebda) {
    std::memcpy(bda_ + 0x0e, bda, 2);
    std::memcpy(bda_ + 0x13, bda + 2, 2);
  }
  u8* map(u64 pa, usize len) override {
    if (len == 0) len = 1;
    if (pa >= 0x400 && pa - 0x400 <= sizeof bda_ && len <= sizeof bda_ - (pa - 0x400))
      return copy(bda_ + (pa - 0x400), len);
    for (u64 base : {u64{0xf0000}, ebda_}) {
      if (base != 0 && pa >= base && pa - base <= size_ && len <= size_ - (pa - base))
        return copy(data_ + (pa - base), len);
    }
    return nullptr;
  }

 private:
  u8* copy(const u8* src, usize len) {
    copies_.push_back(std::make_unique<u8[]>(len));  // exactly sized: ASan catches overreads
    std::memcpy(copies_.back().get(), src, len);
    return copies_.back().get();
  }
  u8 bda_[0x100] = {};
  const u8* data_;
  usize size_;
  u64 ebda_;
  std::vector<std::unique_ptr<u8[]>> copies_;
};

void check(const acpi::MpTable& t) {
  if (t.cpu_count > acpi::kMaxCpus || t.ioapic_count > acpi::kMaxIoApics || t.bus_count > acpi::kMaxMpBuses)
    __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size) {
  if (size < 4) return 0;
  u16 seg = 0;
  std::memcpy(&seg, data, 2);
  FuzzMem mem(data, data + 4, size - 4, u64{seg} << 4);
  static acpi::MpTable t;  // large: not on the stack
  const acpi::MpError e = acpi::parse_mp(mem, &t);
  check(t);
  char buf[8192];
  lib::BufSink out(buf, sizeof buf);
  acpi::format_mp(out, t, e);
  // And the configuration table parser alone on the raw bytes.
  std::unique_ptr<u8[]> copy(new u8[size]);
  std::memcpy(copy.get(), data, size);
  (void)acpi::parse_mp_config(copy.get(), size, &t);
  check(t);
  return 0;
}
