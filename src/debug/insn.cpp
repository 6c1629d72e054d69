#include "debug/insn.hpp"

#include "debug/gdb_stub.hpp"

#include "kernel/ksyms.hpp"
#include "mm/kvm.hpp"
#include "mm/layout.hpp"

namespace debug {

usize VirtReader::read(u64 addr, u8* buf, usize n) {
  usize got = 0;
  while (got < n) {
    u64 va = addr + got;
    if (va < addr) break;  // wrapped past the top
    if (!mm::layout::is_canonical(va)) {
      why = "is not canonical";
      break;
    }
    if (mm::layout::region_of(va) == mm::layout::Region::Device) {
      why = "is in the device window (MMIO is not read)";
      break;
    }
    // Up to the end of this page: mapping is per page.
    usize chunk = static_cast<usize>(0x1000 - (va & 0xfff));
    if (chunk > n - got) chunk = n - got;
    if (!mm::kvm::is_mapped(va, chunk, false)) {
      why = "is not mapped";
      break;
    }
    __builtin_memcpy(buf + got, reinterpret_cast<const u8*>(va), chunk);
    got += chunk;
  }
  gdb::unshadow_virtual(addr, buf, got);  // the code, not the int3s gdb planted
  return got;
}

const disasm::Symbols& kernel_symbols() {
  static const disasm::Symbols syms{kernel::ksyms::lookup, kernel::ksyms::nearest};
  return syms;
}

void print_insn(lib::Sink& out, u64 addr) {
  VirtReader mem;
  u8 bytes[disasm::kMaxInsnBytes];
  usize got = mem.read(addr, bytes, sizeof bytes);
  if (got == 0) {
    // Not an "error: " line: this goes into reports, not command output.
    lib::format(out, "insn: 0x%016lx %s\n", addr, mem.why);
    return;
  }
  disasm::Insn insn;
  disasm::decode(bytes, got, addr, disasm::Mode::Long64, &insn);
  disasm::format_insn(out, addr, bytes, insn, kernel_symbols());
}

}  // namespace debug
