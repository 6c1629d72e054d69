// The instruction at an address, as one x/i line, for fault reports and debugger stops;
// and kernel virtual memory as the examine commands read it. Neither faults: only mapped
// memory outside the device window is read.
#pragma once
#include "disasm/format.hpp"
#include "lib/fmt.hpp"

namespace debug {

// Kernel virtual memory: canonical, mapped (mm::kvm::is_mapped, page by page) and not in the
// device window (reading MMIO can have side effects).
class VirtReader final : public disasm::Memory {
 public:
  usize read(u64 addr, u8* buf, usize n) override;
};

// ksyms as the disassembly lines (and the examine formats) want them.
const disasm::Symbols& kernel_symbols();

// Prints "0x<addr> <sym>+0x<off>: <bytes>  <insn>\n" for the 64-bit instruction at addr,
// or a line saying why not (not mapped).
void print_insn(lib::Sink& out, u64 addr);

}  // namespace debug
