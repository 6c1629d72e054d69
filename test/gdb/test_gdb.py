"""gdb against the kernel under QEMU/TCG, in the same boot as a pexpect session on COM1.

Per topology (-smp 4, and the sparse -smp 6,sockets=2,cores=3,threads=1), one boot:
QEMU starts stopped (-S) with a gdb stub; gdb (pexpect-driven, gdb/kernel.gdb) sets a
hardware breakpoint on _start and a breakpoint on ap_main, counts the hits while the
kernel boots, and then, with the kernel at `kmon> `, every k-command's output is checked
against the monitor command of the same name, run just before on the serial port.

Run: /usr/bin/python3 -m pytest test/gdb -q      (needs build/kernel.iso)
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "qemu"))
from machine import Config, Machine, ISO  # noqa: E402

GDB = os.environ.get("GDB", "/usr/bin/gdb")
GDB_PROMPT = "KGDB> "
SCALE = float(os.environ.get("KMON_TIMEOUT_SCALE", "1"))

TOPOLOGIES = ["4", "6,sockets=2,cores=3,threads=1"]
# --full: x2APIC from firmware with APIC IDs above 255 (socket 2 starts at 256).
FULL_TOPOLOGIES = ["195,sockets=3,cores=65"]

# percpu fields that must be identical; the others are live (see test_kpercpu).
PERCPU_STABLE = ("cpu", "apic", "state", "base", "gs_base", "self", "stack", "ist1", "ist2", "ist3",
                 "arrival_us")
PERCPU_COUNTERS = ("ipis", "nmis", "exceptions")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def snapshot_image(tmp):
    """Copies the ISO and extracts the kernel.elf inside it, so gdb's symbols belong to
    exactly the kernel that boots even if build/ is being rebuilt meanwhile."""
    if not ISO.exists():
        pytest.fail(f"{ISO} missing: run scripts/build first")
    iso = Path(tmp) / "kernel.iso"
    shutil.copyfile(ISO, iso)
    elf = Path(tmp) / "kernel.elf"
    r = subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract", "/boot/kernel.elf",
                        str(elf)], capture_output=True, text=True)
    if r.returncode != 0 or not elf.exists():
        pytest.fail(f"cannot extract /boot/kernel.elf from the ISO: {r.stderr[-500:]}")
    elf.chmod(0o644)
    return iso, elf


def elf_symbol(elf, name):
    out = subprocess.run(["nm", "-C", str(elf)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise KeyError(name)


class Gdb:
    """gdb driven interactively (so the running guest can be interrupted with ^C)."""

    def __init__(self, port, elf, log, machine_text=True):
        env = dict(os.environ, QEMU_GDB_PORT=str(port), KMON_ELF=str(elf), TERM="dumb")
        # kernel.gdb reads .text from the ELF (trust-readonly-sections); the tests compare
        # what the machine holds, so they read it from the machine unless told otherwise.
        after = ["-ex", "set trust-readonly-sections off"] if machine_text else []
        self.child = pexpect.spawn(
            GDB, ["-q", "-nx", "-iex", f"set prompt {GDB_PROMPT}", "-iex", "set style enabled off",
                  "-iex", "set width 0", "-iex", "set height 0", "-x", "gdb/kernel.gdb", *after],
            cwd=str(ROOT), env=env, encoding="utf-8", codec_errors="replace", timeout=30,
            dimensions=(500, 1000))
        self.child.logfile_read = log
        self.running = False
        self.banner = self.wait_prompt(60)

    def wait_prompt(self, timeout=60):
        self.child.expect_exact(GDB_PROMPT, timeout=timeout * SCALE)
        return self.child.before

    def cmd(self, line, timeout=60):
        """Runs a command on the stopped target; returns its output lines."""
        assert not self.running, "target is running"
        self.child.sendline(line)
        out = self.wait_prompt(timeout)
        lines = out.replace("\r\n", "\n").replace("\r", "").split("\n")
        # The echo of the command line comes first.
        if lines and lines[0].strip() == line.strip():
            lines = lines[1:]
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    def resume(self):
        self.child.sendline("continue")
        self.child.expect_exact("Continuing.", timeout=30 * SCALE)
        self.running = True

    def wait_stop(self, pattern, timeout=60):
        """The running target stops: waits for `pattern` (a regex on gdb's stop message),
        then the prompt; returns the match."""
        self.child.expect(pattern, timeout=timeout * SCALE)
        match = self.child.match
        self.wait_prompt(timeout)
        self.running = False
        return match

    def interrupt(self):
        assert self.running
        self.child.sendintr()
        self.child.expect(r"received signal SIGINT|stopped", timeout=30 * SCALE)
        self.wait_prompt(30)
        self.running = False

    def close(self):
        try:
            if self.running:
                self.interrupt()
            self.child.sendline("detach")
            self.child.sendline("quit")
            self.child.expect(pexpect.EOF, timeout=10)
        except Exception:
            pass
        self.child.close(force=True)


class Session:
    """One boot: QEMU stopped at reset with a gdb stub, gdb attached, serial via Machine."""

    def __init__(self, smp):
        self.tmp = tempfile.mkdtemp(prefix="kmon-gdb-")
        self.iso, self.elf = snapshot_image(self.tmp)
        self.port = free_port()
        self.config = Config(smp=smp, extra=("-gdb", f"tcp:127.0.0.1:{self.port}", "-S"))
        self.m = Machine(self.config, name="gdb-" + self.config.id, iso=self.iso)
        self.m.start()
        self.m.log_dir.mkdir(parents=True, exist_ok=True)
        self.gdb_log = open(self.m.log_dir / f"gdb-{self.config.id}.gdb.log", "a", encoding="utf-8",
                            errors="replace")
        self.gdb = self._attach()
        self.start_hits = []
        self.ap_hits = []  # (gdb thread, index argument)

    def _attach(self):
        deadline = time.monotonic() + 30 * SCALE
        while True:  # QEMU opens the gdb port shortly after it starts
            g = Gdb(self.port, self.elf, self.gdb_log)
            if "kernel.gdb: cannot connect" not in g.banner:
                return g
            g.close()
            if time.monotonic() > deadline:
                raise RuntimeError("gdb could not connect to QEMU's stub:\n" + g.banner[-1000:])
            time.sleep(0.3)

    def boot(self):
        """From reset to `kmon> `, counting breakpoint hits on _start and ap_main."""
        g = self.gdb
        start = elf_symbol(self.elf, "_start")
        g.cmd(f"hbreak *0x{start:x}")
        g.cmd("break ap_main")
        deadline = time.monotonic() + self.config.boot_timeout()
        g.child.sendline("continue")
        g.running = True
        while True:
            i = g.child.expect([r"Thread (\d+) hit (?:Hardware assisted )?[Bb]reakpoint \d+, (?:0x[0-9a-f]+ in )?_start",
                                r"Thread (\d+) hit (?:Hardware assisted )?[Bb]reakpoint \d+, ap_main \(index=(\d+)\)",
                                pexpect.TIMEOUT], timeout=1)
            if i in (0, 1):
                groups = g.child.match.groups()
                g.wait_prompt(30)
                g.running = False
                if i == 0:
                    self.start_hits.append((int(groups[0]), g.cmd("p/x $pc")))
                else:
                    self.ap_hits.append((int(groups[0]), int(groups[1])))
                g.child.sendline("continue")
                g.running = True
                continue
            # No stop: has the kernel reached its prompt?
            try:
                self.m.child.expect_exact("kmon> ", timeout=0.5)
                break
            except pexpect.TIMEOUT:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("no kmon> prompt")
        self.m.boot_text = self.m.child.before
        # Anything pending, then stop once and drop the boot breakpoints.
        g.interrupt()
        # The kernel's own count of ap_main entries per slot (PerCpu::ap_entries).
        self.entries = {}
        for i in range(1, self.config.ncpus):
            out = " ".join(g.cmd(f"p $percpu({i}).ap_entries.v"))  # a lib::Atomic<u64>
            mm = re.search(r"= (\d+)", out)
            self.entries[i] = int(mm.group(1)) if mm else None
        g.cmd("delete")
        g.resume()

    def close(self):
        try:
            self.gdb.close()
        finally:
            self.m.close()
            self.gdb_log.close()
            shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def sess(topology):
    s = Session(topology)
    try:
        s.boot()
        yield s
    finally:
        s.close()


def monitor_then_gdb(s, pairs):
    """Runs each monitor command (guest running), then stops the guest once and runs each
    gdb command; returns [(monitor lines, gdb lines)]. Leaves the guest running."""
    mon = [s.m.cmd(mc) for mc, _ in pairs]
    s.gdb.interrupt()
    try:
        gdbo = [s.gdb.cmd(gc) for _, gc in pairs]
    finally:
        s.gdb.resume()
    return list(zip(mon, gdbo))


def sample_addresses(s):
    """Addresses in each region (some mapped, some not), from the running kernel itself."""
    cpus = cpus_table(s.m.cmd("cpus"))
    elf = s.elf
    addrs = [
        0x1000,                                             # user: nothing mapped
        0x0000800000000000,                                 # non-canonical
        0xFFFF800000000000,                                 # direct map: pa 0
        0xFFFF800000000000 + 0x100000 + 0x123,              # direct map: page tables
        0xFFFF800000000000 + 0x1FFDE000 - 8,                # direct map: near the top of RAM
        0xFFFFC00000000000 - 0x1000,                        # directmap region, unmapped
        elf_symbol(elf, "kernel_main"),                     # kernel text
        elf_symbol(elf, "smp::g_cpus") + 0x10,              # kernel bss
        elf_symbol(elf, "trampoline_blob_start"),           # kernel rodata
        0xFFFFFFFF9FFFF000,                                 # kernel region, unmapped
        0xFFFFFFFFC0000000,                                 # devices (first mapping)
        0xFFFFFFFFFFFFF000,                                 # devices, top page
    ]
    for idx, _apic, state, slot in cpus:
        if state == "online":
            addrs += [slot, slot + 0x1000, slot + 0x5FF8]  # data, guard, stack top
    return addrs


def cpus_table(lines):
    out = []
    for ln in lines:
        m = re.match(r"^(\d+)\s+(\d+)\s+(\w+)\s+0x([0-9a-f]{16})", ln)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), m.group(3), int(m.group(4), 16)))
    return out


def parse_blocks(lines):
    blocks, cur = [], {}
    for ln in lines:
        if not ln.strip():
            if cur:
                blocks.append(cur)
            cur = {}
            continue
        k, _, v = ln.partition(": ")
        cur[k] = v
    if cur:
        blocks.append(cur)
    return blocks


# --------------------------------------------------------------------------------------


def test_breakpoints_during_boot(sess):
    """hbreak on the 32-bit entry is hit once, on the BSP, with the 64-bit register set
    (no 'g' packet trouble); ap_main is hit once per AP, each on its own vCPU, with every
    AP index once, and the number of hits matches the online APs the monitor lists."""
    start = elf_symbol(sess.elf, "_start")
    # (A report repeated straight after itself is QEMU's stub quirk described below.)
    starts = [h for k, h in enumerate(sess.start_hits) if k == 0 or sess.start_hits[k - 1][0] != h[0]]
    assert len(starts) == 1, sess.start_hits
    thread, pc = starts[0]
    assert thread == 1
    assert any(f"0x{start:x}" in ln for ln in pc), pc
    cpus = cpus_table(sess.m.cmd("cpus"))
    online_aps = sorted(i for i, _a, st, _s in cpus if st == "online" and i != 0)
    assert len(cpus) == sess.config.ncpus
    # QEMU's gdb stub sometimes reports one stop twice when APs hit the breakpoint at the
    # same moment (seen ~40% of boots at -smp 4 once APs started within microseconds of
    # each other), while the kernel's own count says ap_main ran once: so the repeat of
    # an identical (thread, index) report straight after itself is dropped, and the
    # kernel's count must be exactly 1 for every AP.
    hits = [h for k, h in enumerate(sess.ap_hits) if k == 0 or sess.ap_hits[k - 1] != h]
    assert all(sess.entries[i] == 1 for i in online_aps), sess.entries
    assert sorted(i for _t, i in hits) == online_aps, sess.ap_hits
    threads = [t for t, _i in hits]
    assert len(set(threads)) == len(threads) and 1 not in threads, sess.ap_hits


def test_kcpus_kpml4_kphysmap_exact(sess):
    res = monitor_then_gdb(sess, [("cpus", "kcpus"), ("pml4", "kpml4"), ("physmap", "kphysmap")])
    for mon, g in res:
        assert mon, "monitor printed nothing"
        assert g == mon


def test_kpercpu(sess):
    """Stable fields identical (PERCPU_STABLE, the byte count of stack_used). Live: the
    counters only grow (the monitor's own gs_base probe is a cross-CPU call, so `ipis`
    moves with every `percpu`), and stack_used is a high-water mark."""
    n = sess.config.ncpus
    pairs = [("percpu all", "kpercpu all")] + [(f"percpu {i}", f"kpercpu {i}") for i in range(n)]
    res = monitor_then_gdb(sess, pairs)
    for mon, g in res:
        mb, gb = parse_blocks(mon), parse_blocks(g)
        assert len(mb) == len(gb) and mb, (mon, g)
        for a, b in zip(mb, gb):
            assert list(a) == list(b), "same keys in the same order"
            for k in PERCPU_STABLE:
                assert a[k] == b[k], (k, a, b)
            assert a["gs_base"] == a["base"]  # each CPU's GS points at its own slot
            ua, ub = (re.match(r"(\d+) of (\d+) bytes", x["stack_used"]).groups() for x in (a, b))
            assert ua[1] == ub[1] and int(ub[0]) >= int(ua[0])
            for k in PERCPU_COUNTERS:
                assert int(b[k]) >= int(a[k]), (k, a, b)


def test_kwalk_matches_walk_and_gva2gpa(sess):
    addrs = sample_addresses(sess)
    res = monitor_then_gdb(sess, [(f"walk {a:x}", f"kwalk 0x{a:x}") for a in addrs])
    for a, (mon, g) in zip(addrs, res):
        assert g == mon, hex(a)
    # QEMU's own translation, with the guest stopped (HMP works meanwhile).
    sess.gdb.interrupt()
    try:
        mapped = 0
        for a, (_mon, g) in zip(addrs, res):
            hmp = sess.m.hmp(f"gva2gpa 0x{a:x}")
            last = g[-1]
            m = re.match(r"0x[0-9a-f]{16} -> 0x([0-9a-f]{16}) (4K|2M|1G) ", last)
            if m:
                mapped += 1
                h = re.search(r"gpa: (0x[0-9a-f]+|0)\b", hmp)  # "%#" PRIx64: plain 0 for zero
                assert h, (hex(a), hmp)
                assert int(h.group(1), 16) == int(m.group(1), 16), (hex(a), hmp, last)
            else:
                assert last.startswith("error: "), g
                assert "Unmapped" in hmp or "gpa:" not in hmp, (hex(a), hmp, last)
        assert mapped >= 6
    finally:
        sess.gdb.resume()


def test_pc_and_backtraces(sess):
    """At the prompt: `info symbol $pc` names a kernel function on the BSP; kbt of the BSP
    goes back to monitor::run, of each AP to ap_main and ap_long_entry; every frame has a
    function name."""
    cpus = cpus_table(sess.m.cmd("cpus"))
    nm = subprocess.run(["nm", "-C", "--defined-only", str(sess.elf)], capture_output=True, text=True).stdout
    funcs = {ln.split(" ", 2)[2] for ln in nm.splitlines() if ln.split(" ", 2)[1] in "Tt"}
    sess.gdb.interrupt()
    try:
        sess.gdb.cmd("kcpu 0")
        sym = sess.gdb.cmd("info symbol $pc")
        m = re.match(r"^(.+?)(?: \+ \d+)? in section \.text$", sym[-1])
        assert m, sym
        assert m.group(1) in funcs, sym
        for i, _apic, state, _slot in cpus:
            if state != "online":
                continue
            bt = sess.gdb.cmd(f"kbt {i}")
            assert bt[0].startswith(f"cpu {i} "), bt
            frames = [ln for ln in bt if re.match(r"^#\d+ ", ln)]
            names = []
            for f in frames:
                if re.match(r"^#\d+\s+0x0+ in \?\? \(\)", f):
                    continue  # the zero return address ap_long_entry pushes: end of stack
                fm = re.match(r"^#\d+\s+(?:0x[0-9a-f]+ in )?([^?\s].*?)(?:\[\w+\])? \(", f)
                assert fm, f
                names.append(fm.group(1))
            assert names, bt
            if i == 0:
                assert "monitor::run" in names, bt
            else:
                assert names[-2:] == ["ap_main", "ap_long_entry"], bt
    finally:
        sess.gdb.resume()


def test_percpu_convenience_function(sess):
    """$percpu(n) is a typed smp::PerCpu: fields agree with the monitor's percpu."""
    n = sess.config.ncpus
    mon = [parse_blocks(sess.m.cmd(f"percpu {i}"))[0] for i in range(n)]
    sess.gdb.interrupt()
    try:
        for i in range(n):
            if mon[i].get("gs_base", "").startswith("none"):
                continue
            sess.gdb.cmd(f"set $pcpu = $percpu({i})")  # whatis alone would not call it
            t = sess.gdb.cmd("whatis $pcpu")
            assert t[-1] == "type = smp::PerCpu", t
            idx = sess.gdb.cmd(f"p $percpu({i}).index")[-1]
            apic = sess.gdb.cmd(f"p $percpu({i}).apic_id")[-1]
            self_ = sess.gdb.cmd(f"p/x (unsigned long)$percpu({i}).self")[-1]
            assert idx.endswith(f"= {i}") and apic.endswith(f"= {mon[i]['apic']}"), (idx, apic)
            assert self_.endswith("= " + hex(int(mon[i]["self"], 16))), self_
    finally:
        sess.gdb.resume()


def test_kdis16_takes_an_instruction_count(sess):
    """kdis16 <addr> <count>: `count` instructions of the AP trampoline's real-mode code,
    as objdump decodes the flat binary the build made (build/trampoline.bin)."""
    page = int(re.search(r"trampoline at 0x([0-9a-f]+)", sess.m.boot_text).group(1), 16)
    binary = ROOT / "build" / "trampoline.bin"
    ref = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i8086", f"--adjust-vma=0x{page:x}", str(binary)],
                         capture_output=True, text=True, check=True).stdout
    want = [ln for ln in ref.splitlines() if re.match(r"\s+[0-9a-f]+:\t", ln) and len(ln.split("\t")) > 2][:5]
    (_, got), = monitor_then_gdb(sess, [("help", f"kdis16 0x{page:x} 5")])
    assert [ln.split("\t")[-1] for ln in got] == [ln.split("\t")[-1] for ln in want], (got, want)
    assert [ln.split(":")[0].strip() for ln in got] == [ln.split(":")[0].strip() for ln in want]
