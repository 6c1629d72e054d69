"""Local APIC and I/O APIC state (issue 13.4), against QEMU's own view of the same
registers: HMP `cpu N` + `info lapic` (LVTs, timer, SPIV, ICR/ICR2, ESR, ISR/IRR,
APR/TPR/DFR/LDR/PPR of that vCPU) in xAPIC (`-cpu max,-x2apic`) and x2APIC (`-cpu max`)
mode, and `info pic` (QEMU prints each I/O APIC's ID, version and redirection table).

`lapic n` reads CPU n's APIC on CPU n, inside the cross-call interrupt: for a CPU other
than the monitor's, vector 0xf0 is in service then (ISR bit 240, PPR 0xf0), which QEMU,
asked afterwards, no longer shows; the comparison allows exactly that.
"""
import re

import pytest

from machine import Config, Machine

CONFIGS = {"x2apic": "max", "xapic": "max,-x2apic"}
XCALL = 0xF0


@pytest.fixture(scope="module", params=list(CONFIGS))
def m(request):
    mode = request.param
    with Machine(Config(machine="q35", cpu=CONFIGS[mode], mem="512M", smp="4"), name=f"debug-apic-{mode}") as mach:
        mach.boot()
        mach.mode = mode
        yield mach


def lapic(m, args=""):
    d = {}
    for ln in m.cmd(f"lapic {args}".strip()):
        name, value = ln.split(" ", 1)
        assert name not in d, ln
        d[name] = value
    return d


def bits(vectors):
    v = 0
    for n in vectors:
        v |= 1 << n
    return v


def qemu_lapic(m, cpu):
    m.hmp(f"cpu {cpu}")
    out = m.hmp("info lapic")
    m.hmp("cpu 0")
    q = {}
    for name in ("LVT0", "LVT1", "LVTPC", "LVTERR", "LVTTHMR", "LVTT", "SPIV", "ICR", "ICR2", "ESR"):
        q[name] = int(re.search(rf"^{name}\s+0x([0-9a-f]+)", out, re.M).group(1), 16)
    t = re.search(r"^Timer\s+DCR=0x([0-9a-f]+).*initial_count = (\d+) current_count = (\d+)", out, re.M)
    q["DCR"], q["initial"], q["current"] = int(t.group(1), 16), int(t.group(2)), int(t.group(3))
    for name in ("ISR", "IRR"):
        line = re.search(rf"^{name}\s+(.*)$", out, re.M).group(1)
        q[name] = bits(int(n) for n in re.findall(r"\b(\d+)", line))
    for name in ("APR", "TPR", "DFR", "LDR", "PPR"):
        q[name] = int(re.search(rf"\b{name} 0x([0-9a-f]+)", out).group(1), 16)
    return q


def hexval(s):
    assert re.fullmatch(r"0x[0-9a-f]+", s), s
    return int(s, 16)


@pytest.mark.parametrize("cpu", [0, 1, 3])
def test_lapic_against_info_lapic(m, cpu):
    k = lapic(m, str(cpu))
    q = qemu_lapic(m, cpu)
    remote = cpu != 0  # the monitor runs on cpu 0
    assert k["cpu"] == str(cpu)
    assert k["mode"] == m.mode
    assert bool(hexval(k["apic_base"]) & 0x400) == (m.mode == "x2apic")
    assert hexval(k["id"]) == cpu  # default topology: APIC ID = vCPU index
    assert hexval(k["version"]) == 0x50014  # QEMU's APIC: version 0x14, LVTs up to 5
    for ours, theirs in (("lvt_timer", "LVTT"), ("lvt_thermal", "LVTTHMR"), ("lvt_perf", "LVTPC"),
                         ("lvt_lint0", "LVT0"), ("lvt_lint1", "LVT1"), ("lvt_error", "LVTERR"),
                         ("svr", "SPIV"), ("esr", "ESR"), ("tpr", "TPR"), ("ldr", "LDR")):
        assert hexval(k[ours]) == q[theirs], (ours, k[ours], q[theirs])
    assert hexval(k["timer_divide"]) == q["DCR"]
    assert hexval(k["timer_initial"]) == q["initial"]
    if q["initial"] == 0:
        assert hexval(k["timer_current"]) == q["current"] == 0
    icr = hexval(k["icr"])
    assert icr & 0xFFFFFFFF == q["ICR"] and icr >> 32 == q["ICR2"], (k["icr"], q["ICR"], q["ICR2"])
    for name in ("isr", "irr", "tmr"):
        assert re.fullmatch(r"0x[0-9a-f]{64}", k[name]), k[name]
    isr = hexval(k["isr"])
    assert isr == q["ISR"] | (bits([XCALL]) if remote else 0)
    assert hexval(k["irr"]) == q["IRR"]
    assert hexval(k["tmr"]) == 0  # nothing level-triggered here
    assert hexval(k["ppr"]) == (max(q["PPR"], XCALL) if remote else q["PPR"])
    if m.mode == "x2apic":
        assert k["dfr"] == "-" and k["apr"] == "-"
        # SDM Vol. 3A 11.12.10.2: in x2APIC mode the LDR is derived from the ID.
        assert hexval(k["ldr"]) == ((cpu >> 4) << 16) | (1 << (cpu & 0xF))
    else:
        assert hexval(k["dfr"]) >> 28 == q["DFR"]  # QEMU keeps the model, bits 28-31
        assert hexval(k["apr"]) == q["APR"]


def test_lapic_default_is_this_cpu(m):
    assert lapic(m)["cpu"] == "0"
    a, b = lapic(m), lapic(m, "0")
    assert {k: v for k, v in a.items() if k != "icr"} == {k: v for k, v in b.items() if k != "icr"}


def test_lapic_names(m):
    want = {"mode", "id", "version", "tpr", "ppr", "ldr", "dfr", "svr", "esr", "icr", "lvt_timer", "lvt_thermal",
            "lvt_perf", "lvt_lint0", "lvt_lint1", "lvt_error", "timer_initial", "timer_current", "timer_divide",
            "isr", "irr", "tmr"}
    assert want <= set(lapic(m, "2"))


def qemu_ioapics(m):
    out = m.hmp("info pic")
    chips = []
    for block in re.split(r"^(?=ioapic\d*: )", out, flags=re.M)[1:]:
        head = re.match(r"ioapic\d*: ver=0x([0-9a-f]+) id=0x([0-9a-f]+)", block)
        pins = {}
        for p in re.finditer(r"^\s+pin (\d+)\s+0x([0-9a-f]{16}) dest=(\w+) vec=(\d+)\s+(active-hi|active-lo)\s+"
                             r"(edge|level)\s+(masked)?\s*(\w+)\s+(physical|logical)", block, re.M):
            pins[int(p.group(1))] = dict(raw=int(p.group(2), 16), vec=int(p.group(4)),
                                         polarity="high" if p.group(5) == "active-hi" else "low",
                                         trigger=p.group(6), mask="masked" if p.group(7) else "open",
                                         delivery=p.group(8), dest_mode=p.group(9))
        chips.append(dict(ver=int(head.group(1), 16), id=int(head.group(2), 16), pins=pins))
    return chips


def test_ioapic_against_info_pic(m):
    lines = m.cmd("ioapic")
    ours = []
    for ln in lines:
        h = re.match(r"ioapic (\d+) id 0x([0-9a-f]+) \((?:madt|mptable) 0x([0-9a-f]+)\) address 0x([0-9a-f]{16}) "
                     r"version 0x([0-9a-f]+) entries (\d+) gsi (\d+)-(\d+)$", ln)
        if h:
            ours.append(dict(id=int(h.group(2), 16), madt=int(h.group(3), 16), addr=int(h.group(4), 16),
                             ver=int(h.group(5), 16), n=int(h.group(6)), pins={}))
            continue
        p = re.match(r"(\d+)\s+(\d+)\s+0x([0-9a-f]{16}) 0x([0-9a-f]{2})\s+(\w+)\s+(physical|logical)\s+(high|low)\s+"
                     r"(edge|level)\s+(masked|open)\s+0x([0-9a-f]{2})$", ln)
        if p:
            ours[-1]["pins"][int(p.group(1))] = dict(raw=int(p.group(3), 16), vec=int(p.group(4), 16),
                                                     delivery=p.group(5), dest_mode=p.group(6),
                                                     polarity=p.group(7), trigger=p.group(8), mask=p.group(9),
                                                     dest=int(p.group(10), 16))
    theirs = qemu_ioapics(m)
    assert len(ours) == len(theirs) == 1, lines  # q35 and pc have one I/O APIC
    for o, t in zip(ours, theirs):
        assert o["addr"] == 0xFEC00000
        assert (o["id"], o["ver"]) == (t["id"], t["ver"])
        assert o["id"] == o["madt"]
        assert o["n"] == len(o["pins"]) == len(t["pins"]) == 24
        for pin, tp in t["pins"].items():
            op = o["pins"][pin]
            assert op["raw"] == tp["raw"], pin
            for f in ("vec", "polarity", "trigger", "mask", "dest_mode"):
                assert op[f] == tp[f], (pin, f, op, tp)
            assert tp["delivery"].startswith(op["delivery"]) or op["delivery"] == "lowest", (pin, op, tp)
            assert op["dest"] == op["raw"] >> 56 and op["vec"] == op["raw"] & 0xFF


@pytest.mark.parametrize("line", ["lapic x", "lapic 99", "lapic 1 2", "lapic -1", "ioapic 1"])
def test_bad_arguments(m, line):
    lines = m.cmd(line)
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_help_entries(m):
    names = {ln.split()[0] for ln in m.cmd("help") if ln.strip()}
    assert {"lapic", "ioapic"} <= names
    assert any("lapic 2" in ln for ln in m.cmd("help lapic"))
