"""Symbols and typed examine against outside oracles, in one boot (q35/max/512M/4):
`sym` both ways against build/kernel.elf's symbol table as `llvm-nm -S -C` prints it
(functions and data), `<symbol>[+|-<offset>]` in address arguments, and `x/<unit><format>`
/ `xp/...` against QEMU's HMP `x /Nfu` and `xp /Nfu` at kernel text, rodata, data, a
per-CPU slot and the direct map; `xp` outside RAM (LAPIC, MMCONFIG) is one error line.

Differences from HMP we allow for: HMP's `d` loads b/h/w units zero-extended (it prints
199 where we print -57), so signed values are compared modulo 2^bits; HMP prints the
address without `0x` and pads values to a width, so values are compared as numbers.
"""
import random
import re
import subprocess

import pytest

from machine import Config, Machine, ELF, DIRECT_MAP_BASE, KERNEL_BASE, DEVICE_BASE, elf_symbols

CFG = Config(machine="q35", cpu="max", mem="512M", smp="4")
KINDS = set("tTWwdDbBrR")
ANON = "(anonymous namespace)::"


@pytest.fixture(scope="module")
def m():
    mach = Machine(CFG, name="debug-examine")
    mach.boot()
    yield mach
    mach.close()


def nm_symbols():
    """(addr, size, kind, name) of the higher-half symbols the kernel's table keeps."""
    syms = [(e.addr, e.size, e.kind, e.name) for e in elf_symbols()
            if e.kind in KINDS and e.addr >= KERNEL_BASE and len(e.name) <= 200]
    # The table's own symbols (.ksyms, added by the second link) are not in it.
    end = min((a for a, _, _, n in syms if n.startswith("ksyms_")), default=1 << 64)
    return [s for s in syms if s[0] < end]


def key(name):
    """The kernel's notion of the same name: anonymous namespaces and parameters dropped."""
    name = name.replace(ANON, "")
    return name.split("(", 1)[0]


def one_line(out):
    return len(out) == 1 and out[0].startswith("error: ")


# ------------------------------------------------------------------------------ sym

def test_sym_address_to_symbol_matches_llvm_nm(m):
    syms = nm_symbols()
    sized = [s for s in syms if s[1] > 0]
    funcs = [s for s in sized if s[2] in "tTWw"]
    data = [s for s in sized if s[2] in "dDbBrR"]
    assert len(funcs) > 50 and len(data) > 20, (len(funcs), len(data))
    rng = random.Random(13)
    picks = rng.sample(funcs, 40) + rng.sample(data, min(40, len(data)))
    for addr, size, kind, name in picks:
        off = rng.randrange(size)
        a = addr + off
        out = m.cmd(f"sym {a:x}")
        assert len(out) == 1, (name, out)
        # Any sized symbol containing the address is right (aliases, nested objects).
        ok = {f"{n}+0x{a - s:x}" for s, z, _, n in sized if s <= a < s + z}
        assert any(o in out[0] for o in ok), (name, hex(a), out, ok)
        assert out[0].startswith(f"0x{a:016x} "), out


def test_sym_name_to_address_matches_llvm_nm(m):
    syms = nm_symbols()
    by_key = {}
    for s in syms:
        by_key.setdefault(key(s[3]), set()).add(s[0])
    rng = random.Random(14)
    unique = [s for s in syms
              if len(by_key[key(s[3])]) == 1 and not re.search(r"[+\-\"]", s[3])
              and not re.fullmatch(r"(0x)?[0-9a-fA-F_`]+", s[3])]
    funcs = [s for s in unique if s[2] in "tTWw"]
    data = [s for s in unique if s[2] in "dDbBrR"]
    picks = rng.sample(funcs, 30) + rng.sample(data, min(30, len(data)))
    for addr, size, kind, name in picks:
        # Sizes: several table entries may share the key at one address; any of them.
        sizes = {z for a, z, _, n in syms if a == addr and key(n) == key(name)}
        for query in (name, key(name)):
            out = m.cmd(f'sym "{query}"')
            assert len(out) == 1, (query, out)
            mm = re.fullmatch(r"0x([0-9a-f]{16}) (\d+) (.*)", out[0])
            assert mm, (query, out)
            assert int(mm.group(1), 16) == addr and int(mm.group(2)) in sizes, (query, out, hex(addr), sizes)
            assert key(mm.group(3)) == key(name), (query, out)


def test_sym_prefix_and_ambiguity(m):
    syms = nm_symbols()
    keys = {key(s[3]) for s in syms}
    addr_of = {}
    for s in syms:
        addr_of.setdefault(key(s[3]), set()).add(s[0])
    # A prefix of exactly one symbol's key (and no key equal to it).
    found = 0
    for k in sorted(keys):
        if len(k) < 8 or len(addr_of[k]) != 1 or re.search(r"[+\-\"]", k):
            continue
        p = k[:-2]
        if p in keys or re.fullmatch(r"[0-9a-fA-F]+", p):
            continue
        matches = {a for kk in keys if kk.startswith(p) for a in addr_of[kk]}
        if len(matches) != 1:
            continue
        out = m.cmd(f'sym "{p}"')
        assert len(out) == 1 and int(out[0].split()[0], 16) == next(iter(matches)), (p, out)
        found += 1
        if found == 5:
            break
    assert found == 5
    # Ambiguous: a name several objects share, and a short prefix.
    for q in ("kNoKeywords", "smp::"):
        out = m.cmd(f"sym {q}")
        assert one_line(out) and "ambiguous" in out[0] and out[0].count("0x") >= 2, out
    assert one_line(m.cmd("sym no_such_symbol_xyzzy"))
    assert one_line(m.cmd("sym 0"))  # no symbol at address 0


def test_symbol_expressions_in_address_arguments(m):
    syms = {n: a for a, _, _, n in nm_symbols()}
    ap = syms["ap_main"]
    cpus = syms["smp::g_cpus"]
    assert m.cmd("walk ap_main") == m.cmd(f"walk {ap:x}")
    assert m.cmd("x ap_main 32") == m.cmd(f"x {ap:x} 32")
    assert m.cmd("x/g smp::g_cpus+0x40") == m.cmd(f"x/g {cpus + 0x40:x}")
    assert m.cmd("x/2wx ap_main+10") == m.cmd(f"x/2wx {ap + 0x10:x}")
    assert m.cmd("x/bx ap_main-0x1") == m.cmd(f"x/bx {ap - 1:x}")
    assert m.cmd("sym ap_main+0x10") == [f"0x{ap + 0x10:016x} ap_main+0x10"]
    assert m.cmd("x/i ap_main") == m.cmd(f"x/i 0x{ap:x}")
    for bad in ("sym+", "x/gx +0x10", "x/gx ap_main+zz", "x/gx ap_main+", "walk foo+zz",
                "x/gx ffffffffffffffff+0x10", "x/gx ap_main+ffffffffffffffff", "x/gx 0x10-0x20",
                "walk no_such_symbol+1", "x ap_main++1"):
        assert one_line(m.cmd(bad)), (bad, m.cmd(bad))


# --------------------------------------------------------------------------- examine

def hmp_values(text):
    """Values of an HMP x/xp dump, in order (after each line's "addr:")."""
    vals = []
    for ln in text.splitlines():
        if ":" in ln:
            vals += ln.split(":", 1)[1].split()
    return vals


def our_values(out):
    vals = []
    addr = None
    for ln in out:
        mm = re.match(r"0x([0-9a-f]{16}): (.*)$", ln)
        assert mm, out
        if addr is None:
            addr = int(mm.group(1), 16)
        vals += mm.group(2).split()
    return addr, vals


def sample_addresses(m):
    syms = {n: a for a, _, _, n in nm_symbols()}
    rodata = section_address(".rodata") + 0x100
    slot = int(m.cmd("cpus")[-1].split()[3], 16)
    return {
        "text": syms["ap_main"],
        "text2": syms["kernel_main"],
        "rodata": rodata,
        "data": syms["smp::g_cpus"] + 0x40,
        "percpu": slot,
        "directmap": DIRECT_MAP_BASE + 0x9f000,
        "directmap-kernel": DIRECT_MAP_BASE + syms["ap_main"] - KERNEL_BASE,
    }


def section_address(name):
    out = subprocess.run(["llvm-objdump", "-h", str(ELF)], capture_output=True, text=True, check=True).stdout
    for ln in out.splitlines():
        p = ln.split()
        if len(p) >= 4 and p[1] == name:
            return int(p[3], 16)
    raise AssertionError(f"no section {name}")


UNITS = {"b": 1, "h": 2, "w": 4, "g": 8}


def compare(m, ours_cmd, hmp_cmd, unit, fmt, count, addr):
    ours = m.cmd(ours_cmd)
    a, vals = our_values(ours)
    assert a == addr, (ours_cmd, ours)
    q = hmp_values(m.hmp(hmp_cmd))
    assert len(vals) == count and len(q) == count, (ours_cmd, ours, q)
    bits = 8 * UNITS[unit]
    for v, w in zip(vals, q):
        if fmt == "x":
            assert re.fullmatch(r"0x[0-9a-f]{%d}" % (2 * UNITS[unit]), v), (ours_cmd, v)
            assert int(v, 16) == int(w, 16), (ours_cmd, v, w)
        else:
            assert int(v) % (1 << bits) == int(w) % (1 << bits), (ours_cmd, v, w)


@pytest.mark.parametrize("unit", "bhwg")
def test_x_typed_agrees_with_hmp(m, unit):
    for name, va in sample_addresses(m).items():
        count = 32 // UNITS[unit]
        for fmt in "xdu":
            compare(m, f"x/{unit}{fmt} {va:x} {count}", f"x /{count}{fmt}{unit} {va:#x}", unit, fmt, count, va)
        # The count may also lead the spec.
        assert m.cmd(f"x/{count}{unit}x {va:x}") == m.cmd(f"x/{unit}x {va:x} {count}")


@pytest.mark.parametrize("unit", "bhwg")
def test_xp_typed_agrees_with_hmp(m, unit):
    syms = {n: a for a, _, _, n in nm_symbols()}
    tramp = trampoline_phys(m)
    for pa in (syms["ap_main"] - KERNEL_BASE, syms["smp::g_cpus"] - KERNEL_BASE, 0x9f000, tramp):
        count = 32 // UNITS[unit]
        for fmt in "xdu":
            compare(m, f"xp/{unit}{fmt} {pa:x} {count}", f"xp /{count}{fmt}{unit} {pa:#x}", unit, fmt, count, pa)


def trampoline_phys(m):
    for ln in m.cmd("physmap"):
        mm = re.match(r"\s+0x([0-9a-f]{16})-0x[0-9a-f]{16} trampoline", ln)
        if mm:
            return int(mm.group(1), 16)
    raise AssertionError("no trampoline line in physmap")


def test_x_chars_agree_with_hmp(m):
    for name, va in sample_addresses(m).items():
        ours = our_values(m.cmd(f"x/c {va:x} 16"))[1]
        text = m.hmp(f"x /16cb {va:#x}")
        q = re.findall(r"'(?:\\x[0-9a-f]{2}|\\.|[^\\'])'", text)
        assert re.findall(r"'(?:\\x[0-9a-f]{2}|\\.|[^\\'])'", " ".join(m.cmd(f"x/c {va:x} 16"))) == q, (name, ours, q)


def test_x_strings_and_addresses(m):
    syms = {n: a for a, _, _, n in nm_symbols()}
    # The per-CPU slot's first word is its self pointer: x/a names nothing there but
    # the value is the slot; an image pointer gets its symbol.
    slot = int(m.cmd("cpus")[-1].split()[3], 16)
    out = m.cmd(f"x/a {slot:x}")
    assert out == [f"0x{slot:016x}: 0x{slot:016x}"], out
    # A string in rodata: the bytes HMP shows, up to the NUL.
    out = m.cmd("x/s 0x%x" % syms["ap_main"])  # machine code: some bytes, then a NUL
    assert len(out) == 1 and re.fullmatch(r'0x[0-9a-f]{16}: ".*"', out[0]), out


def test_xp_outside_ram_is_one_error_line(m):
    for pa in (0xfee00000, 0xb0000000, 0xfec00000, 0xffffffff00000000, 0xfffffffffffffff8):
        for cmd in (f"xp/gx {pa:x}", f"xp/i {pa:x}", f"xp {pa:x} 16", f"xp/s {pa:x}"):
            out = m.cmd(cmd)
            assert one_line(out), (cmd, out)
    # A range that starts in RAM and runs out of it: refused whole, one line.
    top = max(int(ln.split()[0].split("-")[1], 16) for ln in m.cmd("physmap")
              if re.match(r"0x[0-9a-f]+-0x[0-9a-f]+ usable", ln))
    out = m.cmd(f"xp/gx {top - 8:x} 2")
    assert one_line(out), out
    assert not one_line(m.cmd(f"xp/gx {top - 8:x} 1"))


def test_x_typed_refuses_unmapped_and_devices(m):
    for arg in ("0", "ffffff8000001000", "8000000000000000", f"{DEVICE_BASE:x}", "ffffffffffffffff"):
        for spec in ("gx", "bd", "c", "a", "i", "s"):
            out = m.cmd(f"x/{spec} {arg}")
            assert one_line(out), (spec, arg, out)
    for bad in ("x/q 0", "x/gg ffffffff80200000", "x/gi ffffffff80200000", "x/gx", "x/gx 1 2 3",
                "x/gx ffffffff80200000 0", "x/gx ffffffff80200000 99999", "xp/zz 0", "x/i17 0"):
        out = m.cmd(bad)
        assert one_line(out), (bad, out)


def test_plain_x_unchanged_and_help(m):
    syms = {n: a for a, _, _, n in nm_symbols()}
    out = m.cmd(f"x {syms['ap_main']:x} 20")
    assert len(out) == 2
    assert re.fullmatch(r"0x[0-9a-f]{16}:( [0-9a-f]{2}){16}  \|.{16}\|", out[0]), out
    assert re.fullmatch(r"0x[0-9a-f]{16}:( [0-9a-f]{2}){4} {36}  \|.{4}\|", out[1]), out
    lines = m.cmd("help")
    assert all(not ln.startswith("error") for ln in lines)
    for c in ("x", "xp", "sym", "dis", "walk", "pml4", "maps", "layout", "physmap", "help"):
        row = [ln for ln in lines if ln.split()[0] == c]
        assert len(row) == 1, (c, lines)
        h = m.cmd(f"help {c}")
        assert h[0].startswith(c + " ") and len(h) >= 3 and any("example" in ln for ln in h), h
    assert one_line(m.cmd("help nope"))
