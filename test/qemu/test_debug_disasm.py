"""Disassembly in the monitor against outside oracles, in one boot (q35/max/512M/4):
`x/i` and `dis` against `llvm-objdump -d -C` of build/kernel.elf (exact text), `x/i`
against QEMU's HMP `x /Ni` (instruction boundaries and bytes; mnemonics where both print
the same instruction), `xp/i16` on the AP trampoline page against llvm-objdump's 16-bit
decoding of build/trampoline.bin, and the faulting instruction in a crash report.

Normalisations against llvm-objdump (documented, deliberate): objdump pads the
" # <address>" comment of a RIP-relative operand to a column, we print one space; its
where objdump names a target by another symbol
at the same address (an alias such as __bss_start for acpi::g_info), either name is
right. Against HMP (Capstone): Capstone prints a lock/rep prefix with its instruction,
llvm-objdump (and we) as an instruction of its own, so only HMP's boundaries must be
ours; Capstone prints immediates and displacements in hex and suffix-less mnemonics
for some instructions, so mnemonics are compared with the AT&T size suffix dropped.
"""
import re
import subprocess

import pytest

from machine import Config, Machine, ELF, BUILD, KernelPanic, PANIC_PROMPT, elf_symbols

CFG = Config(machine="q35", cpu="max", mem="512M", smp="4")
OURS = re.compile(r"0x([0-9a-f]{16})(?: (.+)\+0x([0-9a-f]+))?: ((?:[0-9a-f]{2} )*[0-9a-f]{2})  (.*)$")


@pytest.fixture(scope="module")
def m():
    mach = Machine(CFG, name="debug-disasm")
    mach.boot()
    yield mach
    mach.close()


def nm():
    return [(e.addr, e.size, e.kind, e.name) for e in elf_symbols()]


def addr_of(name):
    return next(a for a, _, _, n in nm() if n == name)


def size_of(name):
    return next(z for _, z, _, n in nm() if n == name)


def objdump(start, stop, extra=(), path=ELF, all_sections=False):
    out = subprocess.run(["llvm-objdump", "-D" if all_sections else "-d", "-C", *extra, f"--start-address={start:#x}",
                          f"--stop-address={stop:#x}", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for ln in out.splitlines():
        mm = re.match(r"\s*([0-9a-f]+): ([0-9a-f ]+?)\s*\t(.*)$", ln)
        if mm:
            rows.append((int(mm.group(1), 16), mm.group(2).split(), mm.group(3)))
    return rows


def norm_objdump(text):
    text = re.sub(r"\s+# ", " # ", text)
    return text.rstrip()


def split_annotations(text):
    """Text without <...> parts, and the list of annotation names with their offsets."""
    anns = [(n, int(o or "0", 16)) for n, o in re.findall(r"<(.+?)(?:\+0x([0-9a-f]+))?>", text)]
    return re.sub(r" <.+?>", "", text), anns


def parse_ours(out):
    rows = []
    for ln in out:
        mm = OURS.match(ln)
        assert mm, ln
        rows.append((int(mm.group(1), 16), mm.group(4).split(), mm.group(5), mm.group(2), mm.group(3)))
    return rows


def compare_with_objdump(ours, theirs):
    by_name = {}
    for a, _, _, n in nm():
        by_name.setdefault(n, set()).add(a)
    assert [r[0] for r in ours] == [r[0] for r in theirs], ([hex(r[0]) for r in ours][:8], [hex(r[0]) for r in theirs][:8])
    for (a, b, t, _, _), (a2, b2, t2) in zip(ours, theirs):
        assert b == b2, (hex(a), b, b2)
        bare, anns = split_annotations(t)
        bare2, anns2 = split_annotations(norm_objdump(t2))
        assert bare == bare2, (hex(a), t, t2)
        assert len(anns) == len(anns2), (hex(a), t, t2)
        for (n, o), (n2, o2) in zip(anns, anns2):
            assert n == n2 or {x + o for x in by_name.get(n, ())} & {x + o2 for x in by_name.get(n2, ())}, (hex(a), t, t2)


FUNCTIONS = ["ap_main", "kernel_main", "kernel::ksyms::lookup(unsigned long, unsigned long*)",
             "monitor::parse_address(char const*, unsigned long*, lib::Sink*, bool (*)(char const*, unsigned long, unsigned long*, lib::Sink*))"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_x_i_matches_llvm_objdump(m, name):
    a, z = addr_of(name), size_of(name)
    theirs = objdump(a, a + z)
    ours = parse_ours(m.cmd(f'x/i "{name}" {len(theirs)}'))
    compare_with_objdump(ours, theirs)
    # The line prefix names the function.
    assert all(r[3] == name and int(r[4], 16) == r[0] - a for r in ours), ours[:3]


def test_dis_matches_llvm_objdump(m):
    for name in ("ap_main", "kernel::ksyms::lookup"):
        full = next(n for _, _, _, n in nm() if n == name or n.startswith(name + "("))
        a, z = addr_of(full), size_of(full)
        out = m.cmd(f"dis {name}")
        assert out[0].startswith(f"{full}: 0x{a:016x} {z} bytes"), out[0]
        compare_with_objdump(parse_ours(out[1:]), objdump(a, a + z))


def test_call_sites_and_rip_relative_loads_are_symbolized(m):
    """Every call with a direct target and every RIP-relative operand of a large part of
    .text, compared with objdump: the <symbol> annotations are what catch mistakes here."""
    syms = [s for s in nm() if s[2] in "tT" and s[1] > 0]
    checked = {"call": 0, "rip": 0}
    for a, z, _, n in syms[:60]:
        theirs = objdump(a, a + z)
        if not any("callq\t0x" in t or "(%rip)" in t for _, _, t in theirs):
            continue
        ours = parse_ours(m.cmd(f"x/i {a:x} {len(theirs)}"))
        compare_with_objdump(ours, theirs)
        checked["call"] += sum("callq\t0x" in r[2] and "<" in r[2] for r in ours)
        checked["rip"] += sum("(%rip) # 0x" in r[2] for r in ours)
    assert checked["call"] > 20 and checked["rip"] > 20, checked


def test_x_i_agrees_with_hmp(m):
    for name in ("ap_main", "kernel_main"):
        a = addr_of(name)
        ours = parse_ours(m.cmd(f"x/i {a:x} 40"))
        q = m.hmp(f"x /30i {a:#x}")
        hmp = []
        for ln in q.splitlines():
            cont = re.fullmatch(r"0x[0-9a-f]+:\s+((?:[0-9a-f]{2}\s*)+)", ln.strip())
            mm = re.match(r"0x([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(\S+)", ln)
            if cont and hmp:  # a long instruction's bytes go on on the next line
                hmp[-1][1].extend(cont.group(1).split())
            elif mm:
                hmp.append((int(mm.group(1), 16), mm.group(2).split(), mm.group(3)))
        assert len(hmp) == 30, q
        starts = {r[0]: r for r in ours}
        same = 0
        for addr, b, mnem in hmp:
            assert addr in starts, (hex(addr), q)  # every HMP boundary is one of ours
            r = starts[addr]
            if r[1] == b:  # the same instruction (not a lock/rep prefix line of ours)
                ours_m = r[2].split("\t")[0]
                strip = lambda s: re.sub(r"[bwlq]$", "", s)
                assert ours_m == mnem or strip(ours_m) == strip(mnem) or ours_m == strip(mnem), (hex(addr), r[2], mnem)
                same += 1
        assert same >= 25


def test_xp_i16_trampoline_matches_llvm_objdump(m, tmp_path):
    tramp = None
    for ln in m.cmd("physmap"):
        mm = re.match(r"\s+0x([0-9a-f]{16})-0x[0-9a-f]{16} trampoline", ln)
        if mm:
            tramp = int(mm.group(1), 16)
    assert tramp is not None
    binf = BUILD / "trampoline.bin"
    data = binf.read_bytes()
    inc = (BUILD / "generated" / "asm_offsets.inc").read_text()
    pm32_off = int(re.search(r"%define TRAMP_PM32_OFF\s+(0x[0-9a-f]+)", inc).group(1), 16)
    pm32 = int.from_bytes(data[pm32_off:pm32_off + 4], "little")
    obj = tmp_path / "tramp.o"
    subprocess.run(["llvm-objcopy", "-I", "binary", "-O", "elf32-i386", str(binf), str(obj)], check=True)
    theirs = objdump(0, pm32, ["--triple=i386-unknown-unknown-code16", "-j", ".data"], obj, all_sections=True)
    assert len(theirs) > 5
    ours = parse_ours(m.cmd(f"xp/i16 {tramp:x} {len(theirs)}"))
    # objdump names targets after objcopy's _binary_* symbols; physical code has none.
    assert [(r[0] - tramp, r[1], r[2]) for r in ours] == \
        [(a, b, split_annotations(norm_objdump(t))[0]) for a, b, t in theirs]


def test_x_i_stops_at_unmapped_memory(m):
    for arg in ("0", "ffffff8000001000", "ffffffffc0000000"):
        out = m.cmd(f"x/i {arg}")
        assert len(out) == 1 and out[0].startswith("error: "), out
    # The last bytes before a guard page: never read past the mapping.
    slot = int(m.cmd("cpus")[-1].split()[3], 16)
    out = m.cmd(f"x/i {slot + 0x1000 - 2:x} 4")
    assert out[-1].startswith("error: ") and sum(ln.startswith("error: ") for ln in out) == 1, out


def test_crash_report_shows_the_faulting_instruction():
    with Machine(CFG, name="debug-disasm-crash") as mach:
        mach.boot()
        mach.send("crash ud 1\r")
        mach.child.expect_exact(PANIC_PROMPT, timeout=60)
        report = mach.child.before
        if isinstance(report, bytes):
            report = report.decode("latin-1")
        rip = re.search(r"rip=0x([0-9a-f]{16})", report)
        assert rip, report
        line = re.search(r"^0x%s .*: 0f 0b  ud2\r?$" % rip.group(1), report, re.M)
        assert line, report
