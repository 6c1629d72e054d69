"""Interrupt accounting and the IDT (issue 13.5).

Oracles: `idt` against the kernel ELF's symbol table (llvm-nm: each gate's handler is the
isr_stub_<vector> the kernel assembled for it) and against the IDT's bytes as QEMU reads
them (HMP `info registers` for IDTR, `gva2gpa` + `xp` for the table, decoded here per
SDM Vol. 3A Figure 6-8); `intr` against a counter kept on another path (`percpu`'s
`ipis:`, bumped by the cross-call handler itself) and against faults we cause.
"""
import re

import pytest

import machine  # noqa: E402
from machine import Config, Machine

KERNEL_VECTORS = {0xF0: "cross-call", 0xF1: "apic-timer", 0xF2: "tlb-flush", 0xF3: "debug-wake", 0xFE: "apic-error",
                  0xFF: "spurious"}


@pytest.fixture(scope="module")
def m():
    with Machine(Config(machine="q35", cpu="max", mem="512M", smp="4"), name="debug-idt") as mach:
        mach.boot()
        yield mach


def elf_symbols():
    """{name: address} of the ELF's symbols (machine.elf_symbols, llvm-nm)."""
    return {e.name: e.addr for e in machine.elf_symbols()}


def idt_rows(lines):
    rows = {}
    for ln in lines:
        mm = re.match(r"(\d+)\s+0x([0-9a-f]{16}) (\w+)\s+(\d+)\s+(\d+)\s+([p-]) 0x([0-9a-f]{4}) (\S+) \((.*)\)$", ln)
        if mm:
            rows[int(mm.group(1))] = dict(handler=int(mm.group(2), 16), type=mm.group(3), ist=int(mm.group(4)),
                                          dpl=int(mm.group(5)), present=mm.group(6) == "p",
                                          sel=int(mm.group(7), 16), sym=mm.group(8), name=mm.group(9))
    return rows


def decode_gate(lo, hi):
    return dict(handler=(lo & 0xFFFF) | ((lo >> 32) & 0xFFFF0000) | ((hi & 0xFFFFFFFF) << 32),
                sel=(lo >> 16) & 0xFFFF, ist=(lo >> 32) & 7,
                type={0xE: "interrupt", 0xF: "trap"}.get((lo >> 40) & 0xF, "invalid"),
                dpl=(lo >> 45) & 3, present=bool((lo >> 47) & 1))


def test_idt_handlers_are_the_elf_stubs(m):
    lines = m.cmd("idt")
    rows = idt_rows(lines)
    want = set(range(32)) | set(KERNEL_VECTORS)
    assert set(rows) == want, lines
    syms = elf_symbols()
    for v, r in rows.items():
        assert r["handler"] == syms[f"isr_stub_{v}"], (v, r)
        assert r["sym"] == f"isr_stub_{v}+0x0"
        assert r["present"] and r["type"] == "interrupt" and r["dpl"] == 0 and r["sel"] == 0x08
        assert r["ist"] == {8: 1, 2: 2, 18: 3}.get(v, 0), (v, r)
    assert rows[13]["name"] == "#GP general protection"
    assert all(rows[v]["name"] == n for v, n in KERNEL_VECTORS.items())
    assert lines[-1] == f"present: {len(want)} of 256 gates"
    assert len(idt_rows(m.cmd("idt all"))) == 256


def test_idt_equals_qemu_memory(m):
    lines = m.cmd("idt all")
    rows = idt_rows(lines)
    base, limit = re.search(r"idtr base 0x([0-9a-f]{16}) limit 0x([0-9a-f]{4})", lines[0]).groups()
    base, limit = int(base, 16), int(limit, 16)
    for cpu in (0, 2):
        m.hmp(f"cpu {cpu}")
        qb, ql = re.search(r"^IDT=\s+([0-9a-f]+) ([0-9a-f]+)", m.hmp("info registers"), re.M).groups()
        assert (int(qb, 16), int(ql, 16)) == (base, limit), f"cpu {cpu}"
    m.hmp("cpu 0")
    gpa = int(re.search(r"gpa: 0x([0-9a-f]+)", m.hmp(f"gva2gpa {base:#x}")).group(1), 16)
    words = []
    dump = m.hmp(f"xp /{(limit + 1) // 8}gx {gpa:#x}")
    for ln in dump.splitlines():
        if ":" in ln:
            words += [int(w, 16) for w in ln.split(":", 1)[1].split()]
    assert len(words) == (limit + 1) // 8
    for v in range(256):
        q = decode_gate(words[2 * v], words[2 * v + 1])
        r = rows[v]
        assert {k: r[k] for k in q} == q, (v, r, q)


def intr_counts(m, cpu):
    counts = {}
    for ln in m.cmd(f"intr {cpu}"):
        f = ln.split()
        if f and f[0].isdigit():
            assert int(f[0]) == cpu
            assert int(f[2], 16) == int(f[1])
            counts[int(f[1])] = int(f[3])
    return counts


def percpu_ipis(m, cpu):
    return int(next(ln for ln in m.cmd(f"percpu {cpu}") if ln.startswith("ipis: ")).split()[1])


def test_intr_counts_cross_calls(m):
    a = intr_counts(m, 1).get(0xF0, 0)
    p1 = percpu_ipis(m, 1)  # one cross call itself (it reads gs_base on cpu 1)
    assert "50 round trips" in m.cmd("ipi 1 50")[0]
    b = intr_counts(m, 1).get(0xF0, 0)
    p2 = percpu_ipis(m, 1)
    assert b - a >= 50
    # Both counters see every IPI-delivered cross call: the 50 pings and the first
    # percpu's own call fall between the intr reads, the 50 pings and the second
    # percpu's call between the ipis reads.
    assert b - a == 51 and p2 - p1 == 51, (a, b, p1, p2)
    assert any(ln.split()[:2] == ["1", "240"] and ln.endswith("cross-call") for ln in m.cmd("intr"))


def test_intr_counts_a_guarded_fault(m):
    before = intr_counts(m, 0).get(13, 0)
    out = m.cmd("crash gp guarded")
    assert any("vector 13 #GP" in ln for ln in out), out
    assert intr_counts(m, 0).get(13, 0) == before + 1


@pytest.mark.parametrize("args", ["x", "99", "1 2", "-1"])
def test_intr_bad_arguments(m, args):
    lines = m.cmd(f"intr {args}")
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


@pytest.mark.parametrize("args", ["x", "all 1", "3"])
def test_idt_bad_arguments(m, args):
    lines = m.cmd(f"idt {args}")
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_help_entries(m):
    names = {ln.split()[0] for ln in m.cmd("help") if ln.strip()}
    assert {"idt", "intr"} <= names
    assert any("intr 1" in ln for ln in m.cmd("help intr"))
    assert any("idt all" in ln for ln in m.cmd("help idt"))
