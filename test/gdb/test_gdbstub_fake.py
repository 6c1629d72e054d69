"""Debian's gdb against the gdb stub's protocol core (src/gdbstub), served over TCP by
build/host/gdbstub_server with a fake machine behind it (test/host/gdbstub_fake.hpp: four
CPUs with made-up registers, NOP text at 0xffffffff80200000, data bytes 00 01 02 ... at
0xffffffff80300000, scripted stops). No kernel and no QEMU needed, except for the oracle:
the register list gdb builds from our target.xml is compared with the one it builds from
QEMU 10's own stub (qemu-system-x86_64 -S -gdb ...).

Builds the host preset's gdbstub_server target first (incremental; cmake --preset host
when build/host is not configured yet).

Run: /usr/bin/python3 -m pytest test/gdb/test_gdbstub_fake.py -q
"""

import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "host"
SERVER = BUILD / "gdbstub_server"
GDB = os.environ.get("GDB", "/usr/bin/gdb")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
SCALE = float(os.environ.get("KMON_TIMEOUT_SCALE", "1"))
GDB_PROMPT = "FAKEGDB> "

TEXT = 0xffffffff80200000
DATA = 0xffffffff80300000

# The registers `info registers` lists for QEMU 10's description, in order: the general
# group of org.gnu.gdb.i386.core (x87 registers are in the float group).
INFO_REGISTERS = (["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"] +
                  [f"r{i}" for i in range(8, 16)] +
                  ["rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "k_gs_base",
                   "cr0", "cr2", "cr3", "cr4", "cr8", "efer"] +
                  [f"xmm{i}" for i in range(16)] + ["mxcsr"])


@pytest.fixture(scope="module")
def server_binary():
    """Builds gdbstub_server (the host preset, ASan/UBSan like the unit tests)."""
    env = dict(os.environ)
    if not (BUILD / "build.ninja").exists():
        r = subprocess.run(["cmake", "--preset", "host"], cwd=ROOT, capture_output=True, text=True, env=env)
        assert r.returncode == 0, "cmake --preset host failed:\n" + r.stdout[-2000:] + r.stderr[-2000:]
    # The machines this runs on have 2 cores.
    r = subprocess.run(["cmake", "--build", "--preset", "host", "--target", "gdbstub_server", "-j", "2"],
                       cwd=ROOT, capture_output=True, text=True, env=env)
    assert r.returncode == 0, "building gdbstub_server failed:\n" + r.stdout[-3000:] + r.stderr[-3000:]
    assert SERVER.exists()
    return SERVER


class Server:
    """gdbstub_server on a free port of 127.0.0.1, logging every byte both ways."""

    def __init__(self, binary, *args):
        self.dir = tempfile.mkdtemp(prefix="kmon-gdbstub-")
        self.log_path = Path(self.dir) / "wire.log"
        self.proc = subprocess.Popen([str(binary), "--log", str(self.log_path), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert m, f"gdbstub_server did not start: {line!r} {self.proc.stderr.read() if self.proc.poll() else ''}"
        self.port = int(m.group(1))

    def wire(self, raw=False):
        """The log: lines '<- bytes' (from gdb) and '-> bytes' (to gdb), '## connection';
        bytes outside 0x20-0x7e as \\xNN. Unless raw, what we sent is shown with its
        run-length encoding expanded (after checking every checksum), as gdb reads it."""
        text = self.log_path.read_text(errors="replace")
        if raw:
            return text
        return "\n".join(expand_line(line) if line.startswith("-> ") else line for line in text.split("\n"))

    def stop(self):
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        # Sanitizer reports end up on stderr: none allowed.
        assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err[-3000:]


def expand_line(line):
    """One '-> ' log line with each packet's run-length encoding expanded (RSP "Overview":
    'X*c' is X and c - 29 more X); asserts the checksums."""
    data = re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), line[3:])
    out = []
    i = 0
    while i < len(data):
        if data[i] != "$":
            out.append(data[i])
            i += 1
            continue
        end = data.index("#", i)
        raw = data[i + 1:end]
        assert int(data[end + 1:end + 3], 16) == sum(map(ord, raw)) % 256, f"bad checksum: {line}"
        body = []
        j = 0
        while j < len(raw):
            if raw[j] == "*":
                body.append(body[-1][-1] * (ord(raw[j + 1]) - 29))
                j += 2
            else:
                body.append(raw[j])
                j += 1
        out.append("$" + "".join(body) + data[end:end + 3])
        i = end + 3
    return "-> " + "".join(out)


@pytest.fixture
def server(server_binary):
    s = Server(server_binary)
    yield s
    s.stop()


def gdb_batch(port, *cmds, pre=(), timeout=60):
    """gdb -batch: connects, runs cmds; returns everything it printed (stdout + stderr)."""
    args = [GDB, "-q", "-nx", "-batch", "-iex", "set width 0", "-iex", "set height 0",
            "-iex", "set style enabled off", "-iex", "set confirm off"]
    for c in pre:
        args += ["-ex", c]
    args += ["-ex", f"target remote 127.0.0.1:{port}"]
    for c in cmds:
        args += ["-ex", c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout * SCALE)
    return r.stdout + r.stderr


def lines_after(out, marker):
    return out.split(marker, 1)[1].splitlines() if marker in out else []


# --- threads, registers, memory -----------------------------------------------------------

def test_info_threads_with_extra_info(server):
    out = gdb_batch(server.port, "info threads")
    rows = re.findall(r"^\*?\s+(\d+)\s+Thread (\d+) \((.*?)\) (0x[0-9a-f]+) in", out, re.M)
    assert [(int(a), int(b)) for a, b, _, _ in rows] == [(1, 1), (2, 2), (3, 3), (4, 4)], out
    assert [r[2] for r in rows] == [f"cpu {i} apic {2 * i} online" for i in range(4)]
    assert [int(r[3], 16) for r in rows] == [TEXT + 0x100 * t for t in range(1, 5)]


def test_info_registers(server):
    out = gdb_batch(server.port, "echo @@\\n", "info registers", "echo @@\\n", "thread 3", "p/x $rip",
                    "p $st0", "p $st1", "p/x $fctrl", "p $fstat", "info registers eflags cr0 cr3 cr4 efer")
    regs = lines_after(out, "@@\n")
    regs = regs[:regs.index("@@")]
    names = [line.split()[0] for line in regs]
    assert names == INFO_REGISTERS, out
    values = {line.split()[0]: line.split(None, 1)[1] for line in regs}
    assert values["rax"].split()[0] == "0x100"
    assert values["rip"].split()[0] == "0xffffffff80200100"
    assert values["eflags"] == "0x246               [ IOPL=0 IF ZF PF ]"
    assert values["cs"].split()[0] == "0x8"
    # What the fake did not save is <unavailable>, never 0.
    for r in ("k_gs_base", "cr8", "mxcsr"):
        assert values[r] == "<unavailable>", (r, values[r])
    assert "uint128 = <unavailable>" in values["xmm0"]
    assert "$1 = 0xffffffff80200300" in out  # thread 3's rip
    assert "$2 = 1" in out                   # st0 = 1.0 in 80-bit extended precision
    assert "$3 = <unavailable>" in out
    assert "$4 = 0x37f" in out
    assert "$5 = <unavailable>" in out
    assert re.search(r"^cr0\s+0x80010011\s+\[ PG WP ET PE \]$", out, re.M), out
    assert re.search(r"^cr3\s+0x100000\s+\[ PDBR=256 PCID=0 \]$", out, re.M), out
    assert re.search(r"^efer\s+0xd00\s+\[ NXE LMA LME \]$", out, re.M), out


def test_write_registers(server):
    out = gdb_batch(server.port, "set $rax = 0x1234", "p/x $rax", "set $cs = 0x18", "p/x $cs",
                    "set $r15 = -1", "p/x $r15")
    assert "$1 = 0x1234" in out
    assert "Could not write register \"cs\"; remote failure reply 'E22'" in out, out
    assert "$2 = 0x8" in out
    assert "$3 = 0xffffffffffffffff" in out
    # P is used, and only the changed register goes out.
    assert "<- $P0=3412000000000000#" in server.wire()


def test_examine_and_write_memory(server):
    out = gdb_batch(server.port, f"x/16xb 0x{DATA:x}", "x/4xb 0x1000", f"x/2i 0x{TEXT:x}",
                    f"set var *(unsigned int*)0x{DATA + 0x100:x} = 0x2324247d", f"x/4xb 0x{DATA + 0x100:x}",
                    f"set var *(char*)0x{0xffffffff80400000:x} = 1")
    assert re.search(rf"0x{DATA:x}:\s+0x00\s+0x01\s+0x02\s+0x03\s+0x04\s+0x05\s+0x06\s+0x07", out), out
    assert re.search(rf"0x{DATA + 8:x}:\s+0x08\s+0x09\s+0x0a\s+0x0b\s+0x0c\s+0x0d\s+0x0e\s+0x0f", out), out
    assert "Cannot access memory at address 0x1000" in out
    assert re.search(rf"0x{TEXT:x}:\s+nop", out), out
    # '}' '$' '$' '#' go through X escaped and come back through m.
    assert re.search(rf"0x{DATA + 0x100:x}:\s+0x7d\s+0x24\s+0x24\s+0x23", out), out
    wire = server.wire()
    assert f"<- $X{DATA + 0x100:x},0:#" in wire            # gdb's probe for X
    assert f"<- $X{DATA + 0x100:x},4:}}]$$#" not in wire  # (it must not be sent unescaped)
    assert re.search(r"<- \$X[0-9a-f]+,4:}]}\\x04}\\x04}\\x03#", wire), wire[-2000:]
    # The read-only page: the write fails.
    assert "Cannot access memory at address 0xffffffff80400000" in out


# --- breakpoints, watchpoints, stepping -------------------------------------------------------

def test_breakpoints_and_stepping(server):
    bp = TEXT + 0x20
    hb = TEXT + 0x10
    out = gdb_batch(server.port, "stepi", "p/x $pc", f"break *0x{bp:x}", "continue", "p/x $pc", "info threads",
                    "delete", f"hbreak *0x{hb:x}", "continue", "p/x $pc", "stepi", "p/x $pc", "delete")
    assert "$1 = 0xffffffff80200101" in out, out  # one NOP
    assert f"Breakpoint 1 at 0x{bp:x}" in out
    assert f"Thread 2 hit Breakpoint 1, 0x{bp:x} in ?? ()" in out, out
    assert f"$2 = 0x{bp:x}" in out
    assert re.search(rf"^\* 2\s+Thread 2 \(cpu 1 apic 2 online\) 0x{bp:x} in", out, re.M), out
    assert f"Hardware assisted breakpoint 2 at 0x{hb:x}" in out
    assert f"Thread 2 hit Breakpoint 2, 0x{hb:x} in ?? ()" in out, out
    assert f"$4 = 0x{hb + 1:x}" in out, out
    wire = server.wire()
    assert f"<- $Z0,{bp:x},1#" in wire and f"<- $Z1,{hb:x},1#" in wire
    assert "swbreak:;" in wire and "hwbreak:;" in wire
    # gdb steps over the breakpoint it stopped at with vCont (vContSupported+).
    assert re.search(r"<- \$vCont;s:2(;c)?#", wire), wire[-3000:]


def test_watchpoints(server):
    out = gdb_batch(server.port, f"watch *(char*)0x{DATA + 4:x}", "continue", "delete",
                    f"awatch *(int*)0x{DATA + 8:x}", "continue", "delete",
                    f"rwatch *(int*)0x{DATA + 16:x}", "continue", "info breakpoints", "delete")
    assert f"Hardware watchpoint 1: *(char*)0x{DATA + 4:x}" in out, out
    assert "Thread 2 hit Hardware watchpoint 1" in out and "Old value = 4 '\\004'" in out and \
        "New value = 5 '\\005'" in out, out
    assert "Thread 2 hit Hardware access (read/write) watchpoint 2" in out, out
    # x86 has no read-only watchpoint: Z3 gets the empty reply ("not supported") and gdb
    # 13 falls back to an access watchpoint (Z4), reporting only the hits that left the
    # value unchanged, as it does natively on x86.
    assert f"Hardware read watchpoint 3: *(int*)0x{DATA + 16:x}" in out
    assert "Thread 2 hit Hardware read watchpoint 3" in out, out
    assert "Value = 319951120" in out  # 0x13121110, the fake's bytes 10 11 12 13
    wire = server.wire()
    assert f"<- $Z3,{DATA + 16:x},4#" in wire
    assert f"<- $Z4,{DATA + 16:x},4#" in wire
    assert f"T05thread:2;watch:{DATA + 4:x};" in wire
    assert f"T05thread:2;awatch:{DATA + 16:x};" in wire


def test_read_watch_as_error_reply(server_binary):
    """What gdb 13 does when Z3 gets an error instead: a misleading message, and every
    later resume fails until the watchpoint is deleted. Why the Target answers Unsupported."""
    s = Server(server_binary, "--read-watch", "error")
    try:
        out = gdb_batch(s.port, f"rwatch *(int*)0x{DATA:x}", "continue", "continue")
        assert "Could not insert hardware watchpoint 1." in out, out
        assert "You may have requested too many hardware breakpoints/watchpoints." in out
        assert out.count("Command aborted.") == 2
    finally:
        s.stop()


def test_too_many_hardware_breakpoints(server):
    out = gdb_batch(server.port, *[f"hbreak *0x{TEXT + 0x40 + i:x}" for i in range(5)], "continue")
    assert "Could not insert hardware breakpoint 5." in out or "Could not insert hardware breakpoints" in out, out
    assert "<- $Z1," in server.wire() and "E28" in server.wire()


def test_continue_and_interrupt(server):
    """No breakpoint: the fake machine runs until gdb's ^C (0x03), then stops with SIGINT."""
    child = pexpect.spawn(GDB, ["-q", "-nx", "-iex", f"set prompt {GDB_PROMPT}", "-iex", "set style enabled off",
                                "-iex", "set width 0", "-iex", "set height 0", "-iex", "set confirm off",
                                "-ex", f"target remote 127.0.0.1:{server.port}"],
                          encoding="utf-8", codec_errors="replace", timeout=30 * SCALE)
    try:
        child.expect_exact(GDB_PROMPT)
        child.sendline("continue")
        child.expect_exact("Continuing.")
        time.sleep(0.5)
        child.sendintr()
        child.expect(r"received signal SIGINT, Interrupt\.")
        child.expect_exact(GDB_PROMPT)
        child.sendline("info threads")
        child.expect(r"\* 1\s+Thread 1 \(cpu 0 apic 0 online\)")
        child.expect_exact(GDB_PROMPT)
        child.sendline("detach")
        child.expect_exact("detached")
        child.expect_exact(GDB_PROMPT)
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    wire = server.wire()
    assert "<- \\x03" in wire
    assert "-> $T02thread:1;#" in wire


# --- monitor, protocol modes, detach ----------------------------------------------------------

def test_monitor_commands(server):
    out = gdb_batch(server.port, "monitor help", "monitor cpus", "monitor lines 300", "monitor raw 5000",
                    "monitor fail", "monitor nosuch")
    assert "help   this list\ncpus   one line per cpu\n" in out
    assert "index apic state\n0 0 online\n1 2 online\n2 4 online\n3 6 online\n" in out
    for i in (1, 150, 300):
        assert f"line {i} of 300\n" in out
    assert ("abcdefghijklmnopqrstuvwxyz" * 192)[:5000] in out
    assert "error: this command fails\n" in out
    assert "Protocol error with Rcmd" in out  # gdb 13's words for an E reply to qRcmd
    assert "error: unknown command 'nosuch'" in out
    # Streamed: an O packet per line, each sent as the line was complete.
    wire = server.wire()
    assert wire.count("-> $O6c696e6520") >= 299 or wire.count("-> $O6c696e65") >= 299


def test_no_ack_mode(server):
    out = gdb_batch(server.port, "info threads", pre=["set debug remote 1"])
    before, after = out.split("Sending packet: $QStartNoAckMode#b0", 1)
    assert "Received Ack" in before
    # gdb's own account: the OK to QStartNoAckMode is acked, nothing after it.
    first, rest = after.split("Packet received: OK", 1)
    assert "Received Ack" in first
    assert "Received Ack" not in rest and "Sending packet" in rest, out[-3000:]
    # And on the wire: no '+' from us after the OK.
    # The log has a line per read or write, and how gdb's bytes were cut into reads is up to
    # TCP and the scheduler ('+' and the next packet may share one): join each direction's runs.
    runs = []
    for line in server.wire().split("\n"):
        if line[:3] in ("<- ", "-> "):
            if runs and runs[-1][0] == line[:2]:
                runs[-1][1] += line[3:]
            else:
                runs.append([line[:2], line[3:]])
    at = next(i for i, (d, data) in enumerate(runs) if d == "<-" and "$QStartNoAckMode#b0" in data)
    replies = "".join(data for d, data in runs[at + 1:] if d == "->")
    assert replies.startswith("+$OK#9a"), replies[:200]  # the ack of QStartNoAckMode, then OK
    # After it only packets: no '+' between them.
    between = re.sub(r"\$[^#]*#[0-9a-f]{2}", "", replies[len("+$OK#9a"):])
    assert "+" not in between, replies[:2000]


def test_detach_and_second_attach(server):
    out1 = gdb_batch(server.port, "set $rbx = 0x77", "detach")
    assert "[Inferior 1 (Remote target) detached]" in out1
    out2 = gdb_batch(server.port, "info threads", "p/x $rbx", "kill")
    assert re.search(r"^\* 1\s+Thread 1 \(cpu 0 apic 0 online\)", out2, re.M), out2
    assert "$1 = 0x77" in out2  # the same machine
    out3 = gdb_batch(server.port, "info threads")
    assert "Thread 4 (cpu 3 apic 6 online)" in out3
    wire = server.wire()
    assert wire.count("## connection") == 3
    assert "<- $D#44" in wire and "<- $k#6b" in wire


def test_many_threads(server_binary):
    s = Server(server_binary, "--threads", "512")
    try:
        out = gdb_batch(s.port, "info threads", "thread 512", "p/x $rip", timeout=120)
        rows = re.findall(r"^\*?\s+(\d+)\s+Thread (\d+) \(cpu (\d+) apic", out, re.M)
        assert len(rows) == 512, out[-2000:]
        assert all(int(a) == int(b) == int(c) + 1 for a, b, c in rows)
        assert f"$1 = 0x{TEXT + 0x100 * 512:x}" in out
    finally:
        s.stop()


# --- the oracle: QEMU 10's own stub -------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


REGISTER_VIEWS = ["maint print remote-registers", "info registers", "info all-registers",
                  "ptype $eflags", "ptype $cr0", "ptype $cr3", "ptype $cr4", "ptype $efer", "ptype $mxcsr",
                  "ptype $xmm0", "ptype $st0", "ptype $fs_base", "ptype $rip", "ptype $rsp", "ptype $cs"]


def register_views(port):
    cmds = []
    for i, c in enumerate(REGISTER_VIEWS):
        cmds += [f"echo @@{i}\\n", c]
    out = gdb_batch(port, *cmds, "echo @@end\\n")
    views = {}
    for i, c in enumerate(REGISTER_VIEWS):
        views[c] = out.split(f"@@{i}\n", 1)[1].split("@@", 1)[0]
    return views


def names_in(view):
    return [line.split()[0] for line in view.splitlines() if line.strip()]


def test_register_description_matches_qemu(server):
    port = free_port()
    qemu = subprocess.Popen([QEMU, "-S", "-gdb", f"tcp:127.0.0.1:{port}", "-nodefaults", "-display", "none",
                             "-machine", "q35", "-accel", "tcg", "-cpu", "max"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30 * SCALE
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert qemu.poll() is None, qemu.stderr.read()
                assert time.monotonic() < deadline, "QEMU's gdb stub did not open"
                time.sleep(0.2)
        theirs = register_views(port)
    finally:
        qemu.kill()
        qemu.wait()
    ours = register_views(server.port)
    # The whole register map gdb builds: names, gdb numbers, sizes, types, remote numbers
    # and 'g' offsets, identical.
    assert ours["maint print remote-registers"] == theirs["maint print remote-registers"]
    assert "k_gs_base   157  157    292       8 int64_t              26         180" in ours[
        "maint print remote-registers"]
    # The same registers in the same order (values differ: another machine).
    assert names_in(ours["info registers"]) == names_in(theirs["info registers"]) == INFO_REGISTERS
    assert names_in(ours["info all-registers"]) == names_in(theirs["info all-registers"])
    # The same types, field by field.
    for c in REGISTER_VIEWS[3:]:
        assert ours[c] == theirs[c], c
