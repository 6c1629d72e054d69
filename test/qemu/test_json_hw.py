"""The -j views of the examine and hardware commands (group hw): x/<fmt>, xp/<fmt>, plain x
and xp, sym, dis, lapic, ioapic, idt, intr, rdmsr.

One boot for the module. Each view runs in its text form and its JSON form in the same
boot, and the two must agree field by field (the text parsed with a regex, row counts
included); the JSON's types are checked (addresses "0x" and 16 digits, numbers ints); a
bad input gives exactly one {"error": ...} line with the text form's message. Oracles:
HMP `info registers` (IDTR, EFER), HMP `info lapic` (SPIV, LVTERR) and llvm-nm (a
symbol's address and the handler of an IDT gate).
"""
import json
import re

import pytest

import kmon
import machine  # noqa: E402
from machine import Config, Machine

HEX16 = re.compile(r"0x[0-9a-f]{16}")


@pytest.fixture(scope="module")
def m():
    with Machine(Config(machine="q35", cpu="max", mem="512M", smp=4), name="json-hw") as mach:
        mach.boot()
        yield mach


# -- helpers ---------------------------------------------------------------------------

def is_addr(v):
    return isinstance(v, str) and len(v) == 18 and HEX16.fullmatch(v) is not None


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_hex(v, digits=None):
    if not isinstance(v, str) or not re.fullmatch(r"0x[0-9a-f]+", v):
        return False
    return digits is None or len(v) == 2 + digits


def unescape(body):
    """The monitor's C-style escapes (x/c, x/s) back to characters (bytes as code points)."""
    out, i = [], 0
    simple = {"n": "\n", "r": "\r", "t": "\t", "'": "'", '"': '"', "\\": "\\"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
        elif body[i + 1] == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        else:
            out.append(simple[body[i + 1]])
            i += 2
    return "".join(out)


def symbol_text(d):
    """A JSON symbol/offset pair as the text prints it after an address: name+0xoff."""
    return None if d["symbol"] is None else f"{d['symbol']}+{d['offset']:#x}"


def elf_symbols():
    """{name: address} of the ELF's symbols (machine.elf_symbols, llvm-nm)."""
    return {e.name: e.addr for e in machine.elf_symbols()}


def both(m, line):
    """(text lines, JSON document) of one view, run back to back."""
    return m.cmd(line), m.json(line)


# -- x/<fmt> and xp/<fmt> --------------------------------------------------------------

VALUE_LINE = re.compile(r"^0x([0-9a-f]{16}):((?: \S+)+)$")


def text_units(lines, unit):
    """x/<unit><x|d|u>: (address, value text) per unit, 16 bytes a line."""
    units = []
    for ln in lines:
        mm = VALUE_LINE.match(ln)
        assert mm, ln
        base = int(mm.group(1), 16)
        for i, v in enumerate(mm.group(2).split()):
            units.append((base + i * unit, v))
    return units


def check_header(doc, addr, fmt, unit, count):
    assert set(doc) == {"address", "format", "unit", "count", "units"}, doc
    assert is_addr(doc["address"]) and int(doc["address"], 16) == addr
    assert doc["format"] == fmt and doc["unit"] == unit and doc["count"] == count
    for u in doc["units"]:
        assert is_addr(u["address"]), u


@pytest.mark.parametrize("spec,where,count,unit,fmt", [
    ("4gx", "smp::g_cpus", 4, 8, "x"),
    ("3hx", "ap_main", 3, 2, "x"),
    ("5wx", "ap_main", 5, 4, "x"),
    ("20bx", "ap_main", 20, 1, "x"),
    ("4hd", "ap_main", 4, 2, "d"),
    ("2gd", "smp::g_cpus", 2, 8, "d"),
    ("8bu", "ap_main", 8, 1, "u"),
    ("3wu", "ap_main", 3, 4, "u"),
])
def test_x_numbers(m, spec, where, count, unit, fmt):
    lines, doc = both(m, f"x/{spec} {where}")
    start = int(m.cmd(f"sym {where}")[0].split()[0], 16)
    check_header(doc, start, fmt, unit, count)
    text = text_units(lines, unit)
    assert len(text) == len(doc["units"]) == count
    for (a, v), u in zip(text, doc["units"]):
        assert int(u["address"], 16) == a
        if fmt == "x":
            assert is_hex(u["value"], 2 * unit) and u["value"] == v
        else:
            assert is_int(u["value"]) and u["value"] == int(v)
            assert (u["value"] < 0) == (fmt == "d" and v.startswith("-"))


def test_x_chars(m):
    lines, doc = both(m, "x/20c ap_main")  # machine code: printable and \x.. bytes
    check_header(doc, int(doc["address"], 16), "c", 1, 20)
    chars = []
    for ln in lines:
        mm = re.match(r"^0x([0-9a-f]{16}): (.*)$", ln)
        assert mm, ln
        chars += [(int(mm.group(1), 16) + i, unescape(c)) for i, c in
                  enumerate(re.findall(r"'((?:\\x[0-9a-f]{2}|\\.|[^'\\]))'", mm.group(2)))]
    assert len(chars) == len(doc["units"]) == 20
    for (a, c), u in zip(chars, doc["units"]):
        assert int(u["address"], 16) == a and u["value"] == c and len(c) == 1
    # Against x/bu of the same bytes.
    assert [ord(u["value"]) for u in doc["units"]] == [u["value"] for u in m.json("x/20bu ap_main")["units"]]


def test_x_addresses_with_symbols(m):
    # A command's table entry: pointers to strings (no symbol) and to its handler (one).
    lines, doc = both(m, "x/8a kMonitorCommand_x")
    check_header(doc, int(doc["address"], 16), "a", 8, 8)
    assert len(lines) == len(doc["units"]) == 8
    named = 0
    for ln, u in zip(lines, doc["units"]):
        mm = re.fullmatch(r"0x([0-9a-f]{16}): (0x[0-9a-f]{16})(?: <(.*)>)?", ln)
        assert mm, ln
        assert int(u["address"], 16) == int(mm.group(1), 16)
        assert is_addr(u["value"]) and u["value"] == mm.group(2)
        want = mm.group(3)
        if want is None:
            assert u["symbol"] is None and u["offset"] is None
        else:
            named += 1
            assert is_int(u["offset"])
            assert want == (u["symbol"] if u["offset"] == 0 else symbol_text(u))
    assert named >= 1
    assert any(u["symbol"] is not None and "cmd_x" in u["symbol"] for u in doc["units"])


def test_x_strings(m):
    lines, doc = both(m, "x/3s kXHelp")
    check_header(doc, int(doc["address"], 16), "s", 1, 3)
    assert len(lines) == len(doc["units"]) == 3
    for ln, u in zip(lines, doc["units"]):
        mm = re.fullmatch(r'0x([0-9a-f]{16}): "(.*)"(\.\.\.)?', ln)
        assert mm, ln
        assert int(u["address"], 16) == int(mm.group(1), 16)
        assert u["value"] == unescape(mm.group(2))
        assert u["truncated"] is (mm.group(3) is not None)
    assert doc["units"][0]["value"].startswith("x <va> [len]: bytes in hex and ascii")
    assert "\n" in doc["units"][0]["value"]


INSN_LINE = re.compile(r"^0x([0-9a-f]{16})(?: (.+)\+0x([0-9a-f]+))?: ((?:[0-9a-f]{2} )*[0-9a-f]{2})  (.*)$")


def check_insns(lines, units):
    assert len(lines) == len(units) and units
    for ln, u in zip(lines, units):
        mm = INSN_LINE.match(ln)
        assert mm, ln
        assert set(u) == {"address", "symbol", "offset", "bytes", "text"}, u
        assert is_addr(u["address"]) and int(u["address"], 16) == int(mm.group(1), 16)
        if mm.group(2) is None:
            assert u["symbol"] is None and u["offset"] is None
        else:
            assert u["symbol"] == mm.group(2) and is_int(u["offset"]) and u["offset"] == int(mm.group(3), 16)
        assert u["bytes"] == mm.group(4).replace(" ", "")
        assert u["text"] == mm.group(5)
    # Consecutive: each instruction starts where the last one's bytes end.
    for a, b in zip(units, units[1:]):
        assert int(b["address"], 16) == int(a["address"], 16) + len(a["bytes"]) // 2


def test_x_insns(m):
    # kernel::ksyms::lookup calls and branches: targets named as llvm-objdump names them.
    lines, doc = both(m, "x/i kernel::ksyms::lookup 16")
    check_header(doc, int(doc["address"], 16), "i", None, 16)
    check_insns(lines, doc["units"])
    assert any("<" in u["text"] for u in doc["units"]), "no annotated branch"
    assert doc["units"][0]["symbol"].startswith("kernel::ksyms::lookup(") and doc["units"][0]["offset"] == 0


def test_xp_values_and_real_mode_code(m):
    lines, doc = both(m, "xp/4gx 0x1000")  # the AP trampoline
    check_header(doc, 0x1000, "x", 8, 4)
    text = text_units(lines, 8)
    assert [(int(u["address"], 16), u["value"]) for u in doc["units"]] == text
    lines, doc = both(m, "xp/i16 0x1000 6")
    check_header(doc, 0x1000, "i16", None, 6)
    check_insns(lines, doc["units"])
    assert all(u["symbol"] is None for u in doc["units"])  # physical code has no symbols
    assert doc["units"][0]["text"] == "cli"


# -- plain x and xp, sym, dis -----------------------------------------------------------

def check_dump(lines, doc, addr, length):
    assert set(doc) == {"address", "length", "lines"}
    assert int(doc["address"], 16) == addr and doc["length"] == length
    assert len(lines) == len(doc["lines"])
    for ln, row in zip(lines, doc["lines"]):
        mm = re.fullmatch(r"0x([0-9a-f]{16}):((?: [0-9a-f]{2})+)\s+\|(.*)\|", ln)
        assert mm, ln
        assert is_addr(row["address"]) and int(row["address"], 16) == int(mm.group(1), 16)
        assert row["bytes"] == mm.group(2).replace(" ", "")
        assert row["ascii"] == mm.group(3)
    assert sum(len(r["bytes"]) // 2 for r in doc["lines"]) == length


def test_plain_x_and_xp(m):
    lines, doc = both(m, "x ap_main 40")
    check_dump(lines, doc, int(m.cmd("sym ap_main")[0].split()[0], 16), 40)
    assert doc["lines"][0]["bytes"].startswith("55")  # pushq %rbp
    lines, doc = both(m, "xp 0x1000 20")
    check_dump(lines, doc, 0x1000, 20)
    assert doc["lines"][0]["bytes"].startswith("fa")  # cli


def test_sym_both_forms(m):
    lines, doc = both(m, "sym ap_main")
    mm = re.fullmatch(r"0x([0-9a-f]{16}) (\d+) (.*)", lines[0])
    assert len(lines) == 1 and mm, lines
    assert set(doc) == {"address", "size", "name"}
    assert is_addr(doc["address"]) and int(doc["address"], 16) == int(mm.group(1), 16)
    assert is_int(doc["size"]) and doc["size"] == int(mm.group(2)) > 0
    assert doc["name"] == mm.group(3) == "ap_main"
    assert int(doc["address"], 16) == elf_symbols()["ap_main"]  # oracle: the ELF
    lines, doc = both(m, "sym ap_main+0x11")
    mm = re.fullmatch(r"0x([0-9a-f]{16}) (.*)\+0x([0-9a-f]+)", lines[0])
    assert len(lines) == 1 and mm, lines
    assert set(doc) == {"address", "name", "offset"}
    assert int(doc["address"], 16) == int(mm.group(1), 16) == elf_symbols()["ap_main"] + 0x11
    assert doc["name"] == mm.group(2) and doc["offset"] == int(mm.group(3), 16) == 0x11


def test_dis(m):
    lines, doc = both(m, "dis kernel::ksyms::lookup")
    mm = re.fullmatch(r"(.*): 0x([0-9a-f]{16}) (\d+) bytes", lines[0])
    assert mm, lines[0]
    assert set(doc) == {"name", "address", "size", "instructions"}
    assert doc["name"] == mm.group(1)
    assert is_addr(doc["address"]) and int(doc["address"], 16) == int(mm.group(2), 16)
    assert is_int(doc["size"]) and doc["size"] == int(mm.group(3))
    check_insns(lines[1:], doc["instructions"])
    last = doc["instructions"][-1]
    assert int(last["address"], 16) + len(last["bytes"]) // 2 == int(doc["address"], 16) + doc["size"]
    assert last["text"] == "retq"


# -- lapic, ioapic ----------------------------------------------------------------------

def qemu_lapic(m, cpu):
    m.hmp(f"cpu {cpu}")
    out = m.hmp("info lapic")
    m.hmp("cpu 0")
    return {name: int(re.search(rf"^{name}\s+0x([0-9a-f]+)", out, re.M).group(1), 16) for name in ("SPIV", "LVTERR")}


@pytest.mark.parametrize("arg", ["", "1", "3"])
def test_lapic(m, arg):
    # Stable between the two reads: the timer is masked and idle, and both reads are the
    # same cross call (a remote CPU shows vector 0xf0 in service both times).
    lines, doc = both(m, f"lapic {arg}".strip())
    text = dict(ln.split(" ", 1) for ln in lines)
    assert list(doc) == list(text), "members: the text's names, in its order"
    assert is_int(doc["cpu"]) and doc["cpu"] == int(text["cpu"]) == int(arg or 0)
    assert doc["mode"] == text["mode"] == "x2apic"
    for name, v in text.items():
        if name in ("cpu", "mode"):
            continue
        if v == "-":
            assert doc[name] is None, name
        else:
            assert is_hex(doc[name]) and doc[name] == v, name
    for name in ("isr", "irr", "tmr"):
        assert is_hex(doc[name], 64)
    assert doc["apr"] is None and doc["dfr"] is None  # x2APIC has neither
    q = qemu_lapic(m, doc["cpu"])
    assert int(doc["svr"], 16) == q["SPIV"] and int(doc["lvt_error"], 16) == q["LVTERR"]


def test_ioapic(m):
    lines, doc = both(m, "ioapic")
    assert list(doc) == ["ioapics"]
    chips, rows = [], []
    for ln in lines:
        h = re.fullmatch(r"ioapic (\d+) id (0x[0-9a-f]+) \((\w+) (0x[0-9a-f]+)\) address (0x[0-9a-f]{16}) "
                         r"version (0x[0-9a-f]{2}) entries (\d+) gsi (\d+)-(\d+)", ln)
        r = re.fullmatch(r"(\d+)\s+(\d+)\s+(0x[0-9a-f]{16}) (0x[0-9a-f]{2})\s+(\w+)\s+(\w+)\s+(\w+)\s+(\w+)\s+(\w+)\s+"
                         r"(0x[0-9a-f]{2})", ln)
        if h:
            chips.append((h.groups(), []))
        elif r:
            chips[-1][1].append(r.groups())
    assert len(chips) == len(doc["ioapics"]) >= 1
    for (h, rows), c in zip(chips, doc["ioapics"]):
        assert c["mapped"] is True
        assert (str(c["index"]), c["id"], c["listed"], c["listed_id"], c["address"], c["version"], str(c["entries"]),
                str(c["gsi_first"]), str(c["gsi_last"])) == h
        assert is_addr(c["address"]) and is_int(c["entries"])
        assert len(rows) == len(c["redirections"]) == c["entries"]
        for t, e in zip(rows, c["redirections"]):
            assert all(is_int(e[k]) for k in ("pin", "gsi", "vector"))
            assert is_hex(e["entry"], 16) and is_hex(e["dest"], 2)
            assert (str(e["pin"]), str(e["gsi"]), e["entry"], f"{e['vector']:#04x}", e["delivery"], e["dest_mode"],
                    e["polarity"], e["trigger"], e["mask"], e["dest"]) == t
            assert e["vector"] == int(e["entry"], 16) & 0xFF


# -- idt, intr --------------------------------------------------------------------------

IDT_ROW = re.compile(r"(\d+)\s+0x([0-9a-f]{16}) (\w+)\s+(\d+)\s+(\d+)\s+([p-]) (0x[0-9a-f]{4}) (\S+) \((.*)\)$")


@pytest.mark.parametrize("arg", ["", "all"])
def test_idt(m, arg):
    lines, doc = both(m, f"idt {arg}".strip())
    h = re.fullmatch(r"idtr base 0x([0-9a-f]{16}) limit (0x[0-9a-f]{4}) \((\d+) gates\)", lines[0])
    f = re.fullmatch(r"present: (\d+) of (\d+) gates", lines[-1])
    assert h and f, (lines[0], lines[-1])
    assert set(doc) == {"base", "limit", "count", "gates", "present"}
    assert is_addr(doc["base"]) and int(doc["base"], 16) == int(h.group(1), 16)
    assert doc["limit"] == h.group(2) and doc["count"] == int(h.group(3)) == int(f.group(2))
    assert is_int(doc["present"]) and doc["present"] == int(f.group(1))
    rows = [IDT_ROW.fullmatch(ln) for ln in lines[2:-1]]
    assert all(rows) and len(rows) == len(doc["gates"])
    for r, g in zip(rows, doc["gates"]):
        assert is_int(g["vec"]) and g["vec"] == int(r.group(1))
        assert is_addr(g["handler"]) and int(g["handler"], 16) == int(r.group(2), 16)
        assert (g["type"], g["ist"], g["dpl"], g["p"], g["sel"]) == (r.group(3), int(r.group(4)), int(r.group(5)),
                                                                     r.group(6) == "p", r.group(7))
        assert (symbol_text(g) or "?") == r.group(8)
        assert (g["name"] or "-") == r.group(9)
    assert doc["present"] == sum(g["p"] for g in doc["gates"]) == 38
    assert len(doc["gates"]) == (256 if arg else 38)
    # Oracles: IDTR as QEMU has it; a gate's handler is the stub the ELF names.
    regs = m.hmp("info registers")
    base, limit = re.search(r"^IDT=\s*([0-9a-f]+) ([0-9a-f]+)", regs, re.M).groups()
    assert int(doc["base"], 16) == int(base, 16) and int(doc["limit"], 16) == int(limit, 16)
    g14 = next(g for g in doc["gates"] if g["vec"] == 14)
    assert int(g14["handler"], 16) == elf_symbols()["isr_stub_14"] and g14["name"] == "#PF page fault"


def intr_rows(lines):
    assert lines[0].split() == ["cpu", "vec", "hex", "count", "name"]
    rows = {}
    for ln in lines[1:]:
        cpu, vec, hx, count, name = ln.split(None, 4)
        assert int(hx, 16) == int(vec)
        rows[(int(cpu), int(vec))] = (int(count), name)
    return rows


@pytest.mark.parametrize("arg", ["", "2"])
def test_intr(m, arg):
    m.cmd("lapic 2")  # a cross call: cpu 2 has at least one count
    # Counts only grow, and a row can appear between the two runs (an interrupt taken in
    # between): every text row is in the JSON with a count at least as large; cpu, vec and
    # name must be equal.
    lines, doc = both(m, f"intr {arg}".strip())
    text = intr_rows(lines)
    assert list(doc) == ["counts"]
    got = {}
    for r in doc["counts"]:
        assert set(r) == {"cpu", "vec", "count", "name"}
        assert all(is_int(r[k]) for k in ("cpu", "vec", "count")) and r["count"] > 0
        got[(r["cpu"], r["vec"])] = (r["count"], r["name"] or "-")
    assert list(got) == sorted(got), "by cpu, then vector, as the text"
    for key, (count, name) in text.items():
        assert key in got and got[key][0] >= count and got[key][1] == name, key
    assert (2, 0xF0) in got and got[(2, 0xF0)][1] == "cross-call"
    if arg:
        assert {c for c, _ in got} == {2}


# -- rdmsr ------------------------------------------------------------------------------

@pytest.mark.parametrize("cpu,msr", [(1, 0xC0000080), (0, 0x1B), (3, 0xC0000101)])
def test_rdmsr(m, cpu, msr):
    lines, doc = both(m, f"rdmsr {cpu} {msr:#x}")
    mm = re.fullmatch(r"cpu (\d+) msr (0x[0-9a-f]{8}) (0x[0-9a-f]{16})", lines[0])
    assert len(lines) == 1 and mm, lines
    assert list(doc) == ["cpu", "msr", "value"]
    assert is_int(doc["cpu"]) and doc["cpu"] == int(mm.group(1)) == cpu
    assert doc["msr"] == mm.group(2) and is_hex(doc["msr"], 8) and int(doc["msr"], 16) == msr
    assert doc["value"] == mm.group(3) and is_hex(doc["value"], 16)
    if msr == 0xC0000080:  # oracle: QEMU's EFER of that vCPU
        m.hmp(f"cpu {cpu}")
        regs = m.hmp("info registers")
        m.hmp("cpu 0")
        assert int(doc["value"], 16) == int(re.search(r"EFER=([0-9a-f]+)", regs).group(1), 16)


# -- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "x/4gx 0",                # not mapped
    "x/i 0",                  # not mapped (the instruction reader's error)
    "x/qq ap_main",           # bad format
    "x/4gx nosuch_symbol",    # the resolver's error line
    "x/gx ap_main 0",         # count out of range
    "x/2s 0",                 # strings: not mapped
    "x zz+",                  # parse_address's error line
    "xp/gx 0xfee00000",       # not RAM (LAPIC MMIO)
    "xp 0xfee00000 16",
    "sym nosuch_symbol",
    "sym 0",                  # no symbol there
    "dis smp::g_cpus",        # data, not code
    "lapic 9",
    "ioapic extra",
    "idt bogus",
    "intr 99",
    "rdmsr 2 0x80e",          # #GP: the fault is the answer
    "rdmsr 0 zz",
])
def test_bad_input_is_one_error_document(m, line):
    text = m.cmd(line)
    assert len(text) == 1 and text[0].startswith("error: "), text
    out = m.cmd(kmon.json_line(line))
    assert len(out) == 1, out
    doc = json.loads(out[0])
    assert list(doc) == ["error"] and isinstance(doc["error"], str)
    assert doc["error"] == text[0][len("error: "):]
    with pytest.raises(kmon.KmonError):
        m.json(line)
