// Kernel symbol lookup for backtraces, the monitor and the disassembler, over the table
// the build generates into .ksyms (scripts/gen_ksyms.py): functions and data objects,
// demangled, with sizes, sorted by address.
#pragma once
#include "lib/fmt.hpp"

namespace kernel::ksyms {

struct Symbol {
  u64 addr;
  u64 size;  // 0 for labels without a size (assembly, linker script)
  const char* name;
};

// Name of the symbol containing addr, and the offset into it; nullptr if unknown. A
// sized symbol contains [addr, addr + size); a sizeless one names what follows it, up to
// 4 KiB. At one address a sized symbol wins over a sizeless alias.
const char* lookup(u64 addr, u64* offset);
bool containing(u64 addr, Symbol* out);
// The way llvm-objdump names a branch target or RIP-relative address: a containing
// symbol, else the nearest symbol before addr (within the image's symbols).
const char* nearest(u64 addr, u64* offset);
// Prints "name+0xoff" or "?".
void print(lib::Sink& out, u64 addr);
u64 count();

enum class Find { Found, Unknown, Ambiguous };
// By name (name[0, len), not NUL-terminated): an exact name wins, else a unique prefix.
// "Exact" ignores a trailing parameter list and "(anonymous namespace)::" parts of the
// table's demangled names, so `kernel::ksyms::lookup` finds "kernel::ksyms::lookup(unsigned long, ...)".
// Several symbols at one address count as one.
Find find(const char* name, usize len, Symbol* out);
// The resolver for monitor::parse_address: on failure prints one "error: " line to err
// (if given): unknown symbol, or an ambiguous one with a few candidates.
bool resolve(const char* name, usize len, u64* addr, lib::Sink* err);

}  // namespace kernel::ksyms
