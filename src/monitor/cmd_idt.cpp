// Interrupt views: `idt` decodes the live IDT (found with sidt, so it shows what the CPU
// uses, not what idt.cpp meant to write) and `intr` the per-CPU counts by vector that
// arch/trap's accounting hook keeps (smp::PerCpu::trap_counts).
#include "arch/trap_frame.hpp"
#include "kernel/ksyms.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/examine.hpp"
#include "monitor/monitor.hpp"
#include "smp/bringup.hpp"
#include "smp/percpu.hpp"

namespace {

const char* const kAllKeywords[] = {"all", nullptr};

// The kernel's own vectors (arch/trap_frame.hpp vec::); exceptions by their SDM names.
const char* vector_name(unsigned v) {
  if (v < 32) return arch::exception_name(v);
  switch (v) {
    case arch::vec::kCrossCall: return "cross-call";
    case arch::vec::kApicTimer: return "apic-timer";
    case arch::vec::kTlbFlush: return "tlb-flush";
    case arch::vec::kWake: return "debug-wake";
    case arch::vec::kApicError: return "apic-error";
    case arch::vec::kSpurious: return "spurious";
    default: return "-";
  }
}

// A 64-bit IDT gate descriptor (SDM Vol. 3A 6.14.1, Figure 6-8).
struct Gate {
  u64 lo, hi;
  u64 offset() const { return (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32); }
  u16 selector() const { return static_cast<u16>(lo >> 16); }
  unsigned ist() const { return (lo >> 32) & 7; }
  unsigned type() const { return (lo >> 40) & 0xf; }
  unsigned dpl() const { return (lo >> 45) & 3; }
  bool present() const { return (lo >> 47) & 1; }
};

const char* gate_type(unsigned t) {
  switch (t) {
    case 0xe: return "interrupt";  // IF cleared on entry
    case 0xf: return "trap";
    default: return "invalid";  // no other type is legal in a 64-bit IDT (SDM Vol. 3A 6.14.1)
  }
}

struct Idtr {
  u16 limit;
  u64 base;
  unsigned gates() const {
    unsigned n = (limit + 1u) / 16;
    return n > 256 ? 256 : n;
  }
  Gate gate(unsigned v) const {
    const auto* g = reinterpret_cast<const volatile u64*>(base);
    return Gate{g[2 * v], g[2 * v + 1]};
  }
};

Idtr read_idtr() {
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } idtr{};
  asm volatile("sidt %0" : "=m"(idtr));
  return {idtr.limit, idtr.base};
}

// idt -j: {"base","limit","count","gates":[{"vec","handler","type","ist","dpl","p","sel",
// "symbol","offset","name"}],"present"}: the header, the rows (symbol and offset: the
// handler's "name+0xoff", null for '?'; name: the vector's, null for '-') and the footer.
void idt_json(lib::Sink& out, const Idtr& idtr, bool all) {
  lib::Json j(out);
  unsigned n = idtr.gates(), present = 0;
  j.begin_object().member_addr("base", idtr.base).member_hex("limit", idtr.limit, 4).member("count", u64{n});
  j.key("gates").begin_array();
  for (unsigned v = 0; v < n; ++v) {
    Gate g = idtr.gate(v);
    if (g.present()) ++present;
    if (!g.present() && !all) continue;
    j.begin_object().member("vec", u64{v}).member_addr("handler", g.offset()).member("type", gate_type(g.type()));
    j.member("ist", u64{g.ist()}).member("dpl", u64{g.dpl()}).member("p", g.present());
    j.member_hex("sel", g.selector(), 4);
    u64 off = 0;
    const char* sym = kernel::ksyms::lookup(g.offset(), &off);
    monitor::symbol_members(j, sym, off);
    monitor::text_member(j, "name", vector_name(v));
    j.end_object();
  }
  j.end_array().member("present", u64{present}).end_object();
  (void)j.finish();
}

int cmd_idt(const monitor::Args& a) {
  if (a.argc > 2 || (a.argc == 2 && !lib::streq(a.argv[1], "all"))) return monitor::error("usage: idt [all]");
  bool all = a.argc == 2;
  Idtr idtr = read_idtr();
  auto& out = monitor::out();
  if (monitor::json()) {
    idt_json(out, idtr, all);
    return 0;
  }
  unsigned n = idtr.gates();
  lib::format(out, "idtr base 0x%016lx limit 0x%04x (%u gates)\n", idtr.base, idtr.limit, n);
  lib::format(out, "vec handler            type      ist dpl p sel    symbol (vector)\n");
  unsigned present = 0;
  for (unsigned v = 0; v < n; ++v) {
    Gate g = idtr.gate(v);
    if (g.present()) ++present;
    if (!g.present() && !all) continue;
    lib::format(out, "%-3u 0x%016lx %-9s %-3u %-3u %c 0x%04x ", v, g.offset(), gate_type(g.type()), g.ist(), g.dpl(),
                g.present() ? 'p' : '-', g.selector());
    kernel::ksyms::print(out, g.offset());
    lib::format(out, " (%s)\n", vector_name(v));
  }
  lib::format(out, "present: %u of %u gates\n", present, n);
  return 0;
}

// Calls f(cpu, vector, count) for each nonzero count of CPU index, by vector.
template <typename F>
void each_count(u64 index, F f) {
  const smp::PerCpu* p = smp::cpu(index);
  if (p == nullptr) return;
  for (unsigned v = 0; v < 256; ++v) {
    u64 n = __atomic_load_n(&p->trap_counts[v], __ATOMIC_RELAXED);
    if (n != 0) f(index, v, n);
  }
}

template <typename F>
void each_selected_count(bool all, u64 index, F f) {
  if (!all) {
    each_count(index, f);
    return;
  }
  for (u64 i = 0; i < smp::g_cpu_count; ++i) each_count(i, f);
}

int cmd_intr(const monitor::Args& a) {
  if (a.argc > 2) return monitor::error("usage: intr [<n>|all]");
  auto& out = monitor::out();
  u64 index = 0;
  bool all = a.argc == 1 || lib::streq(a.argv[1], "all");
  if (!all && !monitor::parse_cpu(a.argv[1], monitor::CpuArg::Stopped, &index, "nothing counted")) return 1;
  if (monitor::json()) {
    // {"counts":[{"cpu","vec","count","name"}]}: the text's rows without its hex column
    // (vec again); name null for '-'.
    lib::Json j(out);
    j.begin_object().key("counts").begin_array();
    each_selected_count(all, index, [&](u64 cpu, unsigned v, u64 n) {
      j.begin_object().member("cpu", cpu).member("vec", u64{v}).member("count", n);
      monitor::text_member(j, "name", vector_name(v));
      j.end_object();
    });
    j.end_array().end_object();
    (void)j.finish();
    return 0;
  }
  lib::format(out, "cpu  vec hex  count      name\n");
  each_selected_count(all, index, [&](u64 cpu, unsigned v, u64 n) {
    lib::format(out, "%-4lu %-3u 0x%02x %-10lu %s\n", cpu, v, v, n, vector_name(v));
  });
  return 0;
}

}  // namespace

MONITOR_COMMAND(idt, "[all]", "the live IDT (sidt): handler and symbol, gate type, IST, DPL; all: empty gates too",
                cmd_idt, kAllKeywords, true,
                "Reads IDTR with sidt on this CPU (every CPU loads the same table) and decodes\n"
                "each present gate: vector, handler address, gate type (interrupt: IF cleared on\n"
                "entry; trap), IST index (0: the current stack), DPL, present, code selector,\n"
                "the handler's symbol and what the vector is for.\n"
                "  idt        present gates\n"
                "  idt all    all gates, not-present ones too",
                monitor::kJsonView);
MONITOR_COMMAND(intr, "[<n>|all]", "interrupts and exceptions taken, per CPU and vector (nonzero counts)", cmd_intr,
                kAllKeywords, true,
                "Every vector a CPU took since it came up, counted at trap entry (NMIs, exceptions\n"
                "caught by a command's guard, IPIs), one line per CPU and vector with a count:\n"
                "cpu, vector in decimal and hex, count, name.\n"
                "  intr       every CPU\n"
                "  intr 1     CPU 1 only",
                monitor::kJsonView);
