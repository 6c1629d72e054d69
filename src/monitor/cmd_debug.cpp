// Debugger commands: bt, break, watch, breaks, delete, continue, step. Backtraces are
// taken on the CPU itself (a cross-CPU call; NMI if it has interrupts off) and bounded by
// its own stacks; while the machine is stopped (panic or kstop>), from the frames each
// CPU saved when it stopped. Breakpoints live in the debug registers of every CPU
// (debug/stop.cpp).
#include "arch/cpu.hpp"
#include "debug/frames.hpp"
#include "debug/stop.hpp"
#include "kernel/ksyms.hpp"
#include "lib/json.hpp"
#include "lib/string.hpp"
#include "monitor/examine.hpp"
#include "monitor/monitor.hpp"
#include "smp/percpu.hpp"
#include "smp/xcall.hpp"

namespace {

constexpr u64 kXcallTimeoutUs = 100000;

const char* const kNoKeywords[] = {nullptr};
const char* const kAllKeywords[] = {"all", nullptr};
const char* const kWatchKeywords[] = {nullptr};

struct BtRequest {
  const smp::PerCpu* cpu;
  debug::Frames frames;
};

void bt_on_cpu(void* arg, const arch::TrapFrame* f) {
  auto* req = static_cast<BtRequest*>(arg);
  debug::backtrace(req->cpu, *f, &req->frames);
}

constexpr usize kMaxBtError = 128;

// CPU i's frames (i has a slot: parse_cpu's Stopped mode, or bt all's loop, checked it),
// taken on it now or read from what it saved when it stopped; false with the reason in
// `err` (the text of its error line) if there are none.
bool take_bt(u64 i, BtRequest* req, const char** how, lib::Sink& err) {
  smp::PerCpu* p = smp::cpu(i);
  req->cpu = p;
  if (monitor::in_panic_shell()) {
    if (p->stopped_frame == nullptr) {
      lib::format(err, "cpu %lu saved no frame when it stopped", i);
      return false;
    }
    bt_on_cpu(req, p->stopped_frame);
    *how = smp::stop_source_text(p->stopped_how);
    return true;
  }
  if (p->state != smp::CpuState::Online) {
    lib::format(err, "cpu %lu is %s; no frames to take", i, smp::cpu_state_name(p->state));
    return false;
  }
  smp::XcallResult r = smp::xcall(i, bt_on_cpu, req, kXcallTimeoutUs);
  if (r != smp::XcallResult::Done && r != smp::XcallResult::DoneViaNmi) {
    lib::format(err, "cpu %lu did not answer (%s)", i, smp::xcall_result_name(r));
    return false;
  }
  *how = p == smp::this_cpu()          ? "this cpu"
         : r == smp::XcallResult::Done ? "taken on that cpu: ipi"
                                       : "taken on that cpu: nmi";
  return true;
}

// bt -j's object for one CPU: the header's cpu, apic and source, one object per frame
// line, and the reason the walk ended (the text's last line, without its parentheses).
// symbol and offset are null where the text prints "?"; exact says pc is where the CPU
// was (frame 0, or code a trap frame interrupted) rather than a return address.
void bt_json(lib::Json& j, u64 i, const BtRequest& req, const char* how) {
  j.begin_object().member("cpu", i).member("apic", req.cpu->apic_id).member("source", how);
  j.key("frames").begin_array();
  const debug::Frames& f = req.frames;
  for (usize k = 0; k < f.count; ++k) {
    j.begin_object().member("index", static_cast<u64>(k)).member_addr("pc", f.pc[k]);
    u64 off = 0;
    const char* name = debug::frame_symbol(f, k, &off);
    monitor::symbol_members(j, name, off);
    j.member("exact", f.exact[k]).end_object();
  }
  j.end_array().member("end", f.end).end_object();
}

// One CPU's backtrace, text or -j, or its error line.
int print_bt(u64 i) {
  BtRequest req{};
  const char* how = nullptr;
  char why[kMaxBtError];
  lib::BufSink err(why, sizeof why);
  if (!take_bt(i, &req, &how, err)) return monitor::error("%s", err.str());
  auto& out = monitor::out();
  if (monitor::json()) {
    lib::Json j(out);
    bt_json(j, i, req, how);
    (void)j.finish();
    return 0;
  }
  lib::format(out, "cpu %lu apic %u (%s)\n", i, req.cpu->apic_id, how);
  debug::print_frames(out, req.frames, "", false);
  return 0;
}

// bt all -j: {"cpus":[...]}, one object per CPU with a slot; a CPU whose frames could not
// be taken is {"cpu":i,"error":"..."} (the text prints its error line and goes on).
int bt_all_json() {
  lib::Json j(monitor::out());
  j.begin_object().key("cpus").begin_array();
  for (u64 i = 0; i < smp::g_cpu_count; ++i) {
    if (smp::cpu(i) == nullptr) continue;
    BtRequest req{};
    const char* how = nullptr;
    char why[kMaxBtError];
    lib::BufSink err(why, sizeof why);
    if (take_bt(i, &req, &how, err))
      bt_json(j, i, req, how);
    else
      j.begin_object().member("cpu", i).member("error", err.str()).end_object();
  }
  j.end_array().end_object();
  (void)j.finish();
  return 0;
}

int cmd_bt(const monitor::Args& a) {
  if (a.argc > 2) return monitor::error("usage: bt [<n>|all]");
  if (a.argc == 1) return print_bt(smp::this_cpu()->index);
  if (lib::streq(a.argv[1], "all")) {
    if (monitor::json()) return bt_all_json();
    int rc = 0;
    for (u64 i = 0; i < smp::g_cpu_count; ++i) {
      if (smp::cpu(i) == nullptr) continue;
      if (i != 0) lib::format(monitor::out(), "\n");
      rc |= print_bt(i);
    }
    return rc;
  }
  u64 i;
  if (!monitor::parse_cpu(a.argv[1], monitor::CpuArg::Stopped, &i)) return 1;
  return print_bt(i);
}

const char* kind_name(debug::BpKind kind) { return kind == debug::BpKind::Exec ? "break" : "watch"; }
const char* access_name(debug::BpKind kind) { return kind == debug::BpKind::Write ? "w" : "rw"; }

void print_slot(unsigned k) {
  const debug::BpSlot& s = debug::breakpoint(k);
  auto& out = monitor::out();
  lib::format(out, "%u %-5s 0x%016lx ", k, kind_name(s.kind), s.addr);
  kernel::ksyms::print(out, s.addr);
  if (s.kind != debug::BpKind::Exec) lib::format(out, " len %u %s", s.len, access_name(s.kind));
  lib::format(out, " hits %lu\n", debug::breakpoint_hits(k));
}

// breaks -j: one object per used slot, as its line: slot, kind, addr, the address's
// symbol and offset (null for "?"), len and access (null for a breakpoint, whose line has
// neither), hits.
void slot_json(lib::Json& j, unsigned k) {
  const debug::BpSlot& s = debug::breakpoint(k);
  j.begin_object().member("slot", k).member("kind", kind_name(s.kind)).member_addr("addr", s.addr);
  u64 off = 0;
  const char* name = kernel::ksyms::lookup(s.addr, &off);
  monitor::symbol_members(j, name, off);
  if (s.kind != debug::BpKind::Exec)
    j.member("len", static_cast<u64>(s.len)).member("access", access_name(s.kind));
  else
    j.key("len").null().key("access").null();
  j.member("hits", debug::breakpoint_hits(k)).end_object();
}

int set_point(debug::BpKind kind, u64 addr, u8 len) {
  // After a panic nothing continues: a breakpoint could never be reached.
  if (monitor::in_panic_shell() && !monitor::in_stop_shell())
    return monitor::error("the machine cannot continue from a panic: a %s here would never be hit",
                          kind == debug::BpKind::Exec ? "breakpoint" : "watchpoint");
  unsigned k = 0;
  if (const char* why = debug::add_breakpoint(kind, addr, len, &k)) return monitor::error("0x%016lx: %s", addr, why);
  u64 n = debug::apply_breakpoints_everywhere();
  print_slot(k);
  if (kind == debug::BpKind::Exec && debug::on_shell_path(addr))
    lib::format(monitor::out(),
                "note: the monitor's own input/output runs this code: hits on cpu %lu (the monitor's) are counted, "
                "not stopped; other CPUs stop\n",
                smp::this_cpu()->index);
  if (debug::stopped())
    lib::format(monitor::out(), "(every CPU loads it when the machine continues)\n");
  else
    lib::format(monitor::out(), "(set on %lu of %lu online CPUs)\n", n, smp::g_online_count);
  return 0;
}

int cmd_break(const monitor::Args& a) {
  if (a.argc < 2) return monitor::error("usage: break <addr|sym>");
  u64 addr;
  char joined[monitor::kMaxLine + 1];  // a name as bt prints it, spaces and all
  if (!monitor::parse_address(monitor::join_args(a, 1, joined, sizeof joined), &addr, &monitor::out())) return 1;
  return set_point(debug::BpKind::Exec, addr, 1);
}

int cmd_watch(const monitor::Args& a) {
  // watch <addr|sym> [len 1|2|4|8] [w|rw]
  if (a.argc < 2 || a.argc > 5) return monitor::error("usage: watch <addr|sym> [len 1|2|4|8] [w|rw]");
  u64 addr, len = 0;
  if (!monitor::parse_address(a.argv[1], &addr, &monitor::out())) return 1;
  debug::BpKind kind = debug::BpKind::Write;
  for (usize i = 2; i < a.argc; ++i) {
    if (lib::streq(a.argv[i], "len")) {
      if (i + 1 >= a.argc || !lib::parse_u64(a.argv[i + 1], &len))
        return monitor::error("len needs a number: 1, 2, 4 or 8");
      ++i;
    } else if (lib::streq(a.argv[i], "w")) {
      kind = debug::BpKind::Write;
    } else if (lib::streq(a.argv[i], "rw")) {
      kind = debug::BpKind::ReadWrite;
    } else {
      return monitor::error("unknown watch option '%s' (len N, w, rw)", a.argv[i]);
    }
  }
  if (len == 0) {
    // By default the variable itself: a symbol of 1, 2, 4 or 8 bytes starting here, aligned
    // to its size; else 8 bytes (a watch wider than the variable fires on its neighbours).
    len = 8;
    kernel::ksyms::Symbol sym;
    if (kernel::ksyms::containing(addr, &sym) && sym.addr == addr &&
        (sym.size == 1 || sym.size == 2 || sym.size == 4 || sym.size == 8) && (addr & (sym.size - 1)) == 0)
      len = sym.size;
  }
  if (len > 8) return monitor::error("length must be 1, 2, 4 or 8");
  return set_point(kind, addr, static_cast<u8>(len));
}

int cmd_breaks(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: breaks");
  if (monitor::json()) {
    lib::Json j(monitor::out());
    j.begin_object().key("breaks").begin_array();
    for (unsigned k = 0; k < debug::kDebugRegs; ++k)
      if (debug::breakpoint(k).used) slot_json(j, k);
    j.end_array().end_object();
    (void)j.finish();
    return 0;
  }
  bool any = false;
  for (unsigned k = 0; k < debug::kDebugRegs; ++k) {
    if (!debug::breakpoint(k).used) continue;
    print_slot(k);
    any = true;
  }
  if (!any) lib::format(monitor::out(), "no breakpoints or watchpoints\n");
  return 0;
}

int cmd_delete(const monitor::Args& a) {
  if (a.argc != 2) return monitor::error("usage: delete <k>|all");
  if (lib::streq(a.argv[1], "all")) {
    for (unsigned k = 0; k < debug::kDebugRegs; ++k) (void)debug::delete_breakpoint(k);
  } else {
    u64 k;
    if (!lib::parse_u64(a.argv[1], &k) || k >= debug::kDebugRegs || !debug::delete_breakpoint(static_cast<unsigned>(k)))
      return monitor::error("no breakpoint '%s' (see breaks)", a.argv[1]);
  }
  (void)debug::apply_breakpoints_everywhere();
  return 0;
}

int cmd_continue(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: continue");
  if (!monitor::in_stop_shell()) return monitor::error("the machine is not stopped at a breakpoint");
  monitor::leave_stop_shell(debug::ResumePlan{});
  return 0;
}

int cmd_step(const monitor::Args& a) {
  if (a.argc != 1) return monitor::error("usage: step");
  if (!monitor::in_stop_shell()) return monitor::error("the machine is not stopped at a breakpoint");
  monitor::leave_stop_shell(debug::ResumePlan{smp::this_cpu()->index, false});
  return 0;
}

constexpr const char* kBtHelp =
    "Frames by frame pointer, #0 being where the CPU was. Taken on that CPU by a\n"
    "cross-CPU call (NMI if it has interrupts off), walked only inside its own stacks,\n"
    "so a corrupt chain ends with a reason. Stopped (kpanic>, kstop>): the saved frames.\n"
    "  bt 2        bt all        bt (this CPU)";
constexpr const char* kBreakHelp =
    "An execution breakpoint in DR0-3 of every online CPU (and of CPUs that start later).\n"
    "A hit stops every other CPU by NMI and opens kstop> on the CPU that hit it.\n"
    "  break smp::xcall_handle     break ap_main+0x10     break ffffffff80210a90\n"
    "From the kernel command line: debug.break=ap_main[,...]; debug.wait stops before\n"
    "AP bring-up.";
constexpr const char* kWatchHelp =
    "A data watchpoint: stops the CPU that writes (w) or reads or writes (rw) the\n"
    "aligned 1, 2, 4 or 8 bytes at the address; reported after the access. Without len,\n"
    "the size of the variable the address names (1, 2, 4 or 8 bytes), else 8.\n"
    "  watch smp::g_online_count len 8 w     watch ffffff8002000080 len 8 rw";
constexpr const char* kBreaksHelp = "Slot, kind, address and symbol, length, and hits since set.\n  breaks";
constexpr const char* kDeleteHelp = "Frees a debug register slot on every CPU.\n  delete 0     delete all";
constexpr const char* kContinueHelp = "Leaves kstop>: every CPU runs again; the breakpoint stays set.\n  continue";
constexpr const char* kStepHelp =
    "Runs one instruction on the CPU that stopped (the others stay stopped) and stops\n"
    "again, printing it.\n  step";

}  // namespace

MONITOR_COMMAND(bt, "[<n>|all]", "backtrace of CPU n (or every CPU), taken on that CPU", cmd_bt, kAllKeywords, true,
                kBtHelp, monitor::kJsonView);
MONITOR_COMMAND(break, "<addr|sym>", "execution breakpoint on every CPU (debug registers)", cmd_break, kNoKeywords,
                true, kBreakHelp);
MONITOR_COMMAND(watch, "<addr|sym> [len 1|2|4|8] [w|rw]", "data watchpoint on every CPU (default len 8, w)", cmd_watch,
                kWatchKeywords, true, kWatchHelp);
MONITOR_COMMAND(breaks, "", "list breakpoints and watchpoints with their hit counts", cmd_breaks, kNoKeywords, true,
                kBreaksHelp, monitor::kJsonView);
MONITOR_COMMAND(delete, "<k>|all", "remove breakpoint or watchpoint k", cmd_delete, kAllKeywords, true, kDeleteHelp);
MONITOR_COMMAND(continue, "", "at kstop>: resume every CPU", cmd_continue, kNoKeywords, true, kContinueHelp);
MONITOR_COMMAND(step, "", "at kstop>: run one instruction on the stopped CPU, then stop again", cmd_step, kNoKeywords,
                true, kStepHelp);
