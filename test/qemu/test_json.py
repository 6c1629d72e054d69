"""The monitor's JSON twins (`<view> -j`) as a whole: every view the README lists takes -j
(help marks it), `-j` on a command without a view and bad input under -j give exactly one
`{"error": ...}` line and the prompt, the output is one line of valid JSON whatever the
terminal width, gdb's `monitor <view> -j` gets the same document, and python/kmon.py (the
module users script with) boots, runs and parses. Each group's views are checked against
their text in test_json_cpus.py, test_json_mem.py and test_json_hw.py."""

import json
import re
import subprocess
import sys

import pytest

from machine import ROOT, Config, Machine

sys.path.insert(0, str(ROOT / "python"))
import kmon  # noqa: E402

# The views issue 20 names, and the other read-only listings that have a twin.
VIEWS = ["cpus", "percpu", "pml4", "walk", "maps", "physmap", "layout", "regs", "bt", "lapic", "ioapic", "idt",
         "intr", "acpi", "timing", "ipi", "sym", "x", "xp", "dis", "dmesg", "rdmsr", "breaks", "mptable"]
# Commands that change the machine or its flow: no -j.
NOT_VIEWS = ["wedge", "crash", "break", "watch", "delete", "continue", "step", "reboot", "halt", "wrmsr", "gdb", "busy"]


@pytest.fixture(scope="module")
def m():
    mach = Machine(Config(smp="3", mem="256M"), name="json")
    mach.boot()
    yield mach
    mach.close()


def help_rows(m):
    rows = {}
    for ln in m.cmd("help"):
        f = ln.split()
        if f:
            rows[f[0]] = ln
    return rows


def test_every_view_is_marked_in_help_and_nothing_else(m):
    rows = help_rows(m)
    for v in VIEWS:
        assert v in rows, v
        assert rows[v].endswith("(-j: JSON)"), rows[v]
    for c in NOT_VIEWS:
        assert c in rows, c
        assert "(-j: JSON)" not in rows[c], rows[c]
    for v in VIEWS:
        first = m.cmd(f"help {v}")[0]
        assert first.startswith(f"{v} [-j]"), first


@pytest.mark.parametrize("line", ["wedge -j 1", "help -j", "crash -j pf 1", "reboot -j"])
def test_j_on_a_command_without_a_view_is_one_error_line(m, line):
    out = m.cmd(line)
    assert len(out) == 1, out
    doc = json.loads(out[0])
    assert list(doc) == ["error"] and "has no -j view" in doc["error"], doc
    assert m.alive()


@pytest.mark.parametrize("line", ["cpus -j extra", "regs -j 99", "walk -j", "walk -j nosuchsymbol", "x/gx -j 0x1",
                                  "sym -j no_such_symbol_here", "lapic -j 99", "rdmsr -j 0", "percpu -j 77",
                                  "ipi -j 99", "dmesg -j x", "bt -j 42"])
def test_bad_input_under_j_is_one_error_document(m, line):
    out = m.cmd(line)
    assert len(out) == 1, (line, out)
    doc = json.loads(out[0])
    assert list(doc) == ["error"] and isinstance(doc["error"], str) and doc["error"], (line, doc)
    # The same input without -j: the text error says the same thing.
    text = m.cmd(line.replace(" -j", "", 1).replace("-j ", "", 1))
    assert text == ["error: " + doc["error"]], (line, text, doc)


def test_each_view_is_one_line_of_json(m):
    """Whatever the view's size (maps and idt are long), one line that parses, an object."""
    for line in ["cpus", "percpu all", "pml4", "walk ffffffff80200000", "maps", "physmap", "layout", "regs 1", "bt 1",
                 "lapic", "ioapic", "idt", "intr", "acpi", "timing", "ipi 1 5", "sym ap_main", "x/4gx ap_main",
                 "xp/4gx 0x1000", "dis ap_main", "dmesg 5", "rdmsr 0 0x1b", "breaks", "mptable"]:
        raw = m.cmd(kmon.json_line(line))
        assert len(raw) == 1, (line, raw[:5])
        doc = json.loads(raw[0])
        assert isinstance(doc, dict), (line, doc)
        assert "error" not in doc or line == "mptable", (line, doc)  # q35 under SeaBIOS has an MP table
        # Addresses in the contract's form wherever a member is named like one.
        for k, v in _walk(doc):
            # (bt's `end` is the chain's end reason, a sentence: only 0x values are addresses.)
            if k in ("addr", "address", "va", "slot", "rip", "pc", "start", "end", "base") and isinstance(v, str) \
                    and v.startswith("0x"):
                assert re.fullmatch(r"0x[0-9a-f]{16}", v), (line, k, v)


def _walk(doc, key=None):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _walk(v, k)
    elif isinstance(doc, list):
        for v in doc:
            yield from _walk(v, key)
    else:
        yield key, doc


def test_cpus_text_and_json_agree(m):
    """The view the others are modelled on: every column of every row."""
    rows = [ln.split() for ln in m.cmd("cpus")[1:]]
    doc = m.json("cpus")["cpus"]
    assert len(doc) == len(rows)
    for r, d in zip(rows, doc):
        assert d["index"] == int(r[0]) and d["apic"] == int(r[1]) and d["state"] == r[2]
        assert d["slot"] == r[3] and d["arrival_us"] == int(r[4]) and d["lapic"] == r[5] and d["uid"] == int(r[6])
        assert d["bootstrap"] == (r[-1] == "(bootstrap)")
    # Against QEMU: the APIC IDs its topology gives the vCPUs.
    from test_smp import expected_apic_ids
    assert sorted(d["apic"] for d in doc) == sorted(expected_apic_ids("3", m.hmp("info hotpluggable-cpus")))


def test_python_module_boots_runs_and_parses():
    """python/kmon.py as a user runs it: the CLI prints each view's JSON, the class returns
    objects and raises KmonError with the kernel's message."""
    r = subprocess.run(["/usr/bin/python3", str(ROOT / "python" / "kmon.py"), "--smp", "2", "cpus",
                        "walk ffffffff80200000"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    docs = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [c["index"] for c in docs[0]["cpus"]] == [0, 1]
    assert docs[1]["va"] == "0xffffffff80200000", docs[1]
    with kmon.Kmon(smp=2) as k:
        assert k.boot_text.count("kmon: x86-64 SMP kernel") == 1
        assert len(k.json("cpus")["cpus"]) == 2
        with pytest.raises(kmon.KmonError, match="no cpu"):
            k.json("regs 7")
        assert k.cmd("cpus")[0].startswith("index apic state")
    bad = subprocess.run(["/usr/bin/python3", str(ROOT / "python" / "kmon.py"), "--smp", "1", "regs 5"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and bad.stderr.startswith("error: "), bad.stderr
