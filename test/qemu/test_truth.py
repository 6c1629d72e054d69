"""Commands that used to hang or mislead (issue 17), each checked against something other
than the kernel's word: the ELF (symbol addresses and sizes, llvm-nm), QEMU's registers
(HMP), the serial transcript, the host clock."""
import re
import time

import pytest

from machine import PANIC_PROMPT, PROMPT, STOP_PROMPT, Config, Machine
from test_debugger import sym, symbols, vcpu_regs, reg

CFG = Config(smp="4", mem="256M")


@pytest.fixture(scope="module")
def m():
    with Machine(CFG, name="truth") as mach:
        mach.boot()
        yield mach


def one_error(m, line):
    out, prompt = m.cmd_any(line)
    assert prompt == PROMPT, (line, out)
    assert len(out) == 1 and out[0].startswith("error: "), (line, out)
    return out[0]


def test_wrmsr_refuses_the_msrs_the_kernel_depends_on(m):
    for msr, name in ((0x1b, "IA32_APIC_BASE"), (0xc0000080, "IA32_EFER"), (0xc0000101, "IA32_GS_BASE"),
                      (0xc0000102, "IA32_KERNEL_GS_BASE"), (0x277, "IA32_PAT")):
        err = one_error(m, f"wrmsr 0 {msr:#x} 0")
        assert name in err, err
        err = one_error(m, f"wrmsr 1 {msr:x} 0")
        assert name in err, err
    # Nothing was written: QEMU's view of CPU 0 and 1, and every CPU still answers.
    for i in (0, 1):
        r = vcpu_regs(m, i)
        assert reg(r, "EFER") & (1 << 10), r  # still in long mode
    for i in (1, 2, 3):
        assert re.match(rf"cpu {i} \(apic {i}\): 2 round trips", m.cmd(f"ipi {i} 2")[0])


def test_wrmsr_to_an_mtrr_warns(m):
    # An unused variable MTRR's base (PHYSBASE7: QEMU has 8), rewritten with its own value.
    value = m.cmd("rdmsr 2 0x20e")[0].split()[-1]
    out = m.cmd(f"wrmsr 2 0x20e {value}")
    assert out[0].endswith(value), out
    assert any(ln.startswith("warning: cpu 2's MTRRs may now differ") for ln in out), out


def test_watch_defaults_to_the_variables_size(m):
    syms = symbols()
    name = next(k for k in syms if k.endswith("g_wedge_release"))
    addr, size = syms[name]
    assert size == 1  # a bool: watching 8 bytes would fire on its neighbours
    out = m.cmd("watch g_wedge_release rw")
    assert out[0].startswith(f"0 watch 0x{addr:016x}") and "len 1 rw" in out[0], out
    m.cmd("delete all")
    addr, size = syms["smp::g_online_count"]
    out = m.cmd("watch smp::g_online_count")
    assert f"len {size} w" in out[0], out
    m.cmd("delete all")


def test_break_refuses_addresses_that_can_never_be_hit(m):
    g_cpus, _ = symbols()["smp::g_cpus"]
    for where, why in (("0", "lower half"), ("ffff800000100000", "direct map"),
                       ("ffffffffc0000000", "device window"), ("ffffff8000000000", "per-CPU"),
                       (f"{g_cpus:x}", "not mapped executable")):
        err = one_error(m, f"break {where}")
        assert why in err, (where, err)
    assert "no breakpoints" in m.cmd("breaks")[0]


def test_names_bt_prints_can_be_pasted_back(m):
    wedge, size = sym("(anonymous namespace)::wedge")
    out = m.cmd("sym (anonymous namespace)::wedge")
    assert out == [f"0x{wedge:016x} {size} (anonymous namespace)::wedge(void*, arch::TrapFrame const*)"], out
    handler, size = sym("smp::xcall_handle")
    full = "smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)"
    assert m.cmd(f"sym {full}") == [f"0x{handler:016x} {size} {full}"]
    # A bt line's symbol+offset, pasted into break: the breakpoint lands on that address.
    out = m.cmd(f"break {full}+0x4")
    assert out[0].startswith(f"0 break 0x{handler + 4:016x}"), out
    m.cmd("delete all")


def test_examine_errors_say_what_is_wrong(m):
    a = one_error(m, "x/100000gx ap_main")
    b = one_error(m, "x/gx ap_main 100000")
    assert a == b == "error: count 100000 out of range (1-512)", (a, b)
    assert "does not fit in 64 bits" in one_error(m, "x/gx 0x1ffffffffffffffff")
    assert "does not fit in 64 bits" in one_error(m, "x 1ffffffffffffffff")
    err = one_error(m, "dis smp::g_cpus")
    assert "not code" in err, err


def test_dmesg_n_counts_the_lines_before_it(m):
    # (The lines asked for hold no prompt: a replayed "kmon> " would end cmd()'s output early.)
    rows = m.cmd("cpus")
    out = m.cmd("dmesg 3")
    assert out == rows[-3:], (out, rows)
    out = m.cmd("dmesg 1")
    assert out == rows[-1:], (out, rows)


def test_ipi_across_a_stop_leaves_the_stopped_time_out(m):
    m.cmd("break (anonymous namespace)::ping")
    m.send("ipi 3 1\r")
    m.child.expect_exact(STOP_PROMPT, timeout=60)
    t0 = time.monotonic()
    out, prompt = m.cmd_any("cpus")
    states = re.findall(r"^(\d+)\s+\d+\s+(\w+)", "\n".join(out), re.M)
    assert dict(states) == {"0": "stopped", "1": "stopped", "2": "stopped", "3": "kstop"}, out
    time.sleep(3)
    m.cmd_any("delete all")
    out, prompt = m.cmd_any("continue")
    stopped_s = time.monotonic() - t0
    assert prompt == PROMPT, out
    mm = re.search(r"max (\d+)\.(\d+) us", out[-1])
    assert mm, out
    rtt_s = (int(mm.group(1)) + int(mm.group(2)) / 1000) / 1e6
    assert stopped_s > 3 and rtt_s < 0.5, (stopped_s, out)


def test_ipi_to_a_wedged_cpu_says_what_happened(m):
    assert "interrupts off" in m.cmd("wedge 2")[0]
    try:
        err = one_error(m, "ipi 2 1")
        assert "answered the NMI" in err and "'regs 2'" in err and "'bt 2'" in err, err
        assert "taken on that cpu: nmi" in m.cmd("regs 2")[0]
    finally:
        m.cmd("wedge release")
    assert re.match(r"cpu 2 \(apic 2\): 1 round trips", m.cmd("ipi 2 1")[0])


def test_break_in_the_panic_shell_is_refused():
    with Machine(Config(smp="2", mem="256M"), name="truth-panic") as mach:
        mach.boot()
        out, prompt = mach.cmd_any("crash ud 1")
        assert prompt == PANIC_PROMPT
        for line in ("break ap_main", "watch smp::g_online_count"):
            out, prompt = mach.cmd_any(line)
            assert prompt == PANIC_PROMPT and len(out) == 1, out
            assert out[0].startswith("error: the machine cannot continue from a panic"), out


def test_a_cpu_whose_apic_is_disabled_gives_errors_not_hangs(m):
    """CPU 1's local APIC software-disabled through its x2APIC spurious-vector register
    (SVR, MSR 0x80f, SDM Vol. 3A 11.9): it takes no more IPIs. Every command that asks
    it something answers within its timeout, with an error line or by NMI; then it is
    enabled again and answers IPIs."""
    svr = m.cmd("rdmsr 1 0x80f")[0].split()[-1]
    assert int(svr, 16) & 0x100, svr
    m.cmd(f"wrmsr 1 0x80f {int(svr, 16) & ~0x100:#x}")
    try:
        t0 = time.monotonic()
        err = one_error(m, "ipi 1 1")
        assert "answered the NMI" in err, err
        assert "taken on that cpu: nmi" in m.cmd("regs 1")[0]
        assert "taken on that cpu: nmi" in m.cmd("bt 1")[0]
        assert time.monotonic() - t0 < 30
    finally:
        m.cmd(f"wrmsr 1 0x80f {svr}")
    assert re.match(r"cpu 1 \(apic 1\): 2 round trips", m.cmd("ipi 1 2")[0])
