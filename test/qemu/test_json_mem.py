"""The `-j` views of the memory and system group (pml4, walk, maps, layout, physmap, dmesg,
acpi, mptable, timing, timing sources) against their text form in the same boot, field
by field: the text is parsed with regexes and every JSON member compared with it, rows
counted. Then the JSON types (addresses "0x" + 16 digits, numbers as ints) and one bad
input per view, which must give exactly one {"error": ...} line with the text's message.
Outside oracles where they are cheap: QEMU's `info mem` for maps -j, `gva2gpa` for
walk -j, CR3 from `info registers` for pml4 -j.
"""
import json
import re

import pytest

import kmon
from machine import Config, Machine, parse_info_mem

CFG = Config(machine="q35", cpu="max", mem="512M", smp="4")
ADDR = re.compile(r"0x[0-9a-f]{16}")


@pytest.fixture(scope="module")
def m():
    with Machine(CFG, name="json-mem") as mach:
        mach.boot()
        yield mach


def is_addr(v) -> bool:
    return isinstance(v, str) and len(v) == 18 and ADDR.fullmatch(v) is not None


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def a(v: str) -> int:
    assert is_addr(v), v
    return int(v, 16)


def raw_json(m: Machine, line: str) -> dict:
    """The -j form's output as printed: exactly one line, parsed (errors included)."""
    out = [ln for ln in m.cmd(kmon.json_line(line)) if ln.strip()]
    assert len(out) == 1, out
    doc = json.loads(out[0])
    assert isinstance(doc, dict)
    return doc


def expect_error(m: Machine, line: str) -> None:
    """A bad input: the text's one error line, and under -j {"error": the same message}."""
    text = m.cmd(line)
    assert len(text) == 1 and text[0].startswith("error: "), text
    doc = raw_json(m, line)
    assert doc == {"error": text[0][len("error: "):]}
    with pytest.raises(kmon.KmonError):
        m.json(line)


# ---------------------------------------------------------------------------- page tables

def test_pml4(m):
    text = m.cmd("pml4")
    doc = m.json("pml4")
    head = re.fullmatch(r"PML4 at (0x[0-9a-f]{16}): index va entry flags regions", text[0])
    assert head and doc["pml4"] == head.group(1)
    # Outside oracle: the table CR3 points at (QEMU's info registers).
    assert a(doc["pml4"]) == m.cr3(0) & ~0xFFF
    rows = [re.fullmatch(r"(\d+) (0x[0-9a-f]{16}) (0x[0-9a-f]{16}) ([A-Z-]{10}) (\S+)( !RSVD)?", ln)
            for ln in text[1:]]
    assert all(rows), text
    assert len(doc["entries"]) == len(rows) >= 2
    for r, e in zip(rows, doc["entries"]):
        assert is_int(e["index"]) and e["index"] == int(r.group(1))
        assert e["va"] == r.group(2) and is_addr(e["end"])
        assert (a(e["end"]) - a(e["va"])) % (1 << 64) == 512 << 30
        assert e["entry"] == r.group(3) and e["flags"] == r.group(4)
        assert e["regions"] == r.group(5).split(",")
        assert e["reserved"] is (r.group(6) is not None)
    # The explicit-cr3 form reads the same table.
    assert m.json(f"pml4 {doc['pml4']}") == doc


def walk_pair(m, va: str):
    return m.cmd(f"walk {va}"), m.json(f"walk {va}")


LEVEL = re.compile(r"(pml4|pdpt|pd|pt)\[(\d+)\] (0x[0-9a-f]{16}) ([A-Z-]{10})")


def check_levels(text, doc):
    levels = [LEVEL.fullmatch(ln) for ln in text[:-1]]
    assert all(levels), text
    assert len(doc["levels"]) == len(levels)
    for t, j in zip(levels, doc["levels"]):
        assert j == {"name": t.group(1), "index": int(t.group(2)), "entry": t.group(3), "flags": t.group(4)}


def test_walk_mapped_agrees_with_text_and_gva2gpa(m):
    for va in ("ffffffff80201000", "ffff800000001234", "kernel_main", "ffff800000200000"):
        text, doc = walk_pair(m, va)
        check_levels(text, doc)
        last = re.fullmatch(r"(0x[0-9a-f]{16}) -> (0x[0-9a-f]{16}) (4K|2M|1G) ([r-][w-][x-][uk])", text[-1])
        assert last, text
        assert doc["va"] == last.group(1) and doc["pa"] == last.group(2) and doc["flags"] == last.group(4)
        assert doc["page"] == last.group(3)
        assert is_int(doc["size"]) and doc["size"] == {"4K": 4096, "2M": 2 << 20, "1G": 1 << 30}[last.group(3)]
        assert doc["mapped"] is True and doc["fault"] is None and doc["fault_level"] is None
        q = m.hmp(f"gva2gpa {doc['va']}")
        assert a(doc["pa"]) == int(re.search(r"gpa: (?:0x)?([0-9a-f]+)", q).group(1), 16)


def test_walk_unmapped_is_an_answer_with_the_texts_facts(m):
    for va, fault in (("0", "not-present"), ("ffffff8000001000", "not-present"),
                      ("8000000000000000", "non-canonical")):
        text, doc = walk_pair(m, va)
        assert text[-1].startswith("error: ")
        check_levels(text, doc)
        assert doc["mapped"] is False and doc["fault"] == fault
        assert doc["pa"] is None and doc["size"] is None and doc["flags"] is None and is_addr(doc["va"])
        where = re.search(r"not mapped \((\w+)\[(\d+)\] not present\)", text[-1])
        if fault == "not-present":
            assert where and doc["fault_level"] == where.group(1) and doc["fault_index"] == int(where.group(2))
        else:
            assert "is not canonical" in text[-1] and doc["levels"] == [] and doc["fault_level"] is None


MAPS = re.compile(r"([0-9a-f]{16})-([0-9a-f]{16}) ([0-9a-f]{16}) ([u-]r[w-])(?: ([x-]) (\S+)((?: !\w+)*))?")


def test_maps_and_maps_verbose(m):
    for verbose in (False, True):
        line = "maps -v" if verbose else "maps"
        text = [MAPS.fullmatch(ln) for ln in m.cmd(line)]
        assert all(text)
        doc = m.json(line)
        assert doc["skipped"] == 0
        assert len(doc["runs"]) == len(text) > 5
        for t, r in zip(text, doc["runs"]):
            assert a(r["start"]) == int(t.group(1), 16) and a(r["end"]) == int(t.group(2), 16)
            assert is_int(r["size"]) and r["size"] == int(t.group(3), 16)
            assert r["flags"] == t.group(4)
            if verbose:
                assert r["exec"] is (t.group(5) == "x")
                assert r["regions"] == t.group(6).split(",")
                assert r["warnings"] == t.group(7).split()
            else:
                assert set(r) == {"start", "end", "size", "flags"}
    # Outside oracle: QEMU's info mem, run by run.
    qemu = parse_info_mem(m.hmp("info mem"))
    runs = m.json("maps")["runs"]
    assert [(q.start, q.end) for q in qemu] == [(a(r["start"]), a(r["end"])) for r in runs]


def test_layout(m):
    text = m.cmd("layout")
    assert text[0].split() == ["start", "end", "size", "pml4", "mapped", "backed", "region"]
    rows = [re.fullmatch(r"(0x[0-9a-f]{16}) (0x[0-9a-f]{16}) (\d+) (TiB|GiB|MiB) +(\d+)(?:-(\d+))? +(\d+) +(\d+) +(.+)",
                         ln) for ln in text[1:-1]]
    assert all(rows), text
    doc = m.json("layout")
    assert len(doc["regions"]) == len(rows) == 5
    unit = {"TiB": 1 << 40, "GiB": 1 << 30, "MiB": 1 << 20}
    for t, r in zip(rows, doc["regions"]):
        assert r["start"] == t.group(1) and r["end"] == t.group(2)
        assert is_int(r["size"]) and r["size"] // unit[t.group(4)] == int(t.group(3))
        first = int(t.group(5))
        assert r["pml4"] == [first, int(t.group(6)) if t.group(6) else first]
        assert r["mapped"] == int(t.group(7)) and r["backed"] == int(t.group(8))
        assert r["region"] == t.group(9)
    assert [r["name"] for r in doc["regions"]] == ["user", "directmap", "percpu", "kernel", "devices"]


# ---------------------------------------------------------------------------- physmap

def test_physmap(m):
    text = m.cmd("physmap")
    doc = m.json("physmap")
    split = text.index("kernel use of physical memory:")
    fw = [re.fullmatch(r"(0x[0-9a-f]{16})-(0x[0-9a-f]{16}) (\w+)", ln) for ln in text[:split]]
    assert all(fw)
    assert [(e["start"], e["end"], e["type"]) for e in doc["map"]] == [f.groups() for f in fw]
    use = [re.fullmatch(r"  (0x[0-9a-f]{16})-(0x[0-9a-f]{16}) (\S+)", ln) for ln in text[split + 1:-1]]
    assert all(use)
    assert [(u["start"], u["end"], u["use"]) for u in doc["kernel"]] == [u.groups() for u in use]
    tot = re.fullmatch(r"totals: usable (\d+) KiB, kernel image (\d+) KiB, allocated (\d+) KiB((?: \([\w-]+ \d+ KiB\))*)"
                       r", free (\d+) KiB", text[-1])
    assert tot, text[-1]
    t = doc["totals"]
    assert all(is_int(t[k]) for k in ("usable", "image", "allocated", "free"))
    assert t["usable"] // 1024 == int(tot.group(1)) and t["image"] // 1024 == int(tot.group(2))
    assert t["allocated"] // 1024 == int(tot.group(3)) and t["free"] // 1024 == int(tot.group(5))
    by = dict(re.findall(r"\(([\w-]+) (\d+) KiB\)", tot.group(4)))
    assert {k: v // 1024 for k, v in t["allocated_by"].items()} == {k: int(v) for k, v in by.items()}


# ---------------------------------------------------------------------------- dmesg


def test_dmesg(m):
    m.cmd("cpus")
    text = m.cmd_raw("dmesg 3").split("\r\n")
    assert text[-1] == "" and len(text) == 4
    # The JSON form escapes '>' (\u003e), so it holds no prompt and Machine.json reads it
    # like any view.
    out = m.cmd("dmesg -j 6")
    assert len(out) == 1 and "kmon> " not in out[0] and "kmon\\u003e " in out[0]
    lines = json.loads(out[0])["lines"]
    # The log since `dmesg 3`: its own line, the 3 lines it printed, the marker's line and
    # its error; what the text printed is what the JSON holds, line for line.
    assert len(lines) == 6 and all(isinstance(s, str) for s in lines)
    assert lines[0] == "kmon> dmesg 3" and lines[1:4] == text[:3] and lines[4].startswith("kmon> nosuch")
    assert lines[5].startswith("error: ")
    # The whole log: from the banner on, as many lines as the text form shows.
    # A line of KiBs (longer than the buffer the kernel reads the ring with) comes
    # back whole, as printed.
    maps = m.json("maps -v")
    last = m.json("dmesg 4")["lines"]
    compact = lambda d: json.dumps(d, separators=(",", ":"))  # noqa: E731  (the kernel's spacing)
    assert last == ["kmon> dmesg -j 6", out[0], "kmon> maps -j -v", compact(maps)]
    assert len(last[3]) > 2048
    # The text form two lines later: the same 4 lines, then `dmesg -j 4` and its line.
    text = m.cmd_raw("dmesg 6").split("\r\n")[:-1]
    assert text == last + ["kmon> dmesg -j 4", compact({"lines": last}).replace(">", "\\u003e")]
    # The whole log (this boot printed far less than the ring holds): from the banner on.
    assert m.json("dmesg")["lines"][1].startswith("kmon: x86-64 SMP kernel")


# ---------------------------------------------------------------------------- acpi, mptable

def test_acpi(m):
    text = m.cmd("acpi")
    doc = m.json("acpi")
    assert doc["ignored"] is False and doc["none"] is None
    assert text[0] == f"RSDP from {doc['rsdp_source']}"
    rsdp = re.fullmatch(r"RSDP (0x[0-9a-f]{16}) rev=(\d+) oem=(\S*) root=(RSDT|XSDT) (0x[0-9a-f]{16})", text[1])
    assert rsdp, text[1]
    assert doc["rsdp"] == {"address": rsdp.group(1), "revision": int(rsdp.group(2)), "oem": rsdp.group(3),
                           "root": rsdp.group(4), "root_address": rsdp.group(5)}
    tables = [re.fullmatch(r"(\S{4}) (0x[0-9a-f]{16}) len=(\d+) rev=(\d+) checksum=(ok|BAD) oem=(\S*)", ln)
              for ln in text[2:]]
    tables = [t for t in tables if t]
    assert len(doc["tables"]) == len(tables) >= 4
    for t, j in zip(tables, doc["tables"]):
        assert j == {"signature": t.group(1), "address": t.group(2), "length": int(t.group(3)),
                     "revision": int(t.group(4)), "checksum": t.group(5), "oem": t.group(6)}
    hpet = next(re.fullmatch(r"hpet: base 0x([0-9a-f]+) block-id (0x[0-9a-f]{8}) number (\d+) min-tick (\d+) "
                             r"page-protection (0x[0-9a-f]+)", ln) for ln in text if ln.startswith("hpet:"))
    h = doc["hpet"]
    assert a(h["base"]) == int(hpet.group(1), 16) and h["block_id"] == hpet.group(2)
    assert (h["number"], h["min_tick"], h["page_protection"]) == (int(hpet.group(3)), int(hpet.group(4)), hpet.group(5))
    pm = next(re.fullmatch(r"pm-timer: port 0x([0-9a-f]+) (\d+)-bit \(FADT (\w+)\)", ln)
              for ln in text if ln.startswith("pm-timer:"))
    assert doc["pm_timer"] == {"port": int(pm.group(1), 16), "address": None, "bits": int(pm.group(2)),
                               "field": pm.group(3)}
    madt = doc["madt"]
    hdr = next(re.fullmatch(r"MADT lapic=0x([0-9a-f]+) flags=(0x[0-9a-f]+) cpus=(\d+) enabled=(\d+) dropped=(\d+) "
                            r"rejected=(\d+)", ln) for ln in text if ln.startswith("MADT "))
    assert a(madt["lapic"]) == int(hdr.group(1), 16) and madt["flags"] == hdr.group(2)
    assert [madt[k] for k in ("cpu_count", "enabled", "dropped", "rejected")] == [int(g) for g in hdr.groups()[2:]]
    cpus = [re.fullmatch(r"cpu (\d+) apic (\d+) (enabled|disabled)( online-capable)?( x2apic)?", ln)
            for ln in text if ln.startswith("cpu ")]
    assert len(madt["cpus"]) == len(cpus) == CFG.ncpus  # outside oracle: QEMU's -smp
    for t, c in zip(cpus, madt["cpus"]):
        assert c == {"uid": int(t.group(1)), "apic": int(t.group(2)), "enabled": t.group(3) == "enabled",
                     "online_capable": t.group(4) is not None, "x2apic": t.group(5) is not None}
    ioapics = [re.fullmatch(r"ioapic id (\d+) addr 0x([0-9a-f]+) gsi (\d+)", ln) for ln in text if ln.startswith("ioapic")]
    assert [(i["id"], a(i["address"]), i["gsi"]) for i in madt["ioapics"]] == \
        [(int(t.group(1)), int(t.group(2), 16), int(t.group(3))) for t in ioapics]
    ovr = [re.fullmatch(r"override bus (\d+) irq (\d+) gsi (\d+) flags (0x[0-9a-f]+)", ln)
           for ln in text if ln.startswith("override")]
    assert [(o["bus"], o["irq"], o["gsi"], o["flags"]) for o in madt["overrides"]] == \
        [(int(t.group(1)), int(t.group(2)), int(t.group(3)), t.group(4)) for t in ovr]
    nmis = [re.fullmatch(r"nmi cpu (all|\d+) lint (\d+) flags (0x[0-9a-f]+)( x2apic)?", ln)
            for ln in text if ln.startswith("nmi ")]
    assert [(n["cpu"], n["lint"], n["flags"], n["x2apic"]) for n in madt["nmis"]] == \
        [(t.group(1) if t.group(1) == "all" else int(t.group(1)), int(t.group(2)), t.group(3), t.group(4) is not None)
         for t in nmis]


def test_mptable_not_read_with_a_madt(m):
    text = m.cmd("mptable")
    doc = m.json("mptable")
    t = re.fullmatch(r"MP table: not read \(the CPU list came from (.+)\)", text[0])
    assert t and doc == {"read": False, "cpu_list_source": t.group(1)}


def test_mptable_read_without_acpi():
    """The MP table is read only without a MADT: its own boot (pc, acpi=off)."""
    cfg = Config(machine="pc,acpi=off", mem="256M", smp="2,sockets=2")
    with Machine(cfg, name="json-mem-mptable") as mp:
        mp.boot()
        text = mp.cmd("mptable")
        doc = mp.json("mptable")
    assert doc["read"] is True and doc["none"] is None and doc["parse_error"] is None
    fp = re.fullmatch(r"MP floating pointer (0x[0-9a-f]{16}) in (.+), spec 1\.(\d+), configuration table(, IMCR present)?",
                      text[0])
    assert fp, text[0]
    f = doc["floating"]
    assert (f["address"], f["area"], f["spec_rev"], f["imcr"]) == \
        (fp.group(1), fp.group(2), int(fp.group(3)), fp.group(4) is not None)
    cf = re.fullmatch(r"MP configuration table (0x[0-9a-f]{16}) len=(\d+) ext=(\d+) entries=(\d+) oem=(\S+) "
                      r"product=(\S+)", text[1])
    assert doc["config"] == {"address": cf.group(1), "length": int(cf.group(2)), "ext_length": int(cf.group(3)),
                             "entries": int(cf.group(4)), "oem": cf.group(5), "product": cf.group(6)}
    t = doc["tables"]
    hdr = re.fullmatch(r"MP lapic=0x([0-9a-f]+) cpus=(\d+) enabled=(\d+) dropped=(\d+) rejected=(\d+)", text[2])
    assert a(t["lapic"]) == int(hdr.group(1), 16)
    assert [t[k] for k in ("cpu_count", "enabled", "dropped", "rejected")] == [int(g) for g in hdr.groups()[1:]]
    cpus = [re.fullmatch(r"cpu (\d+) apic (\d+) (enabled|disabled)( bsp)?", ln) for ln in text if ln.startswith("cpu ")]
    assert len(t["cpus"]) == len(cpus) == 2  # outside oracle: -smp 2,sockets=2
    assert t["cpus"] == [{"uid": int(c.group(1)), "apic": int(c.group(2)), "enabled": c.group(3) == "enabled",
                          "bsp": c.group(4) is not None} for c in cpus]
    assert t["buses"] == [{"id": int(b.group(1)), "type": b.group(2)}
                          for b in (re.fullmatch(r"bus (\d+) (\S+)", ln) for ln in text if ln.startswith("bus "))]
    assert [(i["id"], a(i["address"])) for i in t["ioapics"]] == \
        [(int(x.group(1)), int(x.group(2), 16))
         for x in (re.fullmatch(r"ioapic id (\d+) addr 0x([0-9a-f]+)", ln) for ln in text if ln.startswith("ioapic"))]
    last = re.fullmatch(r"interrupts io=(\d+) local=(\d+); extended entries (\d+); ioapics disabled (\d+); "
                        r"dropped (\d+)", text[-1])
    assert [t[k] for k in ("io_interrupts", "local_interrupts", "ext_entries", "ioapics_disabled",
                           "entries_dropped")] == [int(g) for g in last.groups()]


# ---------------------------------------------------------------------------- timing

def test_timing(m):
    """Every figure of `timing` is fixed at boot, so text and JSON agree exactly."""
    text = m.cmd("timing")
    doc = m.json("timing")
    c = doc["clock"]
    clock = re.match(r"clock: TSC (\d+) Hz calibrated against (\w+) \((\d+) ticks at (\d+) Hz, (\d+) us\); "
                     r"APIC timer (\d+) Hz", text[0])
    assert clock, text[0]
    assert c["calibrated"] is True and c["why"] is None and c["source"] == clock.group(2)
    assert [c[k] for k in ("tsc_hz", "ref_ticks", "ref_hz", "window_us", "lapic_hz")] == \
        [int(clock.group(i)) for i in (1, 3, 4, 5, 6)]
    assert all(is_int(c[k]) for k in ("tsc_hz", "ref_ticks", "ref_hz", "window_us", "lapic_hz"))
    i = text.index(next(ln for ln in text if ln.startswith("boot timeline")))
    phases = [re.fullmatch(r" +(\d+\.\d{3}) us  (.+)", ln) for ln in text[i + 1:i + 1 + len(doc["boot"])]]
    assert all(phases) and len(phases) == 7
    for t, p in zip(phases, doc["boot"]):
        assert p["phase"] == t.group(2) and isinstance(p["us"], (int, float))
        assert f"{p['us']:.3f}" == t.group(1)
    b = doc["bringup"]
    head = re.fullmatch(r"bring-up, from the first INIT \(INIT-to-SIPI wait (\d+) us\):", text[i + 8])
    assert head and b["init_delay_us"] == int(head.group(1))
    # "<us> us  <event>" lines; a CPU that did not arrive has "-" and no "us" (none here).
    figures = {}
    for ln in text[i + 9:-1]:
        mm = re.fullmatch(r" +(\d+\.\d{3}) us  (.+)", ln)
        assert mm, ln
        figures[mm.group(2)] = mm.group(1)
    fmt = lambda v: f"{v:.3f}"  # noqa: E731
    assert fmt(b["init_sent_us"]) == figures["INIT sent to every AP"]
    assert fmt(b["sipi1_us"]) == figures["first SIPI round sent"]
    assert fmt(b["sipi2_us"]) == figures["second SIPI round sent"]
    assert fmt(b["last_online_us"]) == figures["last AP online"]
    assert fmt(b["wait_over_us"]) == figures["arrival wait over"]
    assert fmt(b["flushed_us"]) == figures["identity mapping removed, TLBs flushed, MTRRs/PAT synced"]
    assert len(b["cpus"]) == CFG.ncpus - 1
    for cpu in b["cpus"]:
        assert cpu["state"] == "online"
        assert fmt(cpu["us"]) == figures[f"cpu {cpu['index']} (apic {cpu['apic']}) online"]
    counts = re.fullmatch(r"(\d+) started, (\d+) online, (\d+) failed", text[-1])
    assert [b["started"], b["online"], b["failed"]] == [int(g) for g in counts.groups()]


def test_timing_sources(m):
    """Measured anew at each call: only the stable members are compared with the text
    (names, states, which columns are "-", notes, the boot line); the figures are checked
    for type and against each other (ppm from tsc_hz and the boot rate)."""
    text = m.cmd("timing sources", timeout=120)
    doc = m.json("timing sources", timeout=120)
    assert text[0].split() == ["source", "state", "tsc_hz", "lapic_hz", "ref_hz", "window_us", "vs_boot_ppm", "note"]
    rows = [ln.split(None, 7) for ln in text[1:-1]]
    assert len(doc["sources"]) == len(rows) == 4
    boot = re.fullmatch(r"boot: tsc (\d+) Hz from (\w+), lapic timer (\d+) Hz", text[-1])
    assert doc["boot"] == {"tsc_hz": int(boot.group(1)), "source": boot.group(2), "lapic_hz": int(boot.group(3))}
    for r, s in zip(rows, doc["sources"]):
        assert s["source"] == r[0] and s["state"] == r[1]
        note = r[7] if len(r) > 7 else None
        if s["state"] == "absent":
            assert all(s[k] is None for k in ("tsc_hz", "lapic_hz", "ref_hz", "window_us", "vs_boot_ppm"))
            assert s["note"] == note
            continue
        assert is_int(s["tsc_hz"]) and is_int(s["vs_boot_ppm"])
        for k, col in (("lapic_hz", 3), ("ref_hz", 4), ("window_us", 5)):
            assert (s[k] is None) == (r[col] == "-") and (s[k] is None or is_int(s[k]))
        assert s["note"] == note
        want = (s["tsc_hz"] - doc["boot"]["tsc_hz"]) * 1_000_000 / doc["boot"]["tsc_hz"]
        assert abs(s["vs_boot_ppm"] - want) <= 1
    assert any(s["note"] == "calibrated the TSC at boot" and s["source"] == doc["boot"]["source"]
               for s in doc["sources"])


# ---------------------------------------------------------------------------- errors, types

@pytest.mark.parametrize("line", ["pml4 123", "pml4 1 2", "walk zzz", "walk", "maps -x", "layout x", "physmap x",
                                  "dmesg 0", "acpi x", "mptable x", "timing x", "timing sources x"])
def test_bad_input_is_one_error_document(m, line):
    expect_error(m, line)


def test_addresses_are_full_width_strings(m):
    for r in m.json("maps -v")["runs"]:
        assert is_addr(r["start"]) and is_addr(r["end"]) and is_int(r["size"])
    for e in m.json("pml4")["entries"]:
        assert is_addr(e["va"]) and is_int(e["index"]) and e["entry"].startswith("0x") and len(e["entry"]) == 18
    for r in m.json("layout")["regions"]:
        assert is_addr(r["start"]) and is_addr(r["end"]) and all(is_int(r[k]) for k in ("size", "mapped", "backed"))
    doc = m.json("physmap")
    assert all(is_addr(e["start"]) and is_addr(e["end"]) for e in doc["map"] + doc["kernel"])
    acpi = m.json("acpi")
    assert all(is_addr(t["address"]) and is_int(t["length"]) for t in acpi["tables"])
    assert is_addr(acpi["madt"]["lapic"]) and is_addr(acpi["hpet"]["base"])
