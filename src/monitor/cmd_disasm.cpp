// dis: a whole function (or object) disassembled, its size from the symbol table.
#include "debug/insn.hpp"
#include "kernel/ksyms.hpp"
#include "mm/kvm.hpp"
#include "monitor/examine.hpp"
#include "monitor/monitor.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};
// A sizeless label (assembly) is disassembled this far at most.
constexpr u64 kLabelBytes = 256;
constexpr u64 kMaxBytes = 64 * 1024;

// dis -j: {"name","address","size","instructions":[...]}, the header's fields (size 0: a
// label, disassembled kLabelBytes far) and x/i -j's units.
int dis_json(const kernel::ksyms::Symbol& sym, u64 addr, u64 end) {
  debug::VirtReader mem;
  monitor::ErrorLine e;  // everything must read before anything is written
  if (monitor::examine_insns(e, mem, addr, disasm::Mode::Long64, 0, end, debug::kernel_symbols()) != 0)
    return monitor::error("%s", e.message());
  lib::Json j(monitor::out());
  j.begin_object().member("name", sym.name).member_addr("address", sym.addr).member("size", sym.size);
  monitor::examine_insns_json(j.key("instructions"), mem, addr, disasm::Mode::Long64, 0, end, debug::kernel_symbols());
  j.end_object();
  (void)j.finish();
  return 0;
}

int cmd_dis(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: dis <sym>|<addr>");
  u64 addr;
  if (!monitor::parse_address_arg(a.argv[1], &addr)) return 1;
  kernel::ksyms::Symbol sym;
  if (!kernel::ksyms::containing(addr, &sym))
    return monitor::error("no symbol at 0x%016lx (x/i <addr> <count> reads any code)", addr);
  // Data decoded as code is noise (smp::g_cpus is 8 KiB of it): only executable text.
  if (!mm::kvm::is_executable(addr))
    return monitor::error("%s (0x%016lx) is not code: it is not mapped executable (data? x/gx reads it)", sym.name,
                          addr);
  u64 size = sym.size != 0 ? sym.size : kLabelBytes;
  if (size > kMaxBytes) size = kMaxBytes;
  u64 end = sym.addr + size;
  if (end <= addr) return monitor::error("0x%016lx is past the end of %s", addr, sym.name);
  if (monitor::json()) return dis_json(sym, addr, end);
  lib::format(monitor::out(), "%s: 0x%016lx %lu bytes%s\n", sym.name, sym.addr, sym.size,
              sym.size == 0 ? " (no size: the first 256 bytes)" : "");
  debug::VirtReader mem;
  return monitor::examine_insns(monitor::out(), mem, addr, disasm::Mode::Long64, 0, end, debug::kernel_symbols());
}

const char kDisHelp[] =
    "Disassembles the function (or object) containing an address, from that address to the\n"
    "  symbol's end (size from the symbol table; 256 bytes for sizeless assembly labels):\n"
    "  a header line \"<name>: 0x<start> <size> bytes\", then x/i lines\n"
    "  \"0x<addr> <sym>+0x<off>: <bytes>  <insn>\" with branch targets and RIP-relative\n"
    "  operands named as llvm-objdump -d names them.\n"
    "examples: dis ap_main    dis kernel_main+0x20    dis kernel::ksyms::lookup";

}  // namespace

MONITOR_COMMAND(dis, "<sym>|<addr>", "disassemble a whole function (size from the symbol table)", cmd_dis, kNoKeywords,
                true, kDisHelp, monitor::kJsonView);
