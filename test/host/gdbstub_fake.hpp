// A fake machine behind gdbstub::Target for the host tests, the fuzzer and the TCP server:
// n threads (CPUs) with made-up registers, a few memory regions, four debug registers,
// and a monitor with a handful of commands. Deterministic; every call is recorded so the
// tests can check what the Session asked for.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "gdbstub/session.hpp"

namespace gdbfake {

using gdbstub::BreakpointKind;
using gdbstub::Reg;
using gdbstub::RegFile;
using gdbstub::Status;
using gdbstub::ThreadId;

// Kernel text: NOPs, so gdb disassembles something sensible and a step is one byte.
constexpr u64 kTextBase = 0xffffffff80200000ULL;
constexpr u64 kTextSize = 0x4000;
// Kernel data: bytes 0, 1, 2, ... (x/16xb shows 00 01 02 ...).
constexpr u64 kDataBase = 0xffffffff80300000ULL;
constexpr u64 kDataSize = 0x2000;
// A read-only page (writes fail), right below an unmapped hole.
constexpr u64 kRoBase = 0xffffffff80400000ULL;
constexpr u64 kRoSize = 0x1000;

struct Region {
  u64 base;
  std::vector<u8> bytes;
  bool writable;
};

struct Breakpoint {
  BreakpointKind kind;
  u64 addr;
  u64 length;
};

class FakeTarget final : public gdbstub::Target {
 public:
  explicit FakeTarget(u32 threads = 4) { set_threads(threads); }

  void set_threads(u32 n, u32 first = 1, u32 stride = 1) {
    tids.clear();
    regs.clear();
    for (u32 i = 0; i < n; ++i) tids.push_back(first + i * stride);
    for (ThreadId t : tids) regs[t] = initial_regs(t);
    regions.clear();
    Region text{kTextBase, std::vector<u8>(kTextSize, 0x90), true};
    Region data{kDataBase, std::vector<u8>(kDataSize), true};
    for (usize i = 0; i < kDataSize; ++i) data.bytes[i] = static_cast<u8>(i);
    Region ro{kRoBase, std::vector<u8>(kRoSize, 0xab), false};
    regions = {text, data, ro};
  }

  static RegFile initial_regs(ThreadId t) {
    RegFile r;
    r.clear();
    for (usize i = 0; i <= static_cast<usize>(Reg::R15); ++i)
      r.set_u64(static_cast<Reg>(i), 0x1111111100000000ULL * (i % 3) + t * 0x100 + i);
    r.set_u64(Reg::Rsp, 0xffffff8000005f00ULL + (static_cast<u64>(t - 1) << 24));
    r.set_u64(Reg::Rbp, 0xffffff8000005f40ULL + (static_cast<u64>(t - 1) << 24));
    r.set_u64(Reg::Rip, kTextBase + 0x100 * t);
    r.set_u64(Reg::Eflags, 0x246);
    r.set_u64(Reg::Cs, 0x8);
    r.set_u64(Reg::Ss, 0x10);
    r.set_u64(Reg::Ds, 0);
    r.set_u64(Reg::Es, 0);
    r.set_u64(Reg::Fs, 0);
    r.set_u64(Reg::Gs, 0);
    r.set_u64(Reg::FsBase, 0);
    r.set_u64(Reg::GsBase, 0xffffff8000000000ULL + (static_cast<u64>(t - 1) << 24));
    // k_gs_base and cr8 are left unavailable: the fake "did not save them".
    r.set_u64(Reg::Cr0, 0x80010011);
    r.set_u64(Reg::Cr2, 0);
    r.set_u64(Reg::Cr3, 0x100000);
    r.set_u64(Reg::Cr4, 0x6a0);
    r.set_u64(Reg::Efer, 0xd00);
    // x87 and SSE state unavailable (a kernel built -mgeneral-regs-only saves none),
    // except st0 and fctrl, to see an 80-bit value go through.
    u8 st0[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f};  // 1.0 in extended precision
    r.set(Reg::St0, st0);
    r.set_u64(Reg::Fctrl, 0x37f);
    return r;
  }

  // --- gdbstub::Target -----------------------------------------------------------------
  ThreadId next_thread(ThreadId after) override {
    for (ThreadId t : tids)  // ascending
      if (t > after) return t;
    return 0;
  }
  bool has_thread(ThreadId tid) override {
    for (ThreadId t : tids)
      if (t == tid) return true;
    return false;
  }
  void thread_extra_info(ThreadId tid, lib::Sink& out) override {
    ++calls;
    lib::format(out, "cpu %u apic %u online", tid - 1, 2 * (tid - 1));
    if (long_extra_info) lib::format(out, "%0300u", 7u);
  }
  void read_registers(ThreadId tid, RegFile& out) override {
    ++calls;
    last_reg_tid = tid;
    auto it = regs.find(tid);
    if (it != regs.end()) out = it->second;
  }
  Status write_registers(ThreadId tid, const RegFile& in) override {
    ++calls;
    last_reg_tid = tid;
    ++register_writes;
    RegFile& r = regs[tid];
    for (usize i = 0; i < gdbstub::kNumRegs; ++i) {
      Reg k = static_cast<Reg>(i);
      if (in.available(k) && (k >= Reg::Cs && k <= Reg::Gs)) return Status::Invalid;
    }
    for (usize i = 0; i < gdbstub::kNumRegs; ++i) {
      Reg k = static_cast<Reg>(i);
      if (in.available(k)) r.set(k, in.bytes(k));
    }
    return Status::Ok;
  }
  usize read_memory(ThreadId tid, u64 addr, u8* out, usize len) override {
    ++calls;
    last_mem_tid = tid;
    usize n = 0;
    while (n < len) {
      const u8* p = byte_at(addr + n);
      if (p == nullptr) break;
      out[n++] = *p;
    }
    return n;
  }
  usize write_memory(ThreadId tid, u64 addr, const u8* data, usize len) override {
    ++calls;
    last_mem_tid = tid;
    usize n = 0;
    while (n < len) {
      u8* p = byte_at(addr + n, true);
      if (p == nullptr) break;
      *p = data[n++];
    }
    return n;
  }
  Status insert_breakpoint(BreakpointKind kind, u64 addr, u64 length) override {
    ++calls;
    if (kind == BreakpointKind::ReadWatch) return read_watch_status;
    if (kind == BreakpointKind::Software) {
      if (byte_at(addr) == nullptr) return Status::Fault;
    } else {
      usize used = 0;
      for (const Breakpoint& b : bps) used += b.kind != BreakpointKind::Software ? 1 : 0;
      if (used == 4) return Status::NoSpace;  // DR0-DR3
      if (kind != BreakpointKind::Hardware && length != 1 && length != 2 && length != 4 && length != 8)
        return Status::Invalid;
    }
    for (const Breakpoint& b : bps)
      if (b.kind == kind && b.addr == addr) return Status::Ok;
    bps.push_back({kind, addr, length});
    return Status::Ok;
  }
  Status remove_breakpoint(BreakpointKind kind, u64 addr, u64 length) override {
    ++calls;
    (void)length;
    if (kind == BreakpointKind::ReadWatch) return read_watch_status;
    for (usize i = 0; i < bps.size(); ++i)
      if (bps[i].kind == kind && bps[i].addr == addr) {
        bps.erase(bps.begin() + static_cast<long>(i));
        break;
      }
    return Status::Ok;
  }
  Status monitor_command(const char* line, lib::Sink& out) override {
    ++calls;
    last_command = line;
    if (std::strcmp(line, "help") == 0) {
      lib::format(out, "help   this list\ncpus   one line per cpu\necho   prints its argument\n");
      lib::format(out, "lines N   prints N numbered lines\nfail   fails\n");
      return Status::Ok;
    }
    if (std::strcmp(line, "cpus") == 0) {
      lib::format(out, "index apic state\n");
      for (usize i = 0; i < tids.size(); ++i) lib::format(out, "%u %u online\n", tids[i] - 1, 2 * (tids[i] - 1));
      return Status::Ok;
    }
    if (std::strncmp(line, "echo ", 5) == 0) {
      lib::format(out, "%s\n", line + 5);
      return Status::Ok;
    }
    if (std::strncmp(line, "lines ", 6) == 0) {
      unsigned n = static_cast<unsigned>(std::strtoul(line + 6, nullptr, 10));
      for (unsigned i = 0; i < n && i < max_output; ++i) lib::format(out, "line %u of %u\n", i + 1, n);
      return Status::Ok;
    }
    if (std::strncmp(line, "raw ", 4) == 0) {
      // Output without newlines, in pieces of the given size: split by packet size only.
      unsigned n = static_cast<unsigned>(std::strtoul(line + 4, nullptr, 10));
      for (unsigned i = 0; i < n && i < max_output; ++i) out.put(static_cast<char>('a' + i % 26));
      return Status::Ok;
    }
    if (std::strcmp(line, "fail") == 0) {
      lib::format(out, "error: this command fails\n");
      return Status::Invalid;
    }
    lib::format(out, "error: unknown command '%s'\n", line);
    return Status::Ok;
  }

  // --- the fake machine ----------------------------------------------------------------
  u8* byte_at(u64 addr, bool write = false) {
    for (Region& r : regions)
      if (addr >= r.base && addr - r.base < r.bytes.size())
        return write && !r.writable ? nullptr : &r.bytes[addr - r.base];
    return nullptr;
  }
  bool has_bp(BreakpointKind k) const {
    for (const Breakpoint& b : bps)
      if (b.kind == k) return true;
    return false;
  }

  std::vector<ThreadId> tids;
  std::map<ThreadId, RegFile> regs;
  std::vector<Region> regions;
  std::vector<Breakpoint> bps;
  Status read_watch_status = Status::Unsupported;
  std::string last_command;
  ThreadId last_reg_tid = 0;
  ThreadId last_mem_tid = 0;
  unsigned calls = 0;
  unsigned register_writes = 0;
  bool long_extra_info = false;
  unsigned max_output = 100000;  // lines or characters a monitor command prints at most
};

// Collects what the Session sends.
class CaptureTransport final : public gdbstub::Transport {
 public:
  void write(const u8* data, usize n) override { bytes.append(reinterpret_cast<const char*>(data), n); }
  std::string take() {
    std::string r;
    r.swap(bytes);
    return r;
  }
  std::string bytes;
};

}  // namespace gdbfake
