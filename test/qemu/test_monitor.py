"""The monitor, command by command, compared with QEMU's own HMP in the same boot:
`maps` equals `info mem`, `walk` agrees with `gva2gpa`, `x` with HMP `x`, `pml4` with
the PML4 read by `xp` at CR3, `regs` with `info registers`. Then the line editor's keys,
history and completion, hostile input, and every crash kind ending in the panic shell.
"""
import random
import re

import pytest

from machine import (Config, Machine, PROMPT, PANIC_PROMPT, DIRECT_MAP_BASE, PERCPU_BASE,
                     KERNEL_BASE, DEVICE_BASE, PERCPU_END, parse_info_mem)

CFG = Config(machine="q35", cpu="max", mem="512M", smp="4")


@pytest.fixture(scope="module")
def m():
    mach = Machine(CFG, name="monitor")
    mach.boot()
    yield mach
    mach.close()


def hexes(s):
    return [int(x, 16) for x in re.findall(r"0x([0-9a-f]+)", s)]


def kernel_symbols():
    import subprocess
    from machine import ELF
    out = subprocess.run(["llvm-nm", "-n", str(ELF)], capture_output=True, text=True, check=True).stdout
    return {name: int(addr, 16) for addr, _, name in (ln.split(" ", 2) for ln in out.splitlines() if ln.count(" ") >= 2)}


# ---------------------------------------------------------------------------- vs. HMP

def test_maps_equals_info_mem(m):
    ours = [ln for ln in m.cmd("maps") if ln.strip()]
    qemu = [ln.strip() for ln in m.hmp("info mem").splitlines() if ln.strip()]
    assert ours == qemu


def test_maps_verbose_flags_nothing_writable_and_executable(m):
    out = m.cmd("maps -v")
    assert out and not any("!WX" in ln or "!USER" in ln for ln in out)
    # "<start>-<end> <size> <u|->r<w|-> <x|-> <labels>": some kernel run is executable
    # (text), some is not (rodata, data), and every executable run is read-only kernel text.
    runs = [ln.split() for ln in out if re.match(r"[0-9a-f]{16}-", ln)]
    kernel = [r for r in runs if "kernel" in r[4:]]
    assert any(r[3] == "x" for r in kernel), out
    assert any(r[3] == "-" for r in kernel), out
    assert all(r[2].endswith("r-") and "kernel" in r[4:] for r in runs if r[3] == "x"), out


def sample_addresses(m):
    syms = kernel_symbols()
    cpus = [ln.split() for ln in m.cmd("cpus")[1:]]
    slot = int(cpus[-1][3], 16)
    return [
        DIRECT_MAP_BASE, DIRECT_MAP_BASE + 0x1234, DIRECT_MAP_BASE + 0x100000,
        DIRECT_MAP_BASE + (512 << 20) - 8,
        syms["kernel_main"], syms["_ZN7monitor3runEv"] if "_ZN7monitor3runEv" in syms else syms["kernel_main"] + 0x10,
        syms["isr_stub_table"], syms["boot_handoff_tsc"], syms["boot_pml4"] + 0x800,
        slot, slot + 0x2000 + 0x123, slot + 0x7000,
        DEVICE_BASE,
    ]


def test_walk_agrees_with_gva2gpa(m):
    for va in sample_addresses(m):
        out = m.cmd(f"walk {va:x}")
        last = out[-1]
        mm = re.match(r"0x([0-9a-f]{16}) -> 0x([0-9a-f]{16}) (4K|2M|1G) ", last)
        assert mm, f"walk {va:#x}: {out}"
        assert int(mm.group(1), 16) == va
        q = m.hmp(f"gva2gpa {va:#x}")
        gpa = int(re.search(r"gpa: (?:0x)?([0-9a-f]+)", q).group(1), 16)
        assert int(mm.group(2), 16) == gpa, f"{va:#x}: walk says {mm.group(2)}, QEMU {gpa:#x}"
        assert re.match(r"pml4\[\d+\] 0x[0-9a-f]{16}", out[0])


def test_walk_errors(m):
    for va in ("0", "1000", "ffffff8000001000", "ffffffffa0000000"):  # lower half, guard, gap
        out = m.cmd(f"walk {va}")
        assert out[-1].startswith("error: "), out
        assert "unmapped" in m.hmp(f"gva2gpa 0x{va}").lower()
    assert m.cmd("walk 0x0000800000000000")[-1].startswith("error: ")  # non-canonical
    assert m.cmd("walk zz")[-1].startswith("error: ")


def test_x_agrees_with_hmp_x(m):
    syms = kernel_symbols()
    for va in (syms["kernel_main"], syms["isr_stub_table"], DIRECT_MAP_BASE + 0x9f000):
        ours = m.cmd(f"x {va:x} 48")
        got = []
        for ln in ours:
            mm = re.match(r"0x([0-9a-f]{16}):((?: [0-9a-f]{2})+)", ln)
            assert mm, ln
            got += [int(b, 16) for b in mm.group(2).split()]
        q = m.hmp(f"x /48xb {va:#x}")
        want = [int(b, 16) for b in re.findall(r" 0x([0-9a-f]{2})\b", q)]
        assert got == want


def test_x_refuses_unmapped_noncanonical_and_devices(m):
    for arg in ("0", "ffffff8000001000", "8000000000000000", f"{DEVICE_BASE:x}", "ffffffffffffffff 16",
                f"{KERNEL_BASE:x} 0", f"{KERNEL_BASE:x} 99999", "nothex"):
        out = m.cmd(f"x {arg}")
        assert len(out) == 1 and out[0].startswith("error: "), (arg, out)


def test_pml4_agrees_with_xp_at_cr3(m):
    cr3 = m.cr3(0) & ~0xfff
    q = m.hmp(f"xp /512gx {cr3:#x}")
    words = [int(w, 16) for w in re.findall(r"0x([0-9a-f]{16})", q.split(":", 1)[1] if ":" in q else q)]
    entries = {}
    for line in q.splitlines():
        mm = re.match(r"([0-9a-f]+): (.*)", line.strip())
        if mm:
            addr = int(mm.group(1), 16)
            for k, w in enumerate(re.findall(r"0x([0-9a-f]{16})", mm.group(2))):
                entries[(addr - cr3) // 8 + k] = int(w, 16)
    present = {i: e for i, e in entries.items() if e & 1}
    rows = [ln.split() for ln in m.cmd("pml4") if re.match(r"\d", ln)]
    assert {int(r[0]): int(r[2], 16) for r in rows} == present
    assert all(i >= 256 for i in present), "lower half not empty"
    labels = {int(r[0]): r[4] for r in rows}
    assert labels[256] == "directmap" and "kernel" in labels[511]
    assert words  # parsed something


def test_regs_agrees_with_info_registers(m):
    syms = kernel_symbols()
    text_end = syms["__text_end"]
    for cpu in range(4):
        out = "\n".join(m.cmd(f"regs {cpu}"))
        cr3 = int(re.search(r"cr3=0x([0-9a-f]{16})", out).group(1), 16)
        rip = int(re.search(r"rip=0x([0-9a-f]{16})", out).group(1), 16)
        assert cr3 == m.cr3(cpu)
        assert KERNEL_BASE <= rip < text_end
        gs = int(re.search(r"gs_base=0x([0-9a-f]{16})", out).group(1), 16)
        assert gs == PERCPU_BASE + cpu * (16 << 20)


def test_cpus_agrees_with_qemu(m):
    rows = [ln for ln in m.cmd("cpus") if re.match(r"\d", ln)]
    assert len(rows) == m.cpu_count_hmp() == 4


def test_other_commands_answer(m):
    # The values of physmap, layout, acpi, timing and ipi are checked against outside
    # oracles in test_oracles.py; here: the kernel's own use of memory adds up.
    phys = m.cmd("physmap")
    uses = [re.match(r"\s+0x([0-9a-f]{16})-0x([0-9a-f]{16}) (\S+)", ln) for ln in phys]
    uses = [(int(u.group(1), 16), int(u.group(2), 16), u.group(3)) for u in uses if u]
    tot = re.search(r"allocated (\d+) KiB \(page-tables (\d+) KiB\)", "\n".join(phys))
    assert tot and sum(e - s for s, e, t in uses if t not in ("image", "trampoline")) == int(tot.group(1)) << 10
    assert sum(e - s for s, e, t in uses if t == "page-tables") == int(tot.group(2)) << 10
    ipi = m.cmd("ipi 1 8")
    mm = re.search(r"8 round trips, min ([\d.]+) us, avg ([\d.]+) us, max ([\d.]+) us", ipi[0])
    assert mm and float(mm.group(1)) <= float(mm.group(2)) <= float(mm.group(3)), ipi
    names = [ln.split()[0] for ln in m.cmd("help")]
    for c in ("help", "cpus", "percpu", "pml4", "walk", "maps", "physmap", "layout", "x", "regs", "acpi",
              "mptable", "ipi", "timing", "crash", "reboot", "halt"):
        assert c in names


# ------------------------------------------------------------------------- line editor

def typed(m, keys, expect=PROMPT, timeout=30):
    m.send(keys)
    m.child.expect_exact(expect, timeout=timeout)
    return m.child.before


def test_editing_keys(m):
    out = typed(m, "cpux\x7f\r")                # DEL
    assert "bootstrap" in out
    out = typed(m, "cpux\x08\r")                # ^H
    assert "bootstrap" in out
    out = typed(m, "hep\x1b[Dl\r")              # left arrow, insert in the middle
    assert "list commands" in out
    out = typed(m, "elp\x01h\x05\r")            # ^A, ^E
    assert "list commands" in out
    out = typed(m, "garbage\x15cpus\r")         # ^U
    assert "bootstrap" in out and "garbage" not in out.split("cpus")[-1]
    out = typed(m, "junk words\x17\x17cpus\r")  # ^W twice
    assert "bootstrap" in out
    out = typed(m, "xyzzy\x03")                 # ^C drops the line
    assert "^C" in out and "error" not in out
    out = typed(m, "helpX\x1b[D\x1b[3~\r")      # Delete key under the cursor
    assert "list commands" in out
    out = typed(m, "hel\x1b[C\x1b[Cp\r")       # right arrows past the end do nothing
    assert "list commands" in out


def test_history(m):
    m.cmd("timing")
    m.cmd("cpus")
    out = typed(m, "\x1b[A\x1b[A\r")            # up twice: timing
    assert "boot timeline" in out
    # History is now [..., timing, cpus, timing] (the recalled line ran and was added):
    # up, up, down lands on the newest again, timing, never cpus.
    out = typed(m, "\x1b[A\x1b[A\x1b[B\r")
    assert "boot timeline" in out and "(bootstrap)" not in out
    for i in range(40):
        m.cmd(f"walk {DIRECT_MAP_BASE + i * 4096:x}")
    out = typed(m, "\x1b[A\r")
    assert f"{DIRECT_MAP_BASE + 39 * 4096:016x}" in out


def test_completion_and_prefixes(m):
    out = typed(m, "cp\t\r")                    # unique command prefix completes
    assert "bootstrap" in out
    out = typed(m, "percpu a\t\r")              # keyword completion
    assert out.count("gs_base:") == 4
    out = typed(m, "p\t")                       # ambiguous: lists candidates, keeps the line
    assert "pml4" in out and "percpu" in out and "physmap" in out
    typed(m, "\x03")
    out = typed(m, "tim\r")                     # a unique prefix runs the command
    assert "boot timeline" in out
    out = typed(m, "p\r")
    assert "error: ambiguous" in out


# ------------------------------------------------------------------------- robustness

def resync(m):
    """After input that prints prompts of its own (^C, stray Enters): wait until the
    kernel is quiet, drop what it printed, and get one fresh prompt."""
    import time
    import pexpect
    m.child.send("\x03")
    time.sleep(1.0)
    while True:
        try:
            m.child.read_nonblocking(1 << 16, timeout=0.5)
        except pexpect.TIMEOUT:
            break
    m.child.send("\r")
    m.child.expect_exact(PROMPT, timeout=30)


def test_hostile_input_never_hangs(m):
    rng = random.Random(1234)
    junk = bytes(rng.randrange(256) for _ in range(4096))
    junk = junk.replace(b"\r", b"").replace(b"\n", b"")
    m.child.send(junk.decode("latin-1"))
    m.child.send("\x00" * 64 + "\x1b[999;999H\x1b[?25l\x1bO\x1b[" + "\x1b" * 10)
    resync(m)
    out = m.cmd("help")
    assert any(ln.startswith("cpus") for ln in out)
    # A 10 KB line: capped at 256 characters, rings the bell, and is then just unknown.
    out = m.cmd("a" * 10240)
    assert out[-1].startswith("error: "), out[-1][:100]
    assert "\a" in m.last_echo, "no bell when the line reached its 256-character cap"
    assert len(m.last_echo.split("\a")[0].rstrip("\r\n")) <= 256 + 64, "the echo went past the cap"
    assert any(ln.startswith("cpus") for ln in m.cmd("help"))


BAD_ARGS = [
    "cpus extra", "percpu", "percpu 99", "percpu x", "percpu all extra", "pml4 zz", "pml4 1 2",
    "walk", "walk 1 2", "walk -1", "maps -q", "physmap now", "layout x", "x", "x 1 2 3",
    "x ffffffff80200000 -1", "regs", "regs 99", "regs a", "acpi x", "ipi", "ipi 0", "ipi 99",
    "ipi 1 0", "timing now", "timing sources now", "mptable x", "crash", "crash nope", "crash pf 99", "help nope", "halt now",
    "reboot now", "wedge", "wedge 0", "nosuchcommand", '"unterminated', " ".join(["a"] * 20),
]


def test_every_command_rejects_bad_arguments(m):
    for line in BAD_ARGS:
        out = m.cmd(line)
        assert out and out[-1].startswith("error: "), (line, out)
        assert sum(1 for ln in out if ln.startswith("error: ")) == 1, (line, out)
    assert any(ln.startswith("cpus") for ln in m.cmd("help"))


def test_fault_inside_command_returns_to_prompt(m):
    out = m.cmd("crash gp guarded")
    assert out[-1].startswith("error: ") and any("#GP" in ln for ln in out)
    assert any(ln.startswith("cpus") for ln in m.cmd("help"))


# --------------------------------------------------------------------------- panics

CRASHES = [
    ("pf", "0", r"vector 14 #PF", r"cr2=0xffff9fff00000000"),
    ("gp", "1", r"vector 13 #GP", None),
    ("ud", "0", r"vector 6 #UD", None),
    ("de", "2", r"vector 0 #DE", None),
    ("stack", "3", r"vector 8 #DF", r"kernel stack overflow: cr2 is in cpu 3's stack guard page"),
]


def check_stopped_regs(mach, n):
    """`regs n` in the panic shell prints what CPU n saved in the NMI that stopped it.
    The control registers, EFER and GS base it saved are what QEMU reads on that vCPU
    now (it has been halted since); rip/rsp are where it was interrupted: its idle loop
    in ap_main (or the monitor on the BSP), on its own kernel stack."""
    syms = kernel_symbols()
    mach.send(f"regs {n}\r")
    mach.child.expect_exact(PANIC_PROMPT, timeout=30)
    out = mach.child.before
    assert f"cpu {n} apic" in out and "(saved when stopped by the panic NMI)" in out, out
    ours = {k: int(v, 16) for k, v in re.findall(r"\b(rip|rsp|rflags|cr0|cr2|cr3|cr4|efer|gs_base|cs|ss)=0x([0-9a-f]+)", out)}
    mach.hmp(f"cpu {n}")
    q = mach.hmp("info registers")
    mach.hmp("cpu 0")
    qemu = {
        "cr0": int(re.search(r"CR0=([0-9a-f]+)", q).group(1), 16),
        "cr3": int(re.search(r"CR3=([0-9a-f]+)", q).group(1), 16),
        "cr4": int(re.search(r"CR4=([0-9a-f]+)", q).group(1), 16),
        "efer": int(re.search(r"EFER=([0-9a-f]+)", q).group(1), 16),
        "gs_base": int(re.search(r"^GS =\w+ ([0-9a-f]{16})", q, re.M).group(1), 16),
    }
    for k, v in qemu.items():
        assert ours[k] == v, f"cpu {n}: {k} saved {ours[k]:#x}, QEMU {v:#x}\n{out}"
    assert "not saved" not in out
    slot = PERCPU_BASE + n * (16 << 20)
    assert ours["gs_base"] == slot
    assert slot + 0x2000 <= ours["rsp"] <= slot + 0x6000, f"rsp {ours['rsp']:#x} not on cpu {n}'s stack"
    assert KERNEL_BASE <= ours["rip"] < syms["__text_end"]
    assert ours["cs"] == 0x8 and ours["rflags"] & 0x2


def check_faulting_regs(mach, n, report):
    """`regs n` of the CPU that took the exception: what it saved on the exception path
    (not zeros, and labelled as its own), against QEMU's registers of that vCPU now (it
    runs the panic shell: CR0, CR2, CR3, CR4, EFER and GS base have not changed since),
    and against the report's rip and cr2."""
    mach.send(f"regs {n}\r")
    mach.child.expect_exact(PANIC_PROMPT, timeout=30)
    out = mach.child.before
    assert f"cpu {n} apic" in out and "(saved by this cpu when it took the exception)" in out, out
    ours = {k: int(v, 16) for k, v in re.findall(r"\b(rip|cr0|cr2|cr3|cr4|efer|gs_base)=0x([0-9a-f]+)", out)}
    mach.hmp(f"cpu {n}")
    q = mach.hmp("info registers")
    mach.hmp("cpu 0")
    for name, key in (("CR0", "cr0"), ("CR2", "cr2"), ("CR3", "cr3"), ("CR4", "cr4"), ("EFER", "efer")):
        assert ours[key] == int(re.search(rf"{name}=([0-9a-f]+)", q).group(1), 16), (key, out, q)
    assert ours["gs_base"] == int(re.search(r"^GS =\w+ ([0-9a-f]{16})", q, re.M).group(1), 16), (out, q)
    assert ours["gs_base"] == PERCPU_BASE + n * (16 << 20)
    assert ours["rip"] == int(re.search(r"^rip=0x([0-9a-f]{16})", report, re.M).group(1), 16)
    assert ours["cr2"] == int(re.search(r"cr2=0x([0-9a-f]{16})", report).group(1), 16)


@pytest.mark.parametrize("kind,cpu,vector,extra", CRASHES, ids=[c[0] for c in CRASHES])
def test_crash_lands_in_panic_shell(kind, cpu, vector, extra):
    with Machine(CFG, name=f"crash-{kind}") as mach:
        mach.boot()
        mach.send(f"crash {kind} {cpu}\r")
        mach.child.expect_exact(PANIC_PROMPT, timeout=60)
        report = mach.child.before
        assert "PANIC" in report
        assert re.search(vector, report), report[-2000:]
        assert f"exception on cpu {cpu} " in report
        assert re.search(r"rip=0x[0-9a-f]{16} \S+", report)
        assert "backtrace:" in report and "cr3=0x" in report
        for reg in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r15"):
            assert f"{reg}=0x" in report
        if extra:
            assert re.search(extra, report), report[-2000:]
        # The panic shell: read-only commands work, others are refused.
        mach.send("cpus\r")
        mach.child.expect_exact(PANIC_PROMPT, timeout=30)
        states = re.findall(r"^\d+\s+\d+\s+(\w+)", mach.child.before, re.M)
        assert states.count("stopped") == 3, mach.child.before
        assert states[int(cpu)] == "kpanic", mach.child.before  # the CPU that runs the shell
        check_stopped_regs(mach, 0 if cpu != "0" else 1)
        check_faulting_regs(mach, int(cpu), report)
        mach.send("crash pf\r")
        mach.child.expect_exact(PANIC_PROMPT, timeout=30)
        assert "error: " in mach.child.before


def test_halt_stops_every_cpu():
    with Machine(Config(smp="4", mem="256M"), name="halt") as mach:
        mach.boot()
        mach.send("halt\r")
        mach.child.expect_exact("halted:", timeout=30)
        import time
        time.sleep(0.5)
        for i in range(4):
            mach.hmp(f"cpu {i}")
            regs = mach.hmp("info registers")
            assert "HLT=1" in regs, regs[:400]
            rfl = int(re.search(r"RFL=([0-9a-f]+)", regs).group(1), 16)
            assert not rfl & 0x200, f"cpu {i} halted with interrupts on"


def test_reboot_resets_the_machine():
    import pexpect
    with Machine(Config(smp="2", mem="256M"), name="reboot") as mach:
        mach.boot()
        mach.send("reboot\r")
        mach.child.expect_exact("rebooting", timeout=30)
        # -no-reboot turns the reset into QEMU exiting.
        mach.child.expect(pexpect.EOF, timeout=30)


def test_percpu_slots_back_only_used_pages_and_devices_are_uncached(m):
    """From QEMU's `info tlb`: each slot maps exactly its data page, its stack and its
    three IST stacks (guard pages and the rest of the 16 MiB unmapped, each page its own
    frame), and the device window holds only uncached, non-executable pages."""
    from machine import parse_info_tlb
    ptes = parse_info_tlb(m.hmp("info tlb"))
    expected = {0x0} | set(range(0x2000, 0x6000, 0x1000)) | {0x7000, 0x9000, 0xb000}
    slots = {}
    for p in ptes:
        if PERCPU_BASE <= p.va < PERCPU_END:
            idx, off = divmod(p.va - PERCPU_BASE, 16 << 20)
            slots.setdefault(idx, set()).add(off)
            assert p.write and p.nx and not p.user and not p.ps
    assert sorted(slots) == [0, 1, 2, 3]
    for idx, offs in slots.items():
        assert offs == expected, f"slot {idx}: {sorted(hex(o) for o in offs)}"
    frames = [p.pa for p in ptes if PERCPU_BASE <= p.va < PERCPU_END]
    assert len(frames) == len(set(frames)), "two per-CPU pages share a frame"
    dev = [p for p in ptes if p.va >= DEVICE_BASE]
    assert dev, "no device mapping (the I/O APIC should be there)"
    for p in dev:
        assert p.pcd and p.nx and not p.user, p
    assert any(p.pa == 0xFEC00000 for p in dev), "I/O APIC page not in the device window"
    # The LAPIC page is mapped exactly when the CPU runs in xAPIC mode (QEMU's view).
    x2apic = "(X2APIC ID)" in m.hmp("info lapic")
    assert any(p.pa == 0xFEE00000 for p in dev) == (not x2apic), "LAPIC page mapped in the wrong mode"
