#include "mm/pt_walk.hpp"

#include "arch/pte.hpp"
#include "lib/json.hpp"
#include "mm/layout.hpp"

namespace mm {

namespace pte = arch::pte;

namespace {

// Bytes one entry covers at a level (4 = PML4 ... 1 = PT), SDM Vol. 3A Figure 4-8..4-10.
constexpr u64 span_of(int level) { return u64{1} << (12 + 9 * (level - 1)); }
constexpr unsigned index_of(u64 va, int level) { return static_cast<unsigned>((va >> (12 + 9 * (level - 1))) & 511); }

constexpr u64 kLinearTop = u64{1} << 48;  // 4-level paging translates 48 bits (SDM 4.5)
constexpr u64 kLinearMask = kLinearTop - 1;

// Sign extension from bit 47, as QEMU's addr_canonical(): note 2^48 itself has bit 47
// clear and stays 0x0001000000000000.
constexpr u64 canonical(u64 a) { return (a & (u64{1} << 47)) ? (a | ~kLinearMask) : a; }

const char* level_name(int level) {
  switch (level) {
    case 4: return "pml4";
    case 3: return "pdpt";
    case 2: return "pd";
    case 1: return "pt";
  }
  return "?";
}

// Raw entry flags, fixed width (see pt_walk.hpp).
struct RawFlags {
  char s[11];
  explicit RawFlags(u64 e) {
    const char letters[] = "PWUTCADSGN";
    const u64 masks[] = {pte::kPresent.mask, pte::kWrite.mask,    pte::kUser.mask,  pte::kPwt.mask,
                         pte::kPcd.mask,     pte::kAccessed.mask, pte::kDirty.mask, pte::kPageSize.mask,
                         pte::kGlobal.mask,  pte::kNoExecute.mask};
    for (int i = 0; i < 10; ++i) s[i] = (e & masks[i]) ? letters[i] : '-';
    s[10] = '\0';
  }
};

// The PML4 from CR3 bits 12-51 (SDM Vol. 3A Table 4-12).
constexpr u64 pml4_of(u64 cr3) { return pte::kAddr.get(cr3); }

// Region layout in the 48-bit linear space QEMU and the page tables index, where the
// upper half simply follows the lower one (so a region ending at the top ends at 2^48).
struct RawRange {
  u64 start, end;
};
RawRange raw_range(const mm::layout::RegionDesc& r) {
  const u64 end = r.end & kLinearMask;  // 0 = the top of the address space
  return {r.start & kLinearMask, end == 0 ? kLinearTop : end};
}
constexpr usize kRegionCount = sizeof(mm::layout::kRegions) / sizeof(mm::layout::kRegions[0]);
static_assert(kRegionCount == 5, "mapped_bytes_by_region's out_bytes[5] follows mm::layout::kRegions");

// The labels of the seed regions overlapping raw [start, end), in order, or "unused":
// label(name) once per label.
template <typename Label>
void for_each_label(u64 start, u64 end, Label&& label) {
  bool any = false;
  for (const auto& r : mm::layout::kRegions) {
    RawRange rr = raw_range(r);
    if (rr.start < end && start < rr.end) {
      label(mm::layout::region_label(r.region));
      any = true;
    }
  }
  if (!any) label(mm::layout::region_label(mm::layout::Region::Unused));
}

// The same labels, comma-separated (text) or as a JSON array of strings.
void put_labels(lib::Sink& out, u64 start, u64 end) {
  bool first = true;
  for_each_label(start, end, [&](const char* l) {
    lib::format(out, "%s%s", first ? "" : ",", l);
    first = false;
  });
}
void json_labels(lib::Json& j, u64 start, u64 end) {
  j.begin_array();
  for_each_label(start, end, [&](const char* l) { j.str(l); });
  j.end_array();
}

// QEMU's protection value: P, U and W of the leaf ANDed with the levels above
// (target/i386/monitor.c mem_info_la48); 0 = not present.
constexpr u64 kProtMask = pte::kPresent.mask | pte::kWrite.mask | pte::kUser.mask;

// Visits the whole 48-bit space in address order, one call per entry that QEMU's
// mem_info_la48 passes to mem_print: visit(raw_va, span, prot, nx) with prot 0 for
// anything not present. Entries that the CPU would fault on as reserved, and tables
// PhysMem cannot give, count as not present and are counted in *skipped.
template <typename Visit>
void walk_space(lib::PhysMem& mem, u64 cr3, Visit&& visit, u64* skipped) {
  struct Level {
    static void run(lib::PhysMem& mem, u64 table, int level, u64 base, u64 up_prot, bool up_nx, Visit& visit,
                    u64* skipped) {
      const u64 span = span_of(level);
      // A table PhysMem cannot give at all counts once; entries are then read one by one
      // (no pointer is held across the recursion, so PhysMem may map through a window).
      if (mem.map(table, mm::layout::kPageSize) == nullptr) {
        ++*skipped;
        visit(base, span * pte::kEntries, u64{0}, false);
        return;
      }
      for (unsigned i = 0; i < pte::kEntries; ++i) {
        const u64 va = base + i * span;
        u64 e = 0;
        if (!mem.read64(table + i * 8, &e)) {
          ++*skipped;
          visit(va, span, u64{0}, false);
          continue;
        }
        if (!pte::kPresent.in(e)) {
          visit(va, span, u64{0}, false);
          continue;
        }
        const u64 prot = e & kProtMask & up_prot;
        const bool nx = up_nx || pte::kNoExecute.in(e);
        const bool ps = pte::kPageSize.in(e);
        if (level == 4 && ps) {
          ++*skipped;  // reserved (Table 4-15)
          visit(va, span, u64{0}, false);
        } else if ((level == 3 || level == 2) && ps) {
          if (e & (level == 3 ? pte::kRsvd1G : pte::kRsvd2M)) {  // Tables 4-16, 4-18
            ++*skipped;
            visit(va, span, u64{0}, false);
          } else {
            visit(va, span, prot, nx);
          }
        } else if (level == 1) {
          visit(va, span, prot, nx);
        } else {
          run(mem, pte::kAddr.get(e), level - 1, va, prot, nx, visit, skipped);
        }
      }
    }
  };
  Level::run(mem, pml4_of(cr3), 4, 0, kProtMask, false, visit, skipped);
}

}  // namespace

WalkResult walk(lib::PhysMem& mem, u64 cr3, u64 va) {
  WalkResult r{};
  r.fault = WalkResult::None;
  if (!mm::layout::is_canonical(va)) {
    r.fault = WalkResult::NonCanonical;
    return r;
  }
  u64 table = pml4_of(cr3);
  bool write = true, user = true, exec = true;
  for (int level = 4; level >= 1; --level) {
    const unsigned idx = index_of(va, level);
    u64 e = 0;
    if (!mem.read64(table + idx * 8, &e)) {
      r.fault = WalkResult::Unreadable;
      r.fault_table = table;
      return r;
    }
    r.steps[r.step_count++] = WalkStep{level, idx, table, e};
    if (!pte::kPresent.in(e)) {
      r.fault = WalkResult::NotPresent;
      return r;
    }
    const bool ps = pte::kPageSize.in(e);
    // Reserved bits make the CPU fault with PFEC.RSVD (SDM Vol. 3A 4.7) instead of
    // translating; report that rather than following a meaningless address.
    if ((level == 4 && ps) || (level == 3 && ps && (e & pte::kRsvd1G)) || (level == 2 && ps && (e & pte::kRsvd2M))) {
      r.fault = WalkResult::ReservedBit;
      return r;
    }
    write = write && pte::kWrite.in(e);
    user = user && pte::kUser.in(e);
    exec = exec && !pte::kNoExecute.in(e);
    if (level == 1 || ps) {
      const u64 size = span_of(level);
      const u64 frame = level == 3 ? pte::kAddr1G.get(e) : level == 2 ? pte::kAddr2M.get(e) : pte::kAddr.get(e);
      r.mapped = true;
      r.pa = frame | (va & (size - 1));
      r.page_size = size;
      r.write = write;
      r.user = user;
      r.exec = exec;
      return r;
    }
    table = pte::kAddr.get(e);
  }
  return r;  // not reached: level 1 always returns
}

namespace {

int step_count(const WalkResult& r) { return r.step_count < 0 ? 0 : r.step_count > 4 ? 4 : r.step_count; }

const char* page_size_name(u64 size) {
  return size == mm::layout::kHugePageSize ? "1G" : size == mm::layout::kLargePageSize ? "2M" : "4K";
}

// Effective flags of a translation: "rw-k" (see pt_walk.hpp).
struct EffectiveFlags {
  char s[5];
  explicit EffectiveFlags(const WalkResult& r)
      : s{'r', r.write ? 'w' : '-', r.exec ? 'x' : '-', r.user ? 'u' : 'k', '\0'} {}
};

const char* fault_name(WalkResult::Fault f) {
  switch (f) {
    case WalkResult::None: return nullptr;
    case WalkResult::NonCanonical: return "non-canonical";
    case WalkResult::NotPresent: return "not-present";
    case WalkResult::ReservedBit: return "reserved-bits";
    case WalkResult::Unreadable: return "unreadable";
  }
  return nullptr;
}

}  // namespace

void format_walk(lib::Sink& out, u64 va, const WalkResult& r) {
  int n = step_count(r);
  for (int i = 0; i < n; ++i) {
    const WalkStep& s = r.steps[i];
    lib::format(out, "%s[%u] 0x%016lx %s\n", level_name(s.level), s.index, s.entry, RawFlags(s.entry).s);
  }
  if (r.fault == WalkResult::None && r.mapped) {
    lib::format(out, "0x%016lx -> 0x%016lx %s %s\n", va, r.pa, page_size_name(r.page_size), EffectiveFlags(r).s);
    return;
  }
  const WalkStep* last = n > 0 ? &r.steps[n - 1] : nullptr;
  switch (r.fault) {
    case WalkResult::NonCanonical: lib::format(out, "error: 0x%016lx is not canonical\n", va); return;
    case WalkResult::NotPresent:
      if (last) {
        lib::format(out, "error: 0x%016lx not mapped (%s[%u] not present)\n", va, level_name(last->level), last->index);
        return;
      }
      break;
    case WalkResult::ReservedBit:
      if (last) {
        lib::format(out, "error: 0x%016lx not mapped (%s[%u] has reserved bits set)\n", va, level_name(last->level),
                    last->index);
        return;
      }
      break;
    case WalkResult::Unreadable:
      lib::format(out, "error: 0x%016lx not mapped (%s table at 0x%016lx unreadable)\n", va, level_name(4 - n),
                  r.fault_table);
      return;
    case WalkResult::None: break;
  }
  lib::format(out, "error: 0x%016lx not mapped\n", va);
}

void format_walk_json(lib::Sink& out, u64 va, const WalkResult& r) {
  const int n = step_count(r);
  const bool mapped = r.fault == WalkResult::None && r.mapped;
  lib::Json j(out);
  j.begin_object().member_addr("va", va);
  if (mapped) {
    j.member_addr("pa", r.pa).member("size", r.page_size).member("page", page_size_name(r.page_size));
    j.member("flags", EffectiveFlags(r).s);
  } else {
    j.key("pa").null().key("size").null().key("page").null().key("flags").null();
  }
  j.key("levels").begin_array();
  for (int i = 0; i < n; ++i) {
    const WalkStep& s = r.steps[i];
    j.begin_object().member("name", level_name(s.level)).member("index", s.index);
    j.member_hex("entry", s.entry, 16).member("flags", RawFlags(s.entry).s).end_object();
  }
  j.end_array().member("mapped", mapped);
  // Where the text says "error: ... not mapped (<level>[<index>] ...)": the same facts.
  j.key("fault");
  if (mapped) {
    j.null();
  } else {
    j.str(fault_name(r.fault) != nullptr ? fault_name(r.fault) : "not-mapped");
  }
  const WalkStep* last = n > 0 ? &r.steps[n - 1] : nullptr;
  const bool at_entry = (r.fault == WalkResult::NotPresent || r.fault == WalkResult::ReservedBit) && last;
  j.key("fault_level");
  if (at_entry) {
    j.str(level_name(last->level));
  } else if (r.fault == WalkResult::Unreadable) {
    j.str(level_name(4 - n));
  } else {
    j.null();
  }
  j.key("fault_index");
  if (at_entry) {
    j.num(last->index);
  } else {
    j.null();
  }
  j.key("fault_table");
  if (r.fault == WalkResult::Unreadable) {
    j.addr(r.fault_table);
  } else {
    j.null();
  }
  j.end_object();
  (void)j.finish();
}

void format_pml4(lib::Sink& out, lib::PhysMem& mem, u64 cr3) {
  const u64 pml4 = pml4_of(cr3);
  const u8* t = mem.map(pml4, mm::layout::kPageSize);
  if (t == nullptr) {
    lib::format(out, "error: PML4 at 0x%016lx unreadable\n", pml4);
    return;
  }
  lib::format(out, "PML4 at 0x%016lx: index va entry flags regions\n", pml4);
  for (unsigned i = 0; i < pte::kEntries; ++i) {
    u64 e;
    __builtin_memcpy(&e, t + i * 8, 8);
    if (!pte::kPresent.in(e)) continue;
    const u64 raw = u64{i} * mm::layout::kPml4Span;
    lib::format(out, "%u 0x%016lx 0x%016lx %s ", i, canonical(raw), e, RawFlags(e).s);
    put_labels(out, raw, raw + mm::layout::kPml4Span);
    if (pte::kPageSize.in(e)) lib::format(out, " !RSVD");  // PS is reserved here (Table 4-15)
    out.put('\n');
  }
}

void format_pml4_json(lib::Sink& out, lib::PhysMem& mem, u64 cr3) {
  const u64 pml4 = pml4_of(cr3);
  const u8* t = mem.map(pml4, mm::layout::kPageSize);
  lib::Json j(out);
  if (t == nullptr) {
    char msg[64];
    lib::snformat(msg, sizeof msg, "PML4 at 0x%016lx unreadable", pml4);
    j.begin_object().member("error", msg).end_object();
    (void)j.finish();
    return;
  }
  j.begin_object().member_addr("pml4", pml4).key("entries").begin_array();
  for (unsigned i = 0; i < pte::kEntries; ++i) {
    u64 e;
    __builtin_memcpy(&e, t + i * 8, 8);
    if (!pte::kPresent.in(e)) continue;
    const u64 raw = u64{i} * mm::layout::kPml4Span;
    // end: exclusive, canonical; the last entry's wraps to 0 as layout's text prints it.
    j.begin_object().member("index", i).member_addr("va", canonical(raw));
    j.member_addr("end", canonical(raw) + mm::layout::kPml4Span).member_hex("entry", e, 16);
    j.member("flags", RawFlags(e).s).key("regions");
    json_labels(j, raw, raw + mm::layout::kPml4Span);
    j.member("reserved", pte::kPageSize.in(e)).end_object();
  }
  j.end_array().end_object();
  (void)j.finish();
}

namespace {

constexpr u64 kNxKey = u64{1} << 63;  // maps -v also splits runs on XD: part of the key

// One run of `maps`: raw [start, end) in the 48-bit space, prot as QEMU's (kNxKey added
// for an NX run when verbose).
struct MapRun {
  u64 start, end, prot;
  bool user() const { return (prot & pte::kUser.mask) != 0; }
  bool write() const { return (prot & pte::kWrite.mask) != 0; }
  bool exec() const { return (prot & kNxKey) == 0; }
  // "-rw" as QEMU prints it: u or -, r, w or -.
  struct Prot {
    char s[4];
  };
  Prot prot_text() const { return Prot{{user() ? 'u' : '-', 'r', write() ? 'w' : '-', '\0'}}; }
};

// mem_print() of QEMU's target/i386/monitor.c: a run starts at the first present entry
// and ends where the protection changes. run(MapRun) once per run in address order;
// returns the entries skipped (see format_maps), or -1 when the PML4 is unreadable.
template <typename Run>
i64 for_each_run(lib::PhysMem& mem, u64 cr3, bool verbose, Run&& run) {
  constexpr u64 kNone = ~u64{0};
  u64 start = kNone;
  u64 last = 0;
  auto emit = [&](u64 end, u64 prot) {
    if (prot == last) return;
    if (start != kNone) run(MapRun{start, end, last});
    start = prot != 0 ? end : kNone;
    last = prot;
  };
  if (mem.map(pml4_of(cr3), mm::layout::kPageSize) == nullptr) return -1;
  u64 skipped = 0;
  walk_space(
      mem, cr3,
      [&](u64 va, u64, u64 prot, bool nx) { emit(va, (verbose && prot != 0 && nx) ? (prot | kNxKey) : prot); },
      &skipped);
  emit(kLinearTop, 0);  // QEMU's final flush at 1 << 48
  return static_cast<i64>(skipped);
}

}  // namespace

void format_maps(lib::Sink& out, lib::PhysMem& mem, u64 cr3, bool verbose) {
  const i64 skipped = for_each_run(mem, cr3, verbose, [&](const MapRun& r) {
    lib::format(out, "%016lx-%016lx %016lx %s", canonical(r.start), canonical(r.end), canonical(r.end - r.start),
                r.prot_text().s);
    if (verbose) {
      lib::format(out, " %c ", r.exec() ? 'x' : '-');
      put_labels(out, r.start, r.end);
      if (r.exec() && r.write()) lib::format(out, " !WX");
      if (r.user()) lib::format(out, " !USER");
    }
    out.put('\n');
  });
  if (skipped < 0) {
    lib::format(out, "error: PML4 at 0x%016lx unreadable\n", pml4_of(cr3));
  } else if (skipped != 0) {
    lib::format(out, "error: %ld page-table entries skipped (table unreadable or reserved bits set)\n", skipped);
  }
}

void format_maps_json(lib::Sink& out, lib::PhysMem& mem, u64 cr3, bool verbose) {
  lib::Json j(out);
  if (mem.map(pml4_of(cr3), mm::layout::kPageSize) == nullptr) {
    char msg[64];
    lib::snformat(msg, sizeof msg, "PML4 at 0x%016lx unreadable", pml4_of(cr3));
    j.begin_object().member("error", msg).end_object();
    (void)j.finish();
    return;
  }
  j.begin_object().key("runs").begin_array();
  const i64 skipped = for_each_run(mem, cr3, verbose, [&](const MapRun& r) {
    j.begin_object().member_addr("start", canonical(r.start)).member_addr("end", canonical(r.end));
    j.member("size", r.end - r.start).member("flags", r.prot_text().s);
    if (verbose) {
      j.member("exec", r.exec()).key("regions");
      json_labels(j, r.start, r.end);
      j.key("warnings").begin_array();
      if (r.exec() && r.write()) j.str("!WX");
      if (r.user()) j.str("!USER");
      j.end_array();
    }
    j.end_object();
  });
  j.end_array().member("skipped", static_cast<u64>(skipped < 0 ? 0 : skipped)).end_object();
  (void)j.finish();
}

void mapped_bytes_by_region(lib::PhysMem& mem, u64 cr3, u64 out_bytes[5]) {
  for (usize i = 0; i < kRegionCount; ++i) out_bytes[i] = 0;
  u64 skipped = 0;
  walk_space(
      mem, cr3,
      [&](u64 va, u64 span, u64 prot, bool) {
        if (prot == 0) return;
        for (usize i = 0; i < kRegionCount; ++i) {
          RawRange rr = raw_range(mm::layout::kRegions[i]);
          u64 lo = va > rr.start ? va : rr.start;
          u64 hi = va + span < rr.end ? va + span : rr.end;
          if (lo < hi) out_bytes[i] += hi - lo;
        }
      },
      &skipped);
}

}  // namespace mm
