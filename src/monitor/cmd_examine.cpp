// Examining memory: x (bytes, or typed values and instructions with x/<spec>), xp (the
// same for physical addresses, through the direct map, RAM only), and sym (addresses to
// symbols and back). Formats: monitor/examine.
#include "debug/gdb_stub.hpp"
#include "debug/insn.hpp"
#include "kernel/ksyms.hpp"
#include "lib/string.hpp"
#include "mm/kvm.hpp"
#include "mm/layout.hpp"
#include "monitor/examine.hpp"
#include "monitor/monitor.hpp"

namespace {

const char* const kNoKeywords[] = {nullptr};

// Every address argument takes `<symbol>[+<offset>]`: the kernel's symbol table answers
// monitor::parse_address. Installed by the global constructors, before any command runs.
[[gnu::constructor]] void install_symbol_resolver() { monitor::set_symbol_resolver(kernel::ksyms::resolve); }

// RAM in the firmware's memory map (usable, ACPI, NVS), through the direct map. Nothing
// else is read: reserved ranges and holes may be MMIO (LAPIC, MMCONFIG, flash).
class PhysReader final : public monitor::ExMemory {
 public:
  usize read(u64 pa, u8* buf, usize n) override {
    const mm::MemoryMap& map = mm::firmware_map();
    usize got = 0;
    while (got < n) {
      u64 a = pa + got;
      if (a < pa) break;
      u64 room = 0;  // bytes of RAM from a on, within one map entry
      for (usize i = 0; i < map.size(); ++i) {
        const mm::MemRange& r = map[i];
        bool ram = r.type == mm::MemType::Usable || r.type == mm::MemType::Acpi || r.type == mm::MemType::Nvs;
        if (ram && a >= r.start && a < r.end) room = r.end - a;
      }
      if (room == 0) {
        why = "is not RAM in the memory map (xp reads RAM only)";
        break;
      }
      usize chunk = static_cast<usize>(0x1000 - (a & 0xfff));
      if (chunk > n - got) chunk = n - got;
      if (chunk > room) chunk = static_cast<usize>(room);
      const u8* p = mm::kvm::phys().map(a, chunk);
      if (p == nullptr) {
        why = "is not in the direct map";
        break;
      }
      __builtin_memcpy(buf + got, p, chunk);
      got += chunk;
    }
    debug::gdb::unshadow_physical(pa, buf, got);  // the code, not gdb's int3s
    return got;
  }
};

// `x <va> [len]`'s checks, kept exactly: they give its error lines.
bool check_virtual_range(u64 va, u64 len) {
  if (!mm::layout::is_canonical(va)) return monitor::error("0x%016lx is not canonical", va), false;
  u64 last = va + len - 1;
  if (last < va) return monitor::error("0x%016lx + %lu runs past the top of the address space", va, len), false;
  if (!mm::layout::is_canonical(last)) return monitor::error("range runs into non-canonical addresses"), false;
  // Reading device registers can have side effects (e.g. clearing status bits).
  if (mm::layout::region_of(va) == mm::layout::Region::Device ||
      mm::layout::region_of(last) == mm::layout::Region::Device)
    return monitor::error("0x%016lx is in the device window; refusing to read MMIO", va), false;
  if (!mm::kvm::is_mapped(va, len, false)) return monitor::error("0x%016lx (+%lu) is not mapped", va, len), false;
  return true;
}

int count_error(u64 count, u64 max) {
  if (count == monitor::kCountSaturated) return monitor::error("count out of range (1-%lu)", max);
  return monitor::error("count %lu out of range (1-%lu)", count, max);
}

// x/<spec> -j: {"address","format","unit","count","units":[...]} (monitor/examine: the
// units of each format). unit is null for i, which has none.
int typed_json(const monitor::ExSpec& spec, u64 addr, u64 count, const monitor::ExSymbols& syms,
               monitor::ExMemory& mem) {
  auto& out = monitor::out();
  // Everything must read before anything is written: the text run's error line, or the units.
  monitor::ErrorLine e;
  bool insn = spec.format == monitor::ExFormat::Insn;
  int rc = insn ? monitor::examine_insns(e, mem, addr, spec.mode, count, 0, syms)
                : monitor::examine(e, mem, addr, spec, count, syms);
  if (rc != 0) return monitor::error("%s", e.message());
  lib::Json j(out);
  j.begin_object().member_addr("address", addr).member("format", monitor::ex_format_name(spec));
  if (insn)
    j.key("unit").null();
  else
    j.member("unit", u64{spec.unit});
  j.member("count", count).key("units");
  if (insn)
    monitor::examine_insns_json(j, mem, addr, spec.mode, count, 0, syms);
  else
    monitor::examine_json(j, mem, addr, spec, count, syms);
  j.end_object();
  (void)j.finish();
  return 0;
}

// x <va> [len] -j and xp <pa> [len] -j: {"address","length","lines":[{"address","bytes","ascii"}]}.
int hexdump_json(monitor::ExMemory& mem, u64 addr, u64 len) {
  lib::Json j(monitor::out());
  j.begin_object().member_addr("address", addr).member("length", len).key("lines");
  monitor::hexdump_json(j, mem, addr, len);
  j.end_object();
  (void)j.finish();
  return 0;
}

// x/<spec> and xp/<spec> <addr> [count].
int examine_typed(const monitor::Args& a, const char* spec_text, bool physical) {
  const char* cmd = physical ? "xp" : "x";
  if (a.argc < 2 || a.argc > 3) return monitor::error("usage: %s/<unit><format> <addr|sym> [count]", cmd);
  monitor::ExSpec spec;
  if (!monitor::parse_ex_spec(spec_text, &spec))
    return monitor::error("bad format '/%s': [count] units b h w g, formats x d u c s a i (i16, i32)", spec_text);
  u64 addr, count = spec.has_count ? spec.count : 1;
  if (!monitor::parse_address_arg(a.argv[1], &addr)) return 1;
  if (a.argc == 3 && !monitor::parse_count_arg(a.argv[2], &count)) return 1;
  auto& out = monitor::out();
  debug::VirtReader virt;
  PhysReader phys;
  monitor::ExMemory& mem = physical ? static_cast<monitor::ExMemory&>(phys) : virt;
  const monitor::ExSymbols& syms = debug::kernel_symbols();
  if (spec.format == monitor::ExFormat::Insn) {
    if (count == 0 || count > monitor::kMaxInsns) return count_error(count, monitor::kMaxInsns);
    // Physical code has no symbols: its addresses are not the kernel's.
    monitor::ExSymbols none{nullptr, nullptr};
    if (monitor::json()) return typed_json(spec, addr, count, physical ? none : syms, mem);
    return monitor::examine_insns(out, mem, addr, spec.mode, count, 0, physical ? none : syms);
  }
  u64 max = spec.format == monitor::ExFormat::String ? 64 : monitor::kMaxExamineBytes / spec.unit;
  if (count == 0 || count > max) return count_error(count, max);
  if (!physical && spec.format != monitor::ExFormat::String && !check_virtual_range(addr, count * spec.unit)) return 1;
  if (monitor::json()) return typed_json(spec, addr, count, syms, mem);
  return monitor::examine(out, mem, addr, spec, count, syms);
}

int cmd_x(const monitor::Args& a) {
  const char* slash = a.argv[0];
  while (*slash != '\0' && *slash != '/') ++slash;
  if (*slash == '/') return examine_typed(a, slash + 1, false);
  if (a.argc < 2 || a.argc > 3) return monitor::error("usage: x <va> [len]");
  u64 va, len = 64;
  if (!monitor::parse_address_arg(a.argv[1], &va)) return 1;
  if (a.argc == 3 && !monitor::parse_count_arg(a.argv[2], &len)) return 1;
  if (len == 0 || len > 4096) return monitor::error("length %lu out of range (1-4096)", len);
  if (!check_virtual_range(va, len)) return 1;
  debug::VirtReader mem;
  if (monitor::json()) return hexdump_json(mem, va, len);
  monitor::hexdump(monitor::out(), mem, va, len);
  return 0;
}

int cmd_xp(const monitor::Args& a) {
  const char* slash = a.argv[0];
  while (*slash != '\0' && *slash != '/') ++slash;
  if (*slash == '/') return examine_typed(a, slash + 1, true);
  if (a.argc < 2 || a.argc > 3) return monitor::error("usage: xp <pa> [len]");
  u64 pa, len = 64;
  if (!monitor::parse_address_arg(a.argv[1], &pa)) return 1;
  if (a.argc == 3 && !monitor::parse_count_arg(a.argv[2], &len)) return 1;
  if (len == 0 || len > 4096) return monitor::error("length %lu out of range (1-4096)", len);
  PhysReader mem;
  u8 probe[16];
  for (u64 off = 0; off < len; off += sizeof probe) {
    usize n = static_cast<usize>(len - off < sizeof probe ? len - off : sizeof probe);
    usize got = mem.read(pa + off, probe, n);
    if (got < n) return monitor::error("0x%016lx %s", pa + off + got, mem.why);
  }
  if (monitor::json()) return hexdump_json(mem, pa, len);
  monitor::hexdump(monitor::out(), mem, pa, len);
  return 0;
}

// sym <addr|expr>: the symbol an address is in; sym <name>: where a symbol is.
int cmd_sym(const monitor::Args& a) {
  if (a.argc < 2) return monitor::error("usage: sym <addr>|<name>[+<off>]");
  auto& out = monitor::out();
  // The rest of the line is one name: what bt prints can be pasted back as it is
  // ("(anonymous namespace)::wedge", "smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)").
  char joined[monitor::kMaxLine + 1];
  const char* s = monitor::join_args(a, 1, joined, sizeof joined);
  bool expression = false;
  for (const char* p = s; *p != '\0'; ++p) expression |= *p == '+' || *p == '-';
  u64 addr;
  if (!expression && !lib::parse_u64(s, &addr, /*hex_default=*/true)) {
    kernel::ksyms::Symbol sym;
    kernel::ksyms::Find r = kernel::ksyms::find(s, lib::strnlen(s, monitor::kMaxLine), &sym);
    if (r != kernel::ksyms::Find::Found) {
      monitor::ErrorLine e;  // the resolver's error line, for -j
      (void)kernel::ksyms::resolve(s, lib::strnlen(s, monitor::kMaxLine), &addr,
                                   monitor::json() ? static_cast<lib::Sink*>(&e) : &out);
      if (monitor::json()) monitor::error("%s", e.message());
      return 1;
    }
    if (monitor::json()) {
      lib::Json j(out);
      j.begin_object().member_addr("address", sym.addr).member("size", sym.size).member("name", sym.name).end_object();
      (void)j.finish();
      return 0;
    }
    lib::format(out, "0x%016lx %lu %s\n", sym.addr, sym.size, sym.name);
    return 0;
  }
  if (!monitor::parse_address_arg(s, &addr)) return 1;
  u64 off = 0;
  const char* name = kernel::ksyms::lookup(addr, &off);
  if (name == nullptr) return monitor::error("no symbol at 0x%016lx", addr);
  if (monitor::json()) {
    lib::Json j(out);
    j.begin_object().member_addr("address", addr).member("name", name).member("offset", off).end_object();
    (void)j.finish();
    return 0;
  }
  lib::format(out, "0x%016lx %s+0x%lx\n", addr, name, off);
  return 0;
}

const char kXHelp[] =
    "x <va> [len]: bytes in hex and ascii, 16 a line (len 1-4096, default 64).\n"
    "x/<unit><format> <addr> [count]: count values (default 1), lines \"0x<addr>: <value> ...\".\n"
    "  units: b 1, h 2, w 4 (default), g 8 bytes; a count may lead the spec (x/8gx).\n"
    "  formats: x hex (default), d signed, u unsigned, c char, s C string, a address <symbol>,\n"
    "  i instructions (i16, i32: 16-, 32-bit code), as llvm-objdump prints them.\n"
    "  Addresses: hex with or without 0x, or <symbol>[+<off>|-<off>] (offset in hex).\n"
    "  Unmapped memory and the device window give an error line, never a fault.\n"
    "examples: x smp::g_cpus 32    x/4gx smp::g_cpus+0x40    x/s ksyms_names    x/i ap_main 8";
const char kXpHelp[] =
    "xp <pa> [len] and xp/<unit><format> <pa> [count]: like x, for physical addresses, read\n"
    "  through the direct map; only RAM in the firmware memory map (usable, acpi, nvs) is read,\n"
    "  anything else (MMIO: LAPIC, MMCONFIG, ...) gives an error line.\n"
    "examples: xp/4gx 0x1000    xp/i16 0x1000 8 (the AP trampoline's real-mode start)";
const char kSymHelp[] =
    "sym <address>: the symbol containing it, \"0x<address> <symbol>+0x<offset>\".\n"
    "sym <name>: \"0x<address> <size> <name>\" (size in decimal bytes). The name may leave out\n"
    "  \"(anonymous namespace)::\" and the parameter list, or be a unique prefix; an ambiguous\n"
    "  one lists candidates. <name>+<off> is an address and gives the first form.\n"
    "examples: sym ap_main    sym ffffffff80201000    sym smp::g_cpus+0x40";

}  // namespace

MONITOR_COMMAND(x, "<va> [len]", "hex+ascii dump; x/<fmt> <addr> [n]: values, x/i code (help x)", cmd_x, kNoKeywords,
                true, kXHelp, monitor::kJsonView);
MONITOR_COMMAND(xp, "<pa> [len]", "physical memory (RAM only) as x; xp/<fmt> <pa> [n]", cmd_xp, kNoKeywords, true,
                kXpHelp, monitor::kJsonView);
MONITOR_COMMAND(sym, "<addr>|<name>", "symbol for an address, or address and size of a symbol", cmd_sym, kNoKeywords,
                true, kSymHelp, monitor::kJsonView);
