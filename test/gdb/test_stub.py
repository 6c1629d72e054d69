"""The kernel's own gdb stub (issue 18), driven by Debian's gdb over QEMU's COM2 (a TCP
socket), checked against things that are not the kernel: QEMU's own gdb stub on the same
machine (a second gdb), HMP (`info hotpluggable-cpus`, `info registers`), the ELF
(llvm-nm, llvm-objdump, llvm-objcopy) and the monitor on COM1 in the same boot.

The machine boots with COM1 on pexpect and COM2 on 127.0.0.1:<port>; `ours` is a gdb with
gdb/kernel.gdb connected to the kernel's stub, `qemus` one connected to QEMU's stub. QEMU's
stub pauses every vCPU while it is attached, so the two are never used at the same time:
ours first (the machine stopped by the kernel), then QEMU's (the machine paused by QEMU),
then QEMU's detaches and the kernel runs on."""
import random
import re
import socket
import subprocess
import time
from pathlib import Path

import pexpect
import pytest

from test_gdb import Gdb, SCALE, elf_symbol, free_port, snapshot_image  # noqa: F401
from machine import PANIC_PROMPT, PROMPT, STOP_PROMPT, Config, Machine
from test_smp import expected_apic_ids, iso_with_cmdline

LOG_DIR = Path(__file__).resolve().parents[2] / "build" / "test-logs"
REGS = ("cr0", "cr3", "cr4", "efer", "gs_base")


class Stubs:
    """One boot: COM2 on a TCP port (the kernel's stub), QEMU's gdb stub on another."""

    def __init__(self, smp="4", extra=(), name=None, iso=None, boot=True, elf=None, mem="256M"):
        self.tmp = Path(__import__("tempfile").mkdtemp(prefix="kmon-stub-"))
        self.iso, self.elf = snapshot_image(self.tmp) if iso is None else (iso, elf)
        if self.elf is None:
            _, self.elf = snapshot_image(self.tmp)
        self.qport = free_port()
        cfg = Config(smp=smp, mem=mem, com2=True, extra=("-gdb", f"tcp:127.0.0.1:{self.qport}") + tuple(extra))
        self.m = Machine(cfg, name=name or f"stub-{cfg.id}", iso=self.iso)
        self.log = open(LOG_DIR / f"{self.m.name}.gdb.log", "a", encoding="utf-8", errors="replace")
        if boot:
            self.m.boot()

    def ours(self, machine_text=True):
        """A gdb on the kernel's stub; attaching stops the machine (kstop> on COM1)."""
        g = Gdb(f"127.0.0.1:{self.m.com2_port}", self.elf, self.log, machine_text)
        assert "cannot connect" not in g.banner, g.banner
        return g

    def qemus(self):
        g = Gdb(str(self.qport), self.elf, self.log)
        assert "cannot connect" not in g.banner, g.banner
        return g

    def serial_until(self, text, timeout=30):
        self.m.child.expect_exact(text, timeout=timeout * SCALE)
        return self.m.child.before

    def close(self):
        try:
            self.m.close()
        finally:
            self.log.close()


def resume(s, g, prompt=True):
    """gdb continues; the kernel leaves kstop> (and the monitor prompt comes back)."""
    g.resume()
    s.serial_until("leaving kstop>")
    if prompt:
        s.serial_until(PROMPT)


def detach(g):
    g.cmd("detach")
    g.child.sendline("quit")
    g.child.expect(pexpect.EOF, timeout=30)
    g.child.close()


def detach_ours(s, g):
    """Detaches the kernel's stub: kstop> says so on COM1 and the prompt comes back."""
    detach(g)
    s.serial_until("gdb detached")
    s.serial_until(PROMPT)


def threads(g):
    """{tid: (cpu, apic, state)} from `info threads` (qThreadExtraInfo)."""
    out = {}
    for ln in g.cmd("info threads"):
        m = re.search(r"^\*?\s*(\d+)\s+Thread \d+ \(cpu (\d+) apic (\d+) (\w+)\)", ln)
        if m:
            out[int(m.group(1))] = (int(m.group(2)), int(m.group(3)), m.group(4))
    return out


def regs_of(g, names):
    vals = {}
    for ln in g.cmd("info registers " + " ".join(names)):
        f = ln.split()
        if len(f) >= 2 and f[0] in names:
            vals[f[0]] = int(f[1], 16)
    return vals


def py_frames(g):
    """[(pc, is trap frame)] of gdb's selected thread, inline frames left out."""
    from test_gdb_unwind import PY_FRAMES
    return [(int(m.group(1), 16), m.group(2) == "1")
            for m in (re.match(r"KFRAME 0x([0-9a-f]+) (\d) ", ln) for ln in g.cmd(PY_FRAMES)) if m]


def thread_of_cpu(t, cpu):
    return next(tid for tid, (c, _a, _s) in t.items() if c == cpu)


@pytest.fixture(scope="module")
def st_box():
    box = [Stubs("4")]
    try:
        yield box
    finally:
        box[0].close()


@pytest.fixture
def st(st_box, request):
    """The module's machine; after a failed test (which may have left it stopped with its
    gdb attached) a fresh boot, so one failure is reported once, not by every test after it."""
    failed = getattr(request.session, "kmon_failed_in", set())
    if __name__ in failed:
        failed.discard(__name__)
        st_box[0].close()
        st_box[0] = Stubs("4")
    return st_box[0]


def test_boot_report_names_the_stub_port(st):
    line = next(ln for ln in st.m.boot_text.splitlines() if ln.startswith("gdb: "))
    assert line.startswith("gdb: stub on COM2 (0x2f8)"), line


def test_threads_registers_and_memory_equal_qemus_view(st):
    s = st
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    t = threads(g)
    # Every CPU a thread, tid = index + 1, the APIC IDs QEMU gave the vCPUs.
    assert sorted(t) == [1, 2, 3, 4] and all(tid == c + 1 for tid, (c, _a, _s) in t.items()), t
    want = expected_apic_ids("4", s.m.hmp("info hotpluggable-cpus"))
    assert sorted(a for _c, a, _s in t.values()) == want
    mine = {}
    for tid in t:
        g.cmd(f"thread {tid}")
        mine[tid] = regs_of(g, REGS)
    names = [ln.split()[0] for ln in g.cmd("info registers") if ln.strip()]
    spots = {"text": elf_symbol(s.elf, "ap_main"), "percpu": 0xFFFFFF8002000000,
             "directmap": 0xFFFF800000100000}
    ours_mem = {k: g.cmd(f"x/32xb 0x{a:x}") for k, a in spots.items()}
    # QEMU's stub, with the kernel's stub still holding the machine: the same bytes, and each
    # vCPU's control registers as QEMU has them.
    q = s.qemus()
    try:
        for k, a in spots.items():
            assert q.cmd(f"x/32xb 0x{a:x}") == ours_mem[k], k
        for tid, (cpu, _a, _s) in t.items():
            q.cmd(f"kcpu {cpu}")
            assert regs_of(q, REGS) == mine[tid], (tid, mine[tid])
        # QEMU 10's register names, in its order: `info registers` reads the same.
        assert [ln.split()[0] for ln in q.cmd("info registers") if ln.strip()] == names
    finally:
        detach(q)
    resume(s, g)
    g.interrupt()
    detach_ours(s, g)


def test_monitor_command_equals_the_serial_monitor(st):
    s = st
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    theirs = [ln for ln in g.cmd("monitor cpus") if ln.strip()]
    lines, prompt = s.m.cmd_any("cpus")
    assert prompt == STOP_PROMPT
    assert theirs == lines, (theirs, lines)
    # The JSON twin travels the same way: one document, equal to COM1's.
    doc = [ln for ln in g.cmd("monitor cpus -j") if ln.strip()]
    lines, prompt = s.m.cmd_any("cpus -j")
    assert len(doc) == 1 and doc == lines, (doc, lines)
    assert [c["index"] for c in __import__("json").loads(doc[0])["cpus"]] == [0, 1, 2, 3]
    refused = g.cmd("monitor wedge 1")
    assert any("not available while the other CPUs are stopped" in ln for ln in refused), refused
    detach_ours(s, g)


def test_k_commands_work_unchanged_over_the_kernels_stub(st):
    """gdb/kernel.py reads guest memory and registers the same way through either stub:
    kcpus, kpml4, kphysmap and kpercpu print what the monitor prints for the same stop."""
    s = st
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    for mon, k in (("cpus", "kcpus"), ("pml4", "kpml4"), ("physmap", "kphysmap"), ("percpu 2", "kpercpu 2")):
        theirs = [ln for ln in g.cmd(k) if ln.strip()]
        lines, prompt = s.m.cmd_any(mon)
        assert prompt == STOP_PROMPT
        if mon.startswith("percpu"):  # counters and the gs_base annotation are live: the stable keys
            keep = ("cpu:", "apic:", "base:", "self:", "stack:", "ist1:", "ist2:", "ist3:")
            theirs = [ln for ln in theirs if ln.startswith(keep)]
            lines = [ln for ln in lines if ln.startswith(keep)]
        assert theirs == lines, (k, theirs, lines)
    detach_ours(s, g)


def test_break_hbreak_watch_stepi_hit_where_the_elf_says(st):
    s = st
    handler = elf_symbol(s.elf, "smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)")
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    for kind in ("break", "hbreak"):
        g.cmd(f"{kind} *0x{handler:x}")
        resume(s, g)
        s.m.send("ipi 2 1\r")
        tid = int(g.wait_stop(r"Thread (\d+) hit (?:Hardware assisted )?[Bb]reakpoint \d+").group(1))
        assert tid == 3, tid  # CPU 2
        assert int(g.cmd("p/x $pc")[0].split()[-1], 16) == handler
        # stepi: one instruction, as long as llvm-objdump says it is.
        dis = subprocess.run(["llvm-objdump", "-d", f"--start-address=0x{handler:x}",
                              f"--stop-address=0x{handler + 16:x}", str(s.elf)], capture_output=True, text=True,
                             check=True).stdout
        addrs = [int(m.group(1), 16) for m in re.finditer(r"^([0-9a-f]+):", dis, re.M)]
        # COM1's stop message shows the instruction there (the int3 is still in memory when
        # it is printed, before gdb hears of the stop): the ELF's bytes, never "cc".
        stop = s.serial_until(STOP_PROMPT)
        want = re.search(r"^\s*[0-9a-f]+:\s+((?:[0-9a-f]{2} )+)", dis, re.M).group(1).split()
        shown = re.search(r"0x%016x .+?\+0x0: ((?:[0-9a-f]{2} )+) " % handler, stop)
        assert shown and shown.group(1).split() == want, (stop, want)
        g.cmd("stepi")
        assert int(g.cmd("p/x $pc")[0].split()[-1], 16) == addrs[1]
        g.cmd("delete")
        resume(s, g, prompt=False)
        # The ipi that hit the breakpoint ends (its own timeout leaves the stop out; on a
        # loaded host its CPU may still miss 100 ms and answer by NMI: either is an answer).
        s.serial_until(PROMPT)
        g.interrupt()
    # A write watchpoint on CPU 2's own ipis counter (PerCpu::ipis, offset from DWARF).
    off = int(g.cmd("p/d (long)&((smp::PerCpu*)0)->ipis")[0].split()[-1])
    addr = 0xFFFFFF8002000000 + off
    g.cmd(f"watch *(unsigned long *)0x{addr:x}")
    resume(s, g)
    s.m.send("ipi 2 1\r")
    tid = int(g.wait_stop(r"Thread (\d+) hit Hardware watchpoint \d+").group(1))
    assert tid == 3
    pc = int(g.cmd("p/x $pc")[0].split()[-1], 16)
    assert "on_cross_call" in g.cmd(f"info symbol 0x{pc:x}")[0]
    g.cmd("delete")
    resume(s, g, prompt=False)
    s.serial_until(PROMPT)
    g.interrupt()
    detach_ours(s, g)
    # Nothing left in memory: all of .text (the resident code, from __boot_text_end) as QEMU's
    # stub reads it equals the ELF's.
    text = s.tmp / "text.bin"
    subprocess.run(["llvm-objcopy", "-O", "binary", "--only-section=.text", str(s.elf), str(text)], check=True)
    start = elf_symbol(s.elf, "__boot_text_end")
    size = text.stat().st_size
    q = s.qemus()
    try:
        live = s.tmp / "live.bin"
        q.cmd(f"dump binary memory {live} 0x{start:x} 0x{start + size:x}")
    finally:
        detach(q)
    assert live.read_bytes() == text.read_bytes()


def test_ctrl_c_stops_an_idle_a_busy_and_a_wedged_cpu0(st):
    s = st
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    resume(s, g)
    for line in (None, "busy 4000", "busy 4000 cli"):
        if line:
            s.m.send(line + "\r")
            time.sleep(0.5)  # inside the command
        g.interrupt()
        t = threads(g)
        assert len(t) == 4
        cur = next(ln for ln in g.cmd("info threads") if ln.startswith("*"))
        if line and line.endswith("cli"):
            # CPU 0 spins with interrupts off: the last CPU's poll timer took the ^C.
            assert "cpu 3 " in cur, cur
        g.resume()
        if line:
            s.serial_until("busy for 4000 ms", timeout=60)
    g.interrupt()
    detach_ours(s, g)


def test_stepping_one_cpu_holds_the_others_and_never_enters_an_interrupt(st):
    """vCont;s:N (scheduler-locking on) steps N alone; each stepi lands on the next
    instruction (or a branch target), never in an interrupt handler, although CPU 0 runs
    with interrupts on and its poll timer fires every 20 ms."""
    s = st
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    g.cmd("set scheduler-locking on")
    g.cmd("thread 1")
    others = {}
    for tid in (2, 3, 4):
        g.cmd(f"thread {tid}")
        others[tid] = int(g.cmd("p/x $pc")[0].split()[-1], 16)
    g.cmd("thread 1")
    g.cmd("set debug remote 1")
    out = g.cmd("stepi")
    g.cmd("set debug remote 0")
    assert any("vCont;s:1" in ln and "vCont;s:1;c" not in ln for ln in out), out
    handlers = [elf_symbol(s.elf, n) for n in ("isr_common", "trap_dispatch")]
    for _ in range(20):
        before = int(g.cmd("p/x $pc")[0].split()[-1], 16)
        g.cmd("stepi")
        after = int(g.cmd("p/x $pc")[0].split()[-1], 16)
        sym = g.cmd(f"info symbol 0x{after:x}")[0]
        assert "isr_" not in sym and "trap_dispatch" not in sym and after not in handlers, (hex(before), sym)
    for tid, pc in others.items():
        g.cmd(f"thread {tid}")
        assert int(g.cmd("p/x $pc")[0].split()[-1], 16) == pc, tid  # held while thread 1 stepped
    g.cmd("set scheduler-locking off")
    g.cmd("thread 1")
    g.cmd("set debug remote 1")
    out = g.cmd("stepi")
    g.cmd("set debug remote 0")
    assert any("vCont;s:1;c" in ln for ln in out), out
    detach_ours(s, g)


def test_registers_written_through_gdb_reach_the_saved_frame(st):
    s = st
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    g.cmd("thread 3")
    g.cmd("set $r13 = 0x1234abcd")
    assert "0x1234abcd" in g.cmd("p/x $r13")[0]
    assert "r13=0x000000001234abcd" in " ".join(s.m.cmd_any("regs 2")[0])
    bad = g.cmd("set $cr2 = 0x1000")  # cr2 is int64 in the description (cr3 a flags type)
    assert any("Could not" in ln or "error" in ln.lower() for ln in bad), bad
    g.cmd("set $r13 = 0")
    detach_ours(s, g)


def test_bt_of_a_wedged_cpu_through_both_stubs(st):
    s = st
    assert "interrupts off" in s.m.cmd("wedge 2")[0]
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    g.cmd("thread 3")
    mine = [pc for pc, _t in py_frames(g)]
    q = s.qemus()
    try:
        q.cmd("kcpu 2")
        frames = py_frames(q)
        k = next(i for i, (_pc, trap) in enumerate(frames) if trap)
        assert [pc for pc, _t in frames[k + 1:]] == mine, (frames, mine)
    finally:
        detach(q)
    detach_ours(s, g)
    s.m.cmd("wedge release")


def test_kstop_and_gdb_share_a_stop(st):
    """A monitor breakpoint with gdb attached: gdb gets the stop, kstop> opens on COM1. The
    monitor continues; gdb, which still thinks the machine stopped, stops it again with its
    next packet and is told, at its resume, what the monitor did."""
    s = st
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    resume(s, g)
    s.m.cmd("break smp::xcall_handle")
    s.m.send("ipi 3 1\r")
    g.wait_stop(r"Thread (\d+) received signal SIGTRAP|Thread (\d+) hit")
    s.serial_until(STOP_PROMPT)
    s.m.cmd_any("delete all")
    out, prompt = s.m.cmd_any("continue")
    assert any("gdb is attached and believes the machine stopped" in ln for ln in out), out
    # gdb's next packet (here its resume) stops the machine again first, and gdb is told.
    g.child.sendline("continue")
    g.child.expect_exact("the monitor's `continue` had let the machine run", timeout=30 * SCALE)
    g.running = True
    s.serial_until("gdb spoke (the machine had been resumed by the monitor)")
    s.serial_until("gdb continues the machine")
    g.interrupt()
    detach_ours(s, g)


def test_detach_then_a_second_gdb_attaches(st):
    s = st
    for _ in range(2):
        g = s.ours()
        s.serial_until(STOP_PROMPT)
        assert len(threads(g)) == 4
        detach_ours(s, g)
    assert s.m.cmd("cpus")[1].split()[2] == "online"


def test_a_gdb_that_vanishes_leaves_no_breakpoint_behind(st):
    s = st
    handler = elf_symbol(s.elf, "smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)")
    g = s.ours()
    s.serial_until(STOP_PROMPT)
    g.cmd("set breakpoint always-inserted on")  # the int3 stays in memory while gdb is away
    g.cmd(f"break *0x{handler:x}")
    g.child.kill(9)  # gone without a detach
    g.child.close(force=True)
    g2 = s.ours()  # a new gdb (the machine is still stopped): the kernel removes what the old one left
    assert g2.cmd(f"x/1xb 0x{handler:x}")[0].split()[-1] != "0xcc"
    detach_ours(s, g2)
    q = s.qemus()
    try:
        live = q.cmd(f"x/1xb 0x{handler:x}")[0].split()[-1]
    finally:
        detach(q)
    assert live == "0x55", live  # push %rbp, not int3


def test_random_bytes_on_com2_cost_the_monitor_nothing(st):
    """Line noise on the stub's port (random bytes, stray '$', '#' and 0x03) while the
    monitor works on COM1: every command answers at kmon>, nothing stops the machine, and
    afterwards a real gdb gets in. (The bytes pass QEMU's UART at about the rate of a real
    115200-baud line, so the test waits for them to drain before gdb connects.)"""
    s = st
    rng = random.Random(18)
    data = bytes(rng.randrange(256) for _ in range(24 * 1024)) + b"$#\x03$g#6" + b"\x03" * 8 + b"$qSupp#00"
    with socket.create_connection(("127.0.0.1", s.m.com2_port)) as c:
        for i in range(0, len(data), 2048):
            c.sendall(data[i:i + 2048])
            lines, prompt = s.m.cmd_any("cpus")
            assert prompt == PROMPT and len(lines) == 5, lines
        time.sleep(4 * SCALE)
        c.setblocking(False)
        try:
            sent = c.recv(4096)
        except BlockingIOError:
            sent = b""
        assert sent == b"", sent  # the stub said nothing to noise
    rows = s.m.cmd("cpus")
    assert all(ln.split()[2] == "online" for ln in rows[1:]), rows
    assert "stop:" not in s.m.child.before
    g = s.ours()  # and a real gdb still gets in
    s.serial_until(STOP_PROMPT)
    assert len(threads(g)) == 4
    detach_ours(s, g)


def test_a_fault_reports_to_gdb_and_lands_in_the_panic_shell():
    s = Stubs("2", name="stub-fault")
    try:
        g = s.ours()
        s.serial_until(STOP_PROMPT)
        resume(s, g)
        s.m.send("crash pf 1\r")
        assert int(g.wait_stop(r"Thread (\d+) received signal SIGSEGV").group(1)) == 2
        s.serial_until(PANIC_PROMPT)
        pc = int(g.cmd("p/x $pc")[0].split()[-1], 16)
        assert "do_crash" in g.cmd(f"info symbol 0x{pc:x}")[0]
        g.child.sendline("continue")
        g.child.expect_exact("panicked and cannot run again", timeout=30 * SCALE)
        g.wait_stop(r"received signal SIGSEGV", timeout=30)
        detach(g)
    finally:
        s.close()


@pytest.mark.parametrize("smp", ["64", "255"])
def test_info_threads_at_many_cpus(smp):
    s = Stubs(smp, name=f"stub-threads-{smp}")
    try:
        g = s.ours(machine_text=False)  # as a user's gdb/kernel.gdb has it
        assert any("is on" in ln for ln in g.cmd("show trust-readonly-sections"))
        s.serial_until(STOP_PROMPT, timeout=120)
        t = threads(g)
        want = expected_apic_ids(smp, s.m.hmp("info hotpluggable-cpus"))
        assert sorted(a for _c, a, _s in t.values()) == want
        assert sorted(t) == list(range(1, int(smp) + 1))
        detach(g)
    finally:
        s.close()


@pytest.mark.full
def test_info_threads_at_512_cpus():
    """The cpu512 build at -smp 512 (x2APIC IDs above 255): one thread per CPU."""
    from test_x2apic import build_cpu512
    iso, elf = build_cpu512()
    s = Stubs("512", name="stub-threads-512", iso=iso, elf=elf, mem="2G", boot=False)
    try:
        s.m.boot(timeout=600)
        g = s.ours()
        s.serial_until(STOP_PROMPT, timeout=300)
        t = threads(g)
        want = expected_apic_ids("512", s.m.hmp("info hotpluggable-cpus"))
        assert sorted(a for _c, a, _s in t.values()) == want
        assert sorted(t) == list(range(1, 513))
        assert max(want) > 255
        detach(g)
    finally:
        s.close()


def test_debug_gdb_wait_stops_before_ap_bring_up():
    iso = iso_with_cmdline("debug.gdb.wait")
    s = Stubs("4", name="stub-wait", iso=iso, boot=False)
    try:
        s.m.start()
        s.serial_until("debug.gdb.wait: waiting for gdb on COM2", timeout=120)
        s.serial_until(STOP_PROMPT)
        g = s.ours()
        assert sorted(threads(g)) == [1]  # the APs have not started
        g.resume()
        s.serial_until(PROMPT, timeout=120)
        g.interrupt()
        assert sorted(threads(g)) == [1, 2, 3, 4]
        detach(g)
    finally:
        s.close()


def test_no_uart_on_com2_is_said_and_never_hung_on():
    with Machine(Config(smp="2", mem="256M"), name="stub-absent") as m:
        m.boot()
        line = next(ln for ln in m.boot_text.splitlines() if ln.startswith("gdb: "))
        assert line.startswith("gdb: no UART at COM2 (0x2f8)") and "stub off" in line, line
        assert m.cmd("cpus")


def test_debug_gdb_off():
    iso = iso_with_cmdline("debug.gdb=off")
    with Machine(Config(smp="2", mem="256M", com2=True), name="stub-off", iso=iso) as m:
        m.boot()
        assert "gdb: stub off (debug.gdb=off)" in m.boot_text


def test_console_on_com2_and_the_stub_on_com1():
    iso = iso_with_cmdline("console=com2")
    with Machine(Config(smp="2", mem="256M", console_com2=True), name="stub-console2", iso=iso) as m:
        m.boot()
        assert "serial console on COM2" in m.boot_text
        line = next(ln for ln in m.boot_text.splitlines() if ln.startswith("gdb: "))
        assert line.startswith("gdb: stub on COM1 (0x3f8) (COM2 is the monitor's)"), line
        assert m.cmd("cpus")[1].split()[2] == "online"


def test_console_com2_without_a_uart_there_stays_on_com1():
    iso = iso_with_cmdline("console=com2")
    with Machine(Config(smp="2", mem="256M"), name="stub-console2-absent", iso=iso) as m:
        m.boot()
        assert "console=com2: no UART answers at COM2 (0x2f8); the console is on COM1" in m.boot_text
        assert "serial console on COM1" in m.boot_text
        assert m.cmd("cpus")[1].split()[2] == "online"


def test_the_gdb_command_hands_the_monitors_own_port_to_the_stub():
    """One serial line (COM1, a socket here): `gdb` at kmon> gives it to the stub; gdb
    attaches on the same line, works, detaches; the prompt comes back on it."""
    from pexpect import fdpexpect
    from machine import QEMU
    tmp = Path(__import__("tempfile").mkdtemp(prefix="kmon-handover-"))
    iso, elf = snapshot_image(tmp)
    port = free_port()
    argv = [QEMU, "-nodefaults", "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", "256M",
            "-display", "none", "-no-reboot", "-chardev",
            f"socket,id=s0,host=127.0.0.1,port={port},server=on,wait=off,nodelay=on", "-serial", "chardev:s0",
            "-boot", "d", "-cdrom", str(iso)]
    qemu = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(LOG_DIR / "stub-handover.log", "a", encoding="utf-8", errors="replace")

    def monitor():
        for _ in range(100):
            try:
                c = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.1)
        m = fdpexpect.fdspawn(c, encoding="utf-8", codec_errors="replace", timeout=60 * SCALE)
        m.logfile_read = log
        return c, m

    try:
        c, m = monitor()
        m.expect_exact(PROMPT, timeout=120 * SCALE)
        m.send("gdb\r")
        m.expect_exact("the stub takes COM1 now")
        c.close()  # the user's terminal lets go of the line
        g = Gdb(f"127.0.0.1:{port}", elf, log)
        assert "cannot connect" not in g.banner, g.banner
        assert sorted(threads(g)) == [1, 2]
        cpus = [ln for ln in g.cmd("monitor cpus") if ln.strip()]
        assert len(cpus) == 3 and cpus[0].startswith("index apic"), cpus
        detach(g)
        c, m = monitor()
        # "gdb detached: the monitor is back on COM1" went out while nobody held the line
        # (QEMU drops a socket chardev's output with no client): a fresh Enter shows the prompt.
        m.send("\r")
        m.expect_exact(PROMPT)
        m.send("cpus\r")
        m.expect(r"1\s+1\s+online")
        c.close()
    finally:
        qemu.kill()
        qemu.wait()
        log.close()
