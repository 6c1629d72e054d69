"""Script the kmon monitor from Python: boot the ISO under QEMU, run commands, get the
JSON twin of any view (`<command> -j ...`) as Python objects. Needs only pexpect and the
standard library.

    import sys; sys.path.insert(0, "python")
    from kmon import Kmon
    with Kmon(smp=4) as k:                        # boots build/kernel.iso, waits for kmon>
        cpus = k.json("cpus")["cpus"]             # runs `cpus -j`, parses the one line
        print([(c["index"], c["apic"], c["state"]) for c in cpus])

From a shell: `python3 python/kmon.py --smp 4 cpus 'walk ffffffff80200000'` prints each
view's JSON. A command that fails raises KmonError with the kernel's message.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, List, Optional, Sequence

import pexpect

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ISO = Path(os.environ.get("KMON_ISO", ROOT / "build" / "kernel.iso"))
PROMPTS = ("kmon> ", "kstop> ", "kpanic> ")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


class KmonError(RuntimeError):
    """The monitor answered with an error (`{"error": ...}` or `error: ...`), or QEMU
    went away or no prompt came in time."""


def json_line(line: str) -> str:
    """`walk ffffffff80200000` -> `walk -j ffffffff80200000` (-j right after the name)."""
    name, _, rest = line.strip().partition(" ")
    return f"{name} -j {rest}".rstrip()


def parse_view(line: str, lines: Sequence[str]) -> Any:
    """The one JSON line a `-j` command printed, parsed; KmonError for an error document
    or for anything but exactly one line."""
    lines = [ln for ln in lines if ln.strip()]
    if len(lines) != 1:
        raise KmonError(f"{line!r}: expected one JSON line, got {len(lines)}:\n" + "\n".join(lines[:20]))
    doc = json.loads(lines[0])
    if isinstance(doc, dict) and set(doc) == {"error"}:
        raise KmonError(f"{line!r}: {doc['error']}")
    return doc


class Kmon:
    """One QEMU running the kernel, its monitor on COM1 (QEMU's stdio).

    smp, mem, machine, cpu: QEMU's -smp, -m, -machine and -cpu; uefi: OVMF instead of
    SeaBIOS; extra: more QEMU arguments; iso: the image (default build/kernel.iso);
    log: a file object that gets every byte the kernel prints."""

    def __init__(self, smp: int | str = 2, mem: str = "256M", machine: str = "q35", cpu: str = "max",
                 uefi: bool = False, extra: Sequence[str] = (), iso: Path | str = DEFAULT_ISO,
                 qemu: str = "qemu-system-x86_64", log=None, boot_timeout: float = 180.0):
        self.iso = Path(iso)
        if not self.iso.exists():
            raise KmonError(f"{self.iso} does not exist: run scripts/build")
        self._tmp = tempfile.mkdtemp(prefix="kmon-py-")
        argv = [qemu, "-nodefaults", "-machine", machine, "-accel", "tcg", "-cpu", cpu, "-smp", str(smp),
                "-m", mem, "-chardev", "stdio,id=s0,signal=off", "-serial", "chardev:s0", "-display", "none",
                "-no-reboot"]
        if uefi:
            vars_copy = os.path.join(self._tmp, "OVMF_VARS.fd")
            shutil.copyfile(OVMF_VARS, vars_copy)
            argv += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                     "-drive", f"if=pflash,format=raw,file={vars_copy}"]
        argv += ["-boot", "d", "-cdrom", str(self.iso), *extra]
        self.argv = argv
        self.child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace", timeout=30,
                                   maxread=1 << 16, searchwindowsize=None, env=dict(os.environ, TERM="dumb"))
        self.child.delaybeforesend = None
        if log is not None:
            self.child.logfile_read = log
        self.boot_text = self._prompt(boot_timeout, "boot")

    def _prompt(self, timeout: float, what: str) -> str:
        i = self.child.expect_exact([*PROMPTS, pexpect.EOF, pexpect.TIMEOUT], timeout=timeout)
        if i < len(PROMPTS):
            self.prompt = PROMPTS[i]
            return self.child.before
        tail = (self.child.before or "")[-1500:]
        raise KmonError(f"{what}: {'QEMU exited' if i == len(PROMPTS) else 'no prompt in time'}:\n{tail}")

    def cmd(self, line: str, timeout: float = 60.0) -> List[str]:
        """Types `line`, waits for the next prompt; the output lines, echo and prompt left out."""
        self.child.send(line + "\r")
        raw = self._prompt(timeout, f"command {line!r}")
        nl = raw.find("\n")
        out = raw[nl + 1:] if nl >= 0 else ""
        lines = [ln.rstrip("\r") for ln in out.split("\n")]
        return lines[:-1] if lines and lines[-1] == "" else lines

    def json(self, line: str, timeout: float = 60.0) -> Any:
        """Runs `line` with -j after the command's name and returns the parsed document.
        `x/4gx ap_main` and `walk ffffffff80200000` work as typed; KmonError on an error."""
        return parse_view(line, self.cmd(json_line(line), timeout))

    def close(self) -> None:
        if self.child is not None and self.child.isalive():
            self.child.terminate(force=True)
        self.child = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "Kmon":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Boot kmon under QEMU and print the JSON of monitor views.")
    ap.add_argument("commands", nargs="+", help="view commands, e.g. cpus 'walk ffffffff80200000'")
    ap.add_argument("--smp", default="2")
    ap.add_argument("--mem", default="256M")
    ap.add_argument("--machine", default="q35")
    ap.add_argument("--cpu", default="max")
    ap.add_argument("--uefi", action="store_true")
    ap.add_argument("--iso", default=str(DEFAULT_ISO))
    ap.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    a = ap.parse_args(argv)
    try:
        with Kmon(smp=a.smp, mem=a.mem, machine=a.machine, cpu=a.cpu, uefi=a.uefi, iso=a.iso) as k:
            for c in a.commands:
                print(json.dumps(k.json(c), indent=a.indent))
    except KmonError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
