"""QEMU test harness: boot build/kernel.iso under TCG, talk to the kernel monitor on COM1
(pexpect) and to QEMU's own monitor (HMP over a unix socket), and parse what QEMU says
about the guest's page tables (`info mem`, `info tlb`, `info mtree`).

Typical use (see conftest.py for the pytest fixtures):

    with Machine(Config(machine="q35", cpu="max", mem="512M", smp=4)) as m:
        m.boot()
        lines = m.cmd("help")
        runs = parse_info_mem(m.hmp("info mem"))
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import pexpect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
import kmon  # noqa: E402  (the repository's own scripting module: its JSON rules are the tests')
BUILD = Path(os.environ.get("KMON_BUILD_DIR", ROOT / "build"))
ISO = Path(os.environ.get("KMON_ISO", BUILD / "kernel.iso"))
ELF = Path(os.environ.get("KMON_ELF", BUILD / "kernel.elf"))
LOG_DIR = Path(os.environ.get("KMON_TEST_LOGS", BUILD / "test-logs"))
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
OVMF_CODE = Path(os.environ.get("OVMF_CODE", "/usr/share/OVMF/OVMF_CODE_4M.fd"))
OVMF_VARS = Path(os.environ.get("OVMF_VARS", "/usr/share/OVMF/OVMF_VARS_4M.fd"))

PROMPT = "kmon> "
PANIC_PROMPT = "kpanic> "
STOP_PROMPT = "kstop> "
PROMPTS = (PROMPT, PANIC_PROMPT, STOP_PROMPT)

# The seed's layout (CONTRACT.md).
DIRECT_MAP_BASE = 0xFFFF800000000000
DIRECT_MAP_END = 0xFFFFC00000000000
PERCPU_BASE = 0xFFFFFF8000000000
PERCPU_END = 0xFFFFFF8100000000  # the default build; kernel_layout() reads any build's
KERNEL_BASE = 0xFFFFFFFF80000000
KERNEL_END = 0xFFFFFFFFA0000000
DEVICE_BASE = 0xFFFFFFFFC0000000
TOP = 1 << 64

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]")


def strip_ansi(text: str) -> str:
    """Removes terminal escape sequences (HMP's readline redraws its line with them)."""
    return _ANSI.sub("", text)


def parse_size(s: str) -> int:
    """'512M' / '8G' / '128' (MiB, QEMU's default unit) -> bytes."""
    m = re.fullmatch(r"(\d+)([KMGT]?)i?B?", s.strip(), re.I)
    if not m:
        raise ValueError(f"bad size {s!r}")
    n, unit = int(m.group(1)), m.group(2).upper() or "M"
    return n << {"K": 10, "M": 20, "G": 30, "T": 40}[unit]


# --------------------------------------------------------------------------------------
# Configurations


@dataclasses.dataclass(frozen=True)
class Config:
    machine: str = "q35"  # q35 | pc
    cpu: str = "max"
    mem: str = "512M"
    smp: str = "4"  # N or a topology string like 6,sockets=2,cores=3
    uefi: bool = False
    extra: Tuple[str, ...] = ()
    # COM2 as a TCP server on 127.0.0.1 (Machine.com2_port): the kernel's gdb stub port.
    com2: bool = False
    # The console on COM2: COM2 is this pexpect session, COM1 a UART with nothing behind it
    # (boot with console=com2).
    console_com2: bool = False

    @property
    def id(self) -> str:
        fw = "uefi" if self.uefi else "bios"
        smp = str(self.smp).replace(",", "_").replace("=", "")
        s = f"{self.machine}-{self.cpu}-{fw}-{self.mem}-smp{smp}"
        if self.extra:
            s += "-" + re.sub(r"[^A-Za-z0-9_.]+", "_", "_".join(self.extra))[:40]
        if self.com2:
            s += "-com2"
        if self.console_com2:
            s += "-console2"
        return s

    @property
    def ncpus(self) -> int:
        return int(str(self.smp).split(",")[0])

    @property
    def mem_bytes(self) -> int:
        return parse_size(self.mem)

    def boot_timeout(self) -> float:
        """Generous: TCG on a loaded 2-core CI box. SeaBIOS needs ~10 s at -smp 255,
        OVMF ~10-20 s before GRUB."""
        t = 180.0 if self.uefi else 60.0
        t += self.ncpus * 0.5
        scale = float(os.environ.get("KMON_TIMEOUT_SCALE", "1"))
        return t * scale


# --------------------------------------------------------------------------------------
# HMP client


class HmpError(RuntimeError):
    pass


class Hmp:
    """QEMU's human monitor over a unix socket (`-monitor unix:PATH,server=on,wait=off`)."""

    PROMPT = b"(qemu) "

    def __init__(self, path: str, timeout: float = 30.0):
        self.path = path
        self.sock: Optional[socket.socket] = None
        deadline = time.monotonic() + timeout
        last: Optional[Exception] = None
        while time.monotonic() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError as e:  # socket not there yet
                last = e
                s.close()
                time.sleep(0.05)
        if self.sock is None:
            raise HmpError(f"cannot connect to HMP socket {path}: {last}")
        self.banner = self._read_until_prompt(timeout)

    def _read_until_prompt(self, timeout: float) -> str:
        assert self.sock is not None
        buf = bytearray()
        deadline = time.monotonic() + timeout
        while not buf.endswith(self.PROMPT):
            left = deadline - time.monotonic()
            if left <= 0:
                raise HmpError(f"HMP: no prompt within {timeout}s; got {bytes(buf[-300:])!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            if not chunk:
                raise HmpError(f"HMP connection closed; got {bytes(buf[-300:])!r}")
            buf += chunk
        return bytes(buf[: -len(self.PROMPT)]).decode("utf-8", "replace")

    def cmd(self, command: str, timeout: float = 120.0) -> str:
        """Runs one HMP command and returns its output: no echo, no escape sequences,
        no prompt, lines joined with '\\n'."""
        if self.sock is None:
            raise HmpError("HMP not connected")
        self.sock.sendall(command.encode() + b"\n")
        raw = self._read_until_prompt(timeout)
        # The echo (readline redrawing the typed line) ends at the first CRLF.
        nl = raw.find("\n")
        out = raw[nl + 1 :] if nl >= 0 else ""
        out = strip_ansi(out).replace("\r\n", "\n").replace("\r", "")
        return out

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


# --------------------------------------------------------------------------------------
# The machine


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BootError(RuntimeError):
    pass


class KernelPanic(RuntimeError):
    pass


def _no_onlcr() -> None:
    """In the child, before exec: QEMU's stdio chardev keeps OPOST, so a pty with ONLCR
    would turn the kernel's \\r\\n into \\r\\r\\n. Clear ONLCR to see the bytes it sends."""
    try:
        attrs = termios.tcgetattr(0)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(0, termios.TCSANOW, attrs)
    except termios.error:
        pass


class Machine:
    def __init__(self, config: Config = Config(), name: Optional[str] = None,
                 iso: Path = ISO, log_dir: Path = LOG_DIR):
        self.config = config
        self.name = name or config.id
        self.iso = Path(iso)
        self.log_dir = Path(log_dir)
        self.tmp = tempfile.mkdtemp(prefix="kmon-")
        self.hmp_path = os.path.join(self.tmp, "hmp.sock")
        self.child: Optional[pexpect.spawn] = None
        self._hmp: Optional[Hmp] = None
        self.log_path = self.log_dir / f"{self.name}.log"
        self._log = None
        self.boot_text = ""
        self.boot_seconds = 0.0
        self.last_echo = ""  # raw echo of the last cmd() line, up to its first \n
        self.last_raw = ""  # raw serial text of the last cmd(), echo and prompt excluded
        self.panicked = False
        self.broken = False
        self.com2_port = free_port() if config.com2 else None

    # -- process ------------------------------------------------------------------------
    def argv(self) -> List[str]:
        c = self.config
        machine = c.machine
        big = c.mem_bytes > (16 << 30)
        if big:
            # More RAM than this host has: QEMU's default backend refuses to reserve it
            # (QEMU-NOTES), an explicit backend with reserve=off does not.
            machine += ",memory-backend=m0"
        args = [
            # -nodefaults, as scripts/run: no NIC option ROM, no VGA (0.3 s a boot).
            QEMU, "-nodefaults", "-machine", machine, "-accel", "tcg", "-cpu", c.cpu,
            "-smp", str(c.smp), "-m", c.mem,
            *(("-chardev", "null,id=n1", "-serial", "chardev:n1") if c.console_com2 else ()),
            "-chardev", "stdio,id=s0,signal=off", "-serial", "chardev:s0",
            "-display", "none", "-no-reboot",
            "-monitor", f"unix:{self.hmp_path},server=on,wait=off",
        ]
        if self.com2_port is not None:
            args += ["-chardev", f"socket,id=s1,host=127.0.0.1,port={self.com2_port},server=on,wait=off,nodelay=on",
                     "-serial", "chardev:s1"]
        if c.uefi:
            vars_copy = os.path.join(self.tmp, "OVMF_VARS.fd")
            shutil.copyfile(OVMF_VARS, vars_copy)
            args += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                     "-drive", f"if=pflash,format=raw,file={vars_copy}"]
        if big:
            args += ["-object", f"memory-backend-ram,id=m0,size={c.mem},reserve=off"]
        args += ["-boot", "d", "-cdrom", str(self.iso)]
        args += list(c.extra)
        return args

    def start(self) -> None:
        if not self.iso.exists():
            raise BootError(f"{self.iso} does not exist: run scripts/build")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a", encoding="utf-8", errors="replace")
        argv = self.argv()
        self._log.write(f"\n### {time.strftime('%F %T')} {' '.join(argv)}\n")
        self._log.flush()
        self.child = pexpect.spawn(
            argv[0], argv[1:], encoding="utf-8", codec_errors="replace",
            timeout=30, maxread=1 << 16, searchwindowsize=None,
            dimensions=(50, 200), preexec_fn=_no_onlcr, env=dict(os.environ, TERM="dumb"))
        self.child.logfile_read = self._log
        self.child.delaybeforesend = None

    def boot(self, timeout: Optional[float] = None) -> str:
        """Starts QEMU (if not yet) and waits for the first `kmon> `; returns the boot log."""
        if self.child is None:
            self.start()
        t0 = time.monotonic()
        timeout = timeout or self.config.boot_timeout()
        self._expect_prompt(timeout, what="boot")
        self.boot_seconds = time.monotonic() - t0
        self.boot_text = self.child.before
        return self.boot_text

    def _expect_prompt(self, timeout: float, what: str) -> str:
        assert self.child is not None
        i = self.child.expect_exact([PROMPT, PANIC_PROMPT, pexpect.EOF, pexpect.TIMEOUT],
                                    timeout=timeout)
        if i == 0:
            return PROMPT
        self.broken = True  # whatever happened, this machine is not at a prompt
        tail = (self.child.before or "")[-2000:]
        if i == 1:
            self.panicked = True
            raise KernelPanic(f"{what}: kernel panicked:\n{tail}")
        if i == 2:
            raise BootError(f"{what}: QEMU exited (status {self.child.exitstatus}, "
                            f"signal {self.child.signalstatus}):\n{tail}\nlog: {self.log_path}")
        raise BootError(f"{what}: no `{PROMPT}` within {timeout:.0f}s:\n{tail}\n"
                        f"log: {self.log_path}")

    def alive(self) -> bool:
        return (self.child is not None and self.child.isalive() and not self.panicked
                and not self.broken)

    # -- serial -------------------------------------------------------------------------
    def send(self, text: str) -> None:
        assert self.child is not None
        self.child.send(text)

    def cmd(self, line: str, timeout: float = 60.0) -> List[str]:
        """Types `line` + Enter, waits for the next prompt; returns the output lines
        without the echoed command, without the prompt and without line endings."""
        assert self.child is not None
        self.child.send(line + "\r")
        self._expect_prompt(timeout, what=f"cmd {line[:60]!r}")
        raw = self.child.before
        # The echo is everything up to the first newline.
        nl = raw.find("\n")
        out = raw[nl + 1:] if nl >= 0 else ""
        self.last_echo = raw[:nl + 1] if nl >= 0 else raw
        self.last_raw = out
        lines = out.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]

    def cmd_raw(self, line: str, timeout: float = 60.0) -> str:
        """A command's raw output (echo and prompt excluded) when that output may hold the
        prompt itself (dmesg: the log has earlier prompts), where cmd() would stop early.
        A command no output can hold yet (an unknown name, fresh each time) follows it; the
        output is everything before that command's prompt."""
        import uuid
        marker = "nosuch" + uuid.uuid4().hex[:8]
        assert self.child is not None
        self.child.send(line + "\r")
        # Let the command start before the next line is typed (it waits in the UART meanwhile).
        self.child.expect_exact(line + "\r\n", timeout=timeout)
        self.child.send(marker + "\r")
        self.child.expect_exact(f"kmon> {marker}\r\n", timeout=timeout)
        raw = self.child.before
        self.child.expect_exact("kmon> ", timeout=timeout)  # after the marker's error line
        return raw

    def json(self, line: str, timeout: float = 60.0):
        """`line` run with -j after its command name, parsed (python/kmon.py's rules: one
        JSON line; an {"error": ...} document raises kmon.KmonError)."""
        return kmon.parse_view(line, self.cmd(kmon.json_line(line), timeout))

    def cmd_any(self, line: str, timeout: float = 60.0) -> Tuple[List[str], str]:
        """Types `line` + Enter and waits for whichever prompt comes next (kmon>, kpanic>
        or kstop>: a breakpoint or a crash changes it); returns (output lines as cmd()
        gives them, that prompt). QEMU exiting or no prompt in time raises BootError."""
        assert self.child is not None
        self.child.send(line + "\r")
        i = self.child.expect_exact(list(PROMPTS) + [pexpect.EOF, pexpect.TIMEOUT], timeout=timeout)
        if i >= len(PROMPTS):
            self.broken = True
            raise BootError(f"cmd {line[:60]!r}: " + ("QEMU exited" if i == len(PROMPTS) else
                            f"no prompt within {timeout:.0f}s") + f":\n{(self.child.before or '')[-2000:]}")
        prompt = PROMPTS[i]
        self.panicked = prompt == PANIC_PROMPT
        raw = self.child.before
        nl = raw.find("\n")
        out = raw[nl + 1:] if nl >= 0 else ""
        self.last_echo = raw[:nl + 1] if nl >= 0 else raw
        self.last_raw = out
        lines = out.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [ln[:-1] if ln.endswith("\r") else ln for ln in lines], prompt

    def mark(self, text: str) -> None:
        """Writes a marker into the serial log (e.g. the current test's name)."""
        if self._log:
            self._log.write(f"\n### {text}\n")
            self._log.flush()

    # -- HMP ----------------------------------------------------------------------------
    def hmp(self, command: str, timeout: float = 120.0) -> str:
        if self._hmp is None:
            self._hmp = Hmp(self.hmp_path)
        return self._hmp.cmd(command, timeout)

    def cpu_count_hmp(self) -> int:
        return len(re.findall(r"^[ *]*CPU #\d+", self.hmp("info cpus"), re.M))

    def cr3(self, cpu: int) -> int:
        self.hmp(f"cpu {cpu}")
        regs = self.hmp("info registers")
        self.hmp("cpu 0")
        m = re.search(r"CR3=([0-9a-fA-F]+)", regs)
        if not m:
            raise HmpError(f"no CR3 in info registers of cpu {cpu}: {regs[:500]}")
        return int(m.group(1), 16)

    def ram_regions(self) -> List[Tuple[int, int]]:
        return ram_regions_from_mtree(self.hmp("info mtree"), self.hmp("info mtree -f"))

    # -- shutdown -----------------------------------------------------------------------
    def close(self) -> None:
        if self.child is not None and self.child.isalive():
            try:
                if self._hmp is None:
                    self._hmp = Hmp(self.hmp_path, timeout=2)
                self._hmp.sock.sendall(b"quit\n")
                self.child.expect(pexpect.EOF, timeout=10)
            except Exception:
                pass
        if self._hmp is not None:
            self._hmp.close()
            self._hmp = None
        if self.child is not None:
            if self.child.isalive():
                self.child.terminate(force=True)
            try:
                self.child.close(force=True)
            except Exception:
                pass
            self.child = None
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "Machine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------------------
# Parsers for QEMU's view


@dataclasses.dataclass(frozen=True)
class MemRun:
    """One line of HMP `info mem`: a run of pages with the same effective U and W."""
    start: int
    end: int  # exclusive; 2**64 for a run reaching the top
    user: bool
    write: bool


# `info mem` (target/i386/monitor.c mem_print): "%016lx-%016lx %016lx %c%c%c" with the
# start, end and size passed through addr_canonical(), prot letters u/-, r, w/-.
_MEM_RE = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16}) ([0-9a-f]{16}) ([u-])r([w-])$")


def parse_info_mem(text: str) -> List[MemRun]:
    runs = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _MEM_RE.match(line)
        if not m:
            raise ValueError(f"unexpected `info mem` line: {line!r}")
        start, end, size = (int(m.group(i), 16) for i in (1, 2, 3))
        # QEMU computes the end from the non-canonical index and sign-extends bit 47
        # only: a run reaching the top of the address space ends at 0x0001000000000000.
        if end < start:
            end = start + size if start + size <= TOP else TOP
            if end == (1 << 48) or end < start:
                end = TOP
        runs.append(MemRun(start, end, m.group(4) == "u", m.group(5) == "w"))
    return runs


@dataclasses.dataclass(frozen=True)
class Pte:
    """One line of HMP `info tlb`: a present leaf entry (flags of the leaf only)."""
    va: int
    pa: int
    nx: bool  # X: the NX bit is set (not executable)
    g: bool
    ps: bool  # P: large page (2M or 1G leaf)
    d: bool
    a: bool
    pcd: bool  # C
    pwt: bool  # T
    user: bool
    write: bool

    @property
    def executable(self) -> bool:
        return not self.nx


# `info tlb` (print_pte): "%016lx: %016lx %c%c%c%c%c%c%c%c%c" = va (canonical), the
# entry masked to its frame address, then X G P D A C T U W or '-'.
_TLB_RE = re.compile(r"^([0-9a-f]{16}): ([0-9a-f]{16}) ([X-])([G-])([P-])([D-])([A-])([C-])([T-])([U-])([W-])$")


def parse_info_tlb(text: str) -> List[Pte]:
    ptes = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _TLB_RE.match(line)
        if not m:
            raise ValueError(f"unexpected `info tlb` line: {line!r}")
        va, pa = int(m.group(1), 16), int(m.group(2), 16)
        f = [m.group(i) != "-" for i in range(3, 12)]
        ptes.append(Pte(va, pa, *f))
    return ptes


def page_sizes(ptes: Sequence[Pte]) -> List[int]:
    """Best guess of each leaf's size: 4K without P; with P, 1G if the VA and PA are
    1G-aligned and the next leaf is at least 1G away, else 2M. (`info tlb` does not say
    at which level a large leaf sits.)"""
    sizes = []
    for i, p in enumerate(ptes):
        if not p.ps:
            sizes.append(4096)
            continue
        nxt = ptes[i + 1].va if i + 1 < len(ptes) else TOP
        if p.va % (1 << 30) == 0 and p.pa % (1 << 30) == 0 and nxt - p.va >= (1 << 30):
            sizes.append(1 << 30)
        else:
            sizes.append(1 << 21)
    return sizes


def covered(runs: Iterable[Tuple[int, int]], start: int, end: int) -> List[Tuple[int, int]]:
    """Returns the holes of [start, end) not covered by the (start, end) runs."""
    holes = []
    pos = start
    for s, e in sorted(runs):
        if e <= pos:
            continue
        if s > pos:
            holes.append((pos, min(s, end)))
        pos = max(pos, e)
        if pos >= end:
            break
    if pos < end:
        holes.append((pos, end))
    return [h for h in holes if h[0] < h[1]]


_MTREE_ALIAS = re.compile(
    r"^\s*([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, ram\): alias (ram-below-4g|ram-above-4g) ")
_MTREE_FLAT = re.compile(r"^\s*([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, ram\): pc\.ram\b")


def ram_regions_from_mtree(mtree: str, mtree_flat: str = "") -> List[Tuple[int, int]]:
    """The guest-physical RAM QEMU gave the machine, as (start, end exclusive): the
    `ram-below-4g` / `ram-above-4g` aliases of pc.ram (pc and q35), minus the legacy
    VGA/ROM hole 0xa0000-0x100000 which is not RAM to the CPU. Falls back to the flat
    view's pc.ram pieces."""
    regs = set()
    for line in mtree.splitlines():
        m = _MTREE_ALIAS.match(line)
        if m:
            regs.add((int(m.group(1), 16), int(m.group(2), 16) + 1))
    if not regs:
        for line in mtree_flat.splitlines():
            m = _MTREE_FLAT.match(line)
            if m:
                regs.add((int(m.group(1), 16), int(m.group(2), 16) + 1))
    out = []
    for s, e in sorted(regs):
        if s < 0x100000 and e > 0xA0000:  # cut the legacy hole out
            if s < 0xA0000:
                out.append((s, 0xA0000))
            if e > 0x100000:
                out.append((0x100000, e))
        else:
            out.append((s, e))
    return out


def expected_ram_regions(config: Config) -> List[Tuple[int, int]]:
    """RAM layout from -m alone (the documented rule), for cross-checking `info mtree`:
    q35 keeps 2 GiB below 4 GiB once -m >= 2.75 GiB (else all of it), pc 3 GiB once
    -m >= 3.5 GiB; the rest starts at 4 GiB."""
    size = config.mem_bytes
    if config.machine == "q35":
        below = 0x80000000 if size >= 0xB0000000 else size
    else:
        below = 0xC0000000 if size >= 0xE0000000 else size
    regs = [(0, below)]
    if size > below:
        regs.append((1 << 32, (1 << 32) + size - below))
    out = []
    for s, e in regs:
        if s < 0xA0000 < e:
            out.append((s, 0xA0000))
            if e > 0x100000:
                out.append((0x100000, e))
        else:
            out.append((s, e))
    return out


# --------------------------------------------------------------------------------------
# The kernel ELF's loadable segments (to compare the mapped image with the file)


@dataclasses.dataclass(frozen=True)
class Segment:
    vaddr: int
    memsz: int
    read: bool
    write: bool
    execute: bool


def elf_load_segments(path: Path = ELF) -> List[Segment]:
    import struct
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{path}: not an ELF64 file")
    (e_phoff,) = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    segs = []
    for i in range(e_phnum):
        p_type, p_flags, _off, p_vaddr, _paddr, _filesz, p_memsz, _align = \
            struct.unpack_from("<IIQQQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == 1 and p_memsz:  # PT_LOAD
            segs.append(Segment(p_vaddr, p_memsz, bool(p_flags & 4), bool(p_flags & 2),
                                bool(p_flags & 1)))
    return segs


@dataclasses.dataclass(frozen=True)
class ElfSymbol:
    addr: int
    size: int  # 0 where the ELF gives none (assembly labels)
    kind: str  # llvm-nm's letter: t/T text, d/D data, b/B bss, r/R rodata, ...
    name: str  # demangled, as llvm-nm -C prints it
    sized: bool = True  # llvm-nm printed a size column (assembly labels may have none)


_ELF_SYMBOLS: dict = {}


def elf_symbols(path: Path = ELF) -> List[ElfSymbol]:
    """Every defined symbol of the ELF, by address (llvm-nm -n -S -C --defined-only): the
    oracle for names, addresses and sizes. Read once per file version."""
    path = Path(path)
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _ELF_SYMBOLS:
        out = subprocess.run(["llvm-nm", "-n", "-S", "-C", "--defined-only", str(path)],
                             capture_output=True, text=True, check=True).stdout
        syms = []
        for ln in out.splitlines():
            p = ln.split(" ", 3)
            if len(p) == 4:
                syms.append(ElfSymbol(int(p[0], 16), int(p[1], 16), p[2], p[3]))
            elif len(p) == 3:
                syms.append(ElfSymbol(int(p[0], 16), 0, p[1], p[2], sized=False))
        _ELF_SYMBOLS[key] = syms
    return _ELF_SYMBOLS[key]


def elf_symbol(name: str, path: Path = ELF) -> ElfSymbol:
    """The symbol named exactly `name`, or a function `name(...)` given without its
    parameters; KeyError if none."""
    for s in elf_symbols(path):
        if s.name == name or s.name.startswith(name + "("):
            return s
    raise KeyError(f"no symbol {name!r} in {path}")


def xp_bytes(m: "Machine", pa: int, n: int) -> bytes:
    """n bytes of guest physical memory at pa, read by QEMU (HMP `xp`), 4 KiB at a time."""
    out = bytearray()
    while len(out) < n:
        k = min(4096, n - len(out))
        text = m.hmp(f"xp /{k}xb {pa + len(out):#x}")
        # Lines "<16 hex digits>: 0x.. 0x..": only the bytes carry a 0x prefix.
        vals = [int(v, 16) for v in re.findall(r"0x([0-9a-f]{2})\b", text)]
        assert len(vals) >= k, text[:300]
        out += bytes(vals[:k])
    return bytes(out)


def elf_read_symbol(name: str, size: int, path: Path = ELF) -> bytes:
    """`size` bytes at symbol `name` of the ELF file (its address mapped to a file offset
    through the PT_LOAD program headers): constants as the build under test has them."""
    import struct
    out = subprocess.run(["llvm-nm", str(path)], capture_output=True, text=True, check=True).stdout
    addr = next(int(f[0], 16) for f in (ln.split() for ln in out.splitlines()) if len(f) == 3 and f[2] == name)
    data = Path(path).read_bytes()
    (e_phoff,) = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(e_phnum):
        p_type, _f, off, vaddr, _pa, filesz, _memsz, _al = struct.unpack_from("<IIQQQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == 1 and vaddr <= addr and addr + size <= vaddr + filesz:
            return data[off + addr - vaddr: off + addr - vaddr + size]
    raise ValueError(f"{name} at {addr:#x} is in no loaded segment of {path}")


def kernel_layout(path: Path = ELF) -> dict:
    """The kernel's g_kernel_layout (src/mm/layout_export.cpp) read from the ELF."""
    import struct
    fields = ("direct_map_base", "direct_map_end", "percpu_base", "percpu_end", "percpu_slot_size", "max_cpus",
              "kernel_base", "kernel_end", "device_base")
    return dict(zip(fields, struct.unpack("<9Q", elf_read_symbol("g_kernel_layout", 72, path))))


def qemu_version() -> str:
    out = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def kernel_consts(path: Path = ELF) -> dict:
    """The kernel's g_kernel_consts (src/export/gdb_export.cpp) by member name, read from
    the ELF through gdb (member names and offsets from DWARF, values from the file)."""
    out = subprocess.run(["gdb", "-q", "-batch", "-nx", "-ex", "p/x g_kernel_consts", str(path)],
                         capture_output=True, text=True, check=True).stdout
    vals = dict((k, int(v, 16)) for k, v in re.findall(r"(\w+) = (0x[0-9a-f]+)", out))
    if not vals:
        raise ValueError(f"no g_kernel_consts in {path}: {out[:300]}")
    return vals


_REG_RE = {name: re.compile(rf"\b{name}=([0-9a-fA-F]+)") for name in ("CR0", "CR2", "CR3", "CR4", "EFER")}


def hmp_cpu_registers(text: str) -> dict:
    """HMP `info registers -a`: {cpu index: {"CR0": v, "CR3": v, "CR4": v, "EFER": v, ...}};
    QEMU prints a `CPU#n` header before each vCPU's block."""
    blocks = re.split(r"^CPU#(\d+)\s*$", text, flags=re.M)
    regs = {}
    for i in range(1, len(blocks) - 1, 2):
        body = blocks[i + 1]
        regs[int(blocks[i])] = {k: int(r.search(body).group(1), 16) for k, r in _REG_RE.items() if r.search(body)}
    return regs


def iso_with_cmdline(options: str, build: Path = BUILD) -> Path:
    """The same kernel with `options` as its command line (appended to GRUB's multiboot2
    line): the rescue image scripts/mkiso-cmdline makes and caches under
    build/iso-cmdline/, as `scripts/run --append` does."""
    out = subprocess.run([str(ROOT / "scripts" / "mkiso-cmdline"), "--build-dir", str(build), options],
                         check=True, capture_output=True, text=True).stdout
    return Path(out.strip().splitlines()[-1])
