"""rdmsr / wrmsr (issue 13.7), against QEMU's view of each vCPU (HMP `info registers`:
EFER=, the GS and FS segment bases) in x2APIC (`-cpu max`) and xAPIC (`-cpu max,-x2apic`)
mode. IA32_APIC_BASE is checked against what the configuration fixes: the architectural
base 0xfee00000, EN, BSP only on CPU 0, EXTD exactly in x2APIC mode.

A faulting MSR: under TCG QEMU reads an MSR it does not know as 0 instead of raising
#GP, so 0x12345678 does not fault here; the x2APIC DFR (0x80e, which x2APIC mode does not
have, SDM Vol. 3A 11.12.1.2; in xAPIC mode no x2APIC MSR exists) does, read or written.
"""
import re

import pytest

from machine import PANIC_PROMPT, Config, Machine

CONFIGS = {"x2apic": "max", "xapic": "max,-x2apic"}


@pytest.fixture(scope="module", params=list(CONFIGS))
def m(request):
    mode = request.param
    with Machine(Config(machine="q35", cpu=CONFIGS[mode], mem="512M", smp="4"), name=f"debug-msr-{mode}") as mach:
        mach.boot()
        mach.mode = mode
        yield mach


def rdmsr(m, cpu, msr):
    lines = m.cmd(f"rdmsr {cpu} {msr:#x}")
    assert len(lines) == 1, lines
    mm = re.fullmatch(rf"cpu {cpu} msr 0x{msr:08x} 0x([0-9a-f]{{16}})", lines[0])
    assert mm, lines
    return int(mm.group(1), 16)


def hmp_regs(m, cpu):
    m.hmp(f"cpu {cpu}")
    regs = m.hmp("info registers")
    m.hmp("cpu 0")
    return regs


def seg_base(regs, seg):
    return int(re.search(rf"^{seg} =\w+ ([0-9a-f]+)", regs, re.M).group(1), 16)


@pytest.mark.parametrize("cpu", [0, 1, 3])
def test_rdmsr_against_hmp(m, cpu):
    efer = rdmsr(m, cpu, 0xC0000080)
    gs = rdmsr(m, cpu, 0xC0000101)
    base = rdmsr(m, cpu, 0x1B)
    regs = hmp_regs(m, cpu)
    assert efer == int(re.search(r"EFER=([0-9a-f]+)", regs).group(1), 16)
    assert gs == seg_base(regs, "GS")
    assert gs == 0xFFFFFF8000000000 + cpu * (16 << 20)
    assert base & ~0xFFF == 0xFEE00000
    assert bool(base & 0x800), "APIC globally disabled"
    assert bool(base & 0x100) == (cpu == 0), "BSP flag"
    assert bool(base & 0x400) == (m.mode == "x2apic"), "EXTD"


def test_faulting_msr_is_an_error(m):
    msr = 0x80E
    lines = m.cmd(f"rdmsr 2 {msr:#x}")
    # Exactly one line: the fault is the answer, not an exception report.
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "faulted on cpu 2" in lines[0]
    # The CPU is fine afterwards, and so is the monitor's own CPU after a fault there.
    assert rdmsr(m, 2, 0xC0000080) & 0x500 == 0x500  # LME, LMA
    lines = m.cmd(f"rdmsr 0 {msr:#x}")
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert m.cmd("cpus")[0].startswith("index")


def test_wrmsr_fs_base_seen_by_qemu(m):
    value = 0x00007F1234567000
    lines = m.cmd(f"wrmsr 1 0xc0000100 {value:#x}")
    assert lines == [f"cpu 1 msr 0xc0000100 0x{value:016x}"]
    assert rdmsr(m, 1, 0xC0000100) == value
    assert seg_base(hmp_regs(m, 1), "FS") == value
    assert seg_base(hmp_regs(m, 2), "FS") == 0  # only that CPU's
    m.cmd("wrmsr 1 0xc0000100 0")
    assert seg_base(hmp_regs(m, 1), "FS") == 0


def test_wrmsr_kernel_gs_base_is_refused(m):
    # swapgs would make it the per-CPU pointer: the kernel depends on it (issue 17).
    lines = m.cmd("wrmsr 3 c0000102 1234abcd")
    assert len(lines) == 1 and lines[0].startswith("error: ") and "IA32_KERNEL_GS_BASE" in lines[0], lines
    assert rdmsr(m, 3, 0xC0000102) == 0


def test_wrmsr_faulting_is_an_error(m):
    lines = m.cmd("wrmsr 1 0x80e 0")  # DFR: no such MSR in either mode
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert rdmsr(m, 1, 0xC0000080) & 0x500 == 0x500


@pytest.mark.parametrize("line", [
    "rdmsr", "rdmsr 1", "rdmsr 1 2 3", "rdmsr x 0x10", "rdmsr 99 0x10", "rdmsr 1 zz", "rdmsr 1 0x100000000",
    "wrmsr", "wrmsr 1 0x10", "wrmsr 1 0x10 1 2", "wrmsr x 0x10 1", "wrmsr 1 zz 1", "wrmsr 1 0x10 zz",
    "wrmsr 1 0xc0000101 0",
])
def test_bad_arguments(m, line):
    lines = m.cmd(line)
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_help_entries(m):
    names = {ln.split()[0] for ln in m.cmd("help") if ln.strip()}
    assert {"rdmsr", "wrmsr"} <= names
    assert any("rdmsr 1 0xc0000080" in ln for ln in m.cmd("help rdmsr"))


def test_panic_shell(m):
    """Last for each machine: it ends in the panic shell."""
    m.send("crash ud 1\r")
    m.child.expect_exact(PANIC_PROMPT, timeout=60)
    m.panicked = True

    def panic_cmd(line):
        m.send(line + "\r")
        m.child.expect_exact(PANIC_PROMPT, timeout=60)
        out = m.child.before.split("\n", 1)[1]
        return [ln.rstrip("\r") for ln in out.split("\n") if ln.strip()]

    cpu = 1
    out = panic_cmd(f"rdmsr {cpu} 0xc0000080")
    assert len(out) == 1 and re.fullmatch(rf"cpu {cpu} msr 0xc0000080 0x[0-9a-f]{{16}}", out[0]), out
    out = panic_cmd("wrmsr 1 0xc0000102 5")
    assert len(out) == 1 and out[0].startswith("error: "), out
    out = panic_cmd("rdmsr 0 0xc0000080")
    assert len(out) == 1 and out[0].startswith("error: "), out  # cpu 0 is stopped
    out = panic_cmd(f"rdmsr {cpu} 0x80e")
    assert len(out) == 1 and out[0].startswith("error: "), out  # not on the panic-safe list
