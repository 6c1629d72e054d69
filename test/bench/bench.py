#!/usr/bin/python3
"""scripts/bench: boot-time, AP bring-up and footprint benchmarks (not part of the tests).

Builds the release preset (build/release/kernel.iso, kernel.elf) and boots it, and Linux as
the peer, on one and the same QEMU command line (q35, TCG, -cpu max, -m 512M, -nodefaults,
SeaBIOS, the ISO as CD-ROM). Both sides go through GRUB 2.06 with the same grub.cfg settings:
Linux gets its own GRUB rescue ISO (build/bench/linux-*.iso) holding vmlinuz and a grub.cfg
made of src/boot/grub.cfg's settings plus a `linux /boot/vmlinuz console=ttyS0 ...` entry
(no initrd: Linux panics at the root mount, after its CPUs are up). Measured:

  * QEMU start to the `kmon> ` prompt at -smp 4 (host wall clock; SeaBIOS and GRUB
    included); also through OVMF;
  * for every -smp count, on both sides, two ways:
      (1) host wall clock from QEMU start to "all CPUs running" (ours: `kmon> `; Linux: the
          `smp: Brought up` line),
      (2) the guest's own clock from the first INIT to the last AP (ours: the boot report's
          `smp: bring-up N us`; Linux: the printk stamps of `smp: Bringing up secondary CPUs`
          and `smp: Brought up`, whose clock runs slow under TCG above 8 vCPUs, so the host
          wall time between those two lines is recorded beside it);
    Linux 6.1 (Debian 12) and 6.12 (linux-image-6.12-amd64), each without and with
    `lpj=<the BSP's value from a first boot>` (skips every AP's delay-loop calibration);
  * AP bring-up against its floor on the same QEMU (-smp 4, 64, 256; 5 runs each, each
    run booting this kernel and then the floor build): build/floor/ (preset `floor`,
    KCONFIG_BENCH_FLOOR=1, never the normal image) sends the same INIT-SIPI-SIPI through the
    same code (smp::send_init_sipi_sipi) to a trampoline whose APs only stamp their TSC
    and count themselves in real mode, then halt (src/bench/); ours over the floor, both
    as first INIT to the last AP's own TSC stamp;
  * the kernel's handoff-to-prompt time by phase (`timing`), image size (ELF sections and
    PT_LOAD segments), the image's footprint by item (text, rodata, each .bss object of
    4 KiB or more with the KCONFIG setting that sizes it: test/bench/footprint.py, which
    fails the bench for a big object it has no entry for), physical memory per CPU
    (physmap at -smp 1 and the largest count) and page-table memory against -m.

Every figure is a median with min-max over N runs (N in the output). The host's 1-minute
load average is sampled every few seconds during the run (it counts the measured QEMU's own
runnable vCPU threads too). results.json names the commit measured and whether the tree had
uncommitted changes (and which files). Writes build/bench/results.json
(every raw run) and build/bench/bringup.png; a default or --full run also copies both to
docs/bench/ and rewrites README.md's block between `<!-- bench:begin` and
`<!-- bench:end -->` from that results.json (`--readme-from FILE` does only that).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import footprint

try:
    import pexpect
except ImportError:  # pragma: no cover
    sys.exit("bench: needs pexpect (apt-get install python3-pexpect); run with /usr/bin/python3")

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RELEASE = os.path.join(ROOT, "build", "release")
FLOOR = os.path.join(ROOT, "build", "floor")  # preset `floor`: the AP bring-up floor (src/bench/)
OUT = os.path.join(ROOT, "build", "bench")
DOCS = os.path.join(ROOT, "docs", "bench")
README = os.path.join(ROOT, "README.md")
GRUB_CFG = os.path.join(ROOT, "src", "boot", "grub.cfg")
OVMF_CODE = os.environ.get("OVMF_CODE", "/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = os.environ.get("OVMF_VARS", "/usr/share/OVMF/OVMF_VARS_4M.fd")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")

# The machine both sides run on. -nodefaults drops the default VGA card (SeaVGABIOS and
# GRUB's console output through int 10h cost ~0.2 s under TCG), the default NIC (its iPXE
# option ROM) and the parallel port; -display none as it has no screen anyway.
MACHINE, CPU, MEM, ACCEL = "q35", "max", "512M", "tcg"
QEMU_COMMON = ["-nodefaults", "-display", "none", "-no-reboot"]
LINUX_CMDLINE = "console=ttyS0 panic=-1"

ALL_SMP = [1, 2, 4, 8, 16, 32, 64, 128, 255, 256]  # 256: SeaBIOS puts every CPU in x2APIC mode
QUICK_SMP = [1, 2, 4, 16, 64, 256]
# Linux points: (without lpj=, with lpj=). Plain Linux calibrates every AP's delay loop
# (~0.1-0.25 s each under TCG), so its high counts take minutes.
LINUX_DEFAULT = ([2, 4, 8, 16], [2, 4, 8, 16, 32, 64])
LINUX_FULL = ([2, 4, 8, 16, 32, 64], [2, 4, 8, 16, 32, 64, 128, 255])
LINUX_QUICK = ([2], [2, 4])
MEM_SIZES = ["128M", "8G", "64G"]
PROMPT_SMP = 4
FLOOR_SMP = [4, 64, 256]  # 256: SeaBIOS has every CPU in x2APIC mode
FLOOR_RUNS = 5            # pairs (this kernel, then the floor) per count; 1 with --quick
TARGET_FLOOR_RATIO = 1.5  # the goal, at 64 and 256 CPUs
TARGET_FLOOR_SMP = (64, 256)

TARGET_PROMPT_S = 0.6
TARGET_PROMPT_MS = 50.0
TARGET_PER_CPU_KIB = 64.0
TARGET_IMAGE_KIB = 256.0

KMON_BANNER = "kmon: x86-64"
PROMPT = "kmon> "
FLOOR_LINE = r"bench-floor: (\{.*\})\r*\n"  # src/bench/floor.cpp's one line
README_BEGIN = "<!-- bench:begin"
README_END = "<!-- bench:end -->"


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------- helpers

def log(msg: str) -> None:
    print(msg, flush=True)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def mn(xs):
    xs = [x for x in xs if x is not None]
    return min(xs) if xs else None


def fmt(x, spec=".1f", none="-"):
    return none if x is None else format(x, spec)


def table(rows, header, left=(0,)):
    """Columns in `left` left-aligned (the first by default), the others right-aligned."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for k, r in enumerate(cells):
        line = "  ".join(c.ljust(w[i]) if i in left else c.rjust(w[i]) for i, c in enumerate(r))
        out.append("  " + line.rstrip())
        if k == 0:
            out.append("  " + "  ".join("-" * x for x in w))
    return "\n".join(out)


class Progress:
    def __init__(self, total: int):
        self.total = total
        self.n = 0
        self.t0 = time.monotonic()

    def line(self, what: str) -> None:
        self.n += 1
        el = time.monotonic() - self.t0
        log(f"[{self.n:3d}/{self.total}] {el:6.0f}s  {what}")


# ---------------------------------------------------------------------------- build, image

def build(skip: bool, floor: bool) -> None:
    presets = [("release", RELEASE)] + ([("floor", FLOOR)] if floor else [])
    for preset, d in presets:
        if skip:
            log(f"bench: --no-build: using the existing build/{os.path.basename(d)}/")
            continue
        log(f"bench: building the {preset} preset (cmake --preset {preset} && cmake --build --preset {preset})")
        if not os.path.isfile(os.path.join(d, "build.ninja")):
            subprocess.run(["cmake", "--preset", preset], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", "--preset", preset], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    for preset, d in presets:
        for f in ("kernel.iso", "kernel.elf"):
            if not os.path.isfile(os.path.join(d, f)):
                raise BenchError(f"build/{os.path.basename(d)}/{f} missing (build failed? preset {preset})")


def image_sizes(elf: str) -> dict:
    size_tool = shutil.which("llvm-size-14") or shutil.which("llvm-size") or shutil.which("size")
    sections = {}
    if size_tool:
        out = subprocess.run([size_tool, "-A", elf], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.match(r"^(\.\S+)\s+(\d+)\s+(\d+)\s*$", line)
            if m:
                sections[m.group(1)] = {"size": int(m.group(2)), "addr": int(m.group(3))}
    out = subprocess.run(["readelf", "-lW", elf], capture_output=True, text=True, check=True).stdout
    loads = []
    for line in out.splitlines():
        m = re.match(r"^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(.+?)\s+(0x[0-9a-f]+)\s*$", line)
        if m:
            loads.append({"vaddr": int(m.group(2), 16), "paddr": int(m.group(3), 16),
                          "filesz": int(m.group(4), 16), "memsz": int(m.group(5), 16),
                          "flags": m.group(6).replace(" ", "")})

    def sec(*names):
        return sum(v["size"] for k, v in sections.items() if any(k == n or k.startswith(n + ".") for n in names))

    alloc = {k: v for k, v in sections.items() if v["addr"] != 0 or k == ".boot"}
    span = 0
    if loads:
        lo = min(l["paddr"] for l in loads)
        hi = max(((l["paddr"] + l["memsz"] + 0xfff) & ~0xfff) for l in loads)
        span = hi - lo
    return {
        "elf_file_bytes": os.path.getsize(elf),
        "text": sec(".text", ".boot"),
        "rodata": sec(".rodata"),
        "data": sec(".data"),
        "bss": sec(".bss"),
        "ksyms": sec(".ksyms"),
        "sections": sections,
        "alloc_sections_total": sum(v["size"] for v in alloc.values()),
        "load_segments": loads,
        "load_filesz_total": sum(l["filesz"] for l in loads),
        "load_memsz_total": sum(l["memsz"] for l in loads),
        "load_phys_span": span,
    }


# ---------------------------------------------------------------------------- QEMU runs

def qemu_args(iso, smp, mem=MEM, accel=ACCEL, cpu=None, uefi_vars=None):
    """The one command line (less the serial plumbing) both this kernel and Linux boot with."""
    cpu = cpu or ("host" if accel == "kvm" else CPU)
    machine = MACHINE
    args = []
    if mem.upper().endswith("G") and int(mem[:-1]) > 16:
        args += ["-object", f"memory-backend-ram,id=m0,size={mem},reserve=off"]
        machine = f"{MACHINE},memory-backend=m0"
    args += ["-machine", machine, "-accel", accel, "-cpu", cpu, "-smp", str(smp), "-m", mem, *QEMU_COMMON,
             "-chardev", "stdio,id=s0,signal=off", "-serial", "chardev:s0"]
    if uefi_vars:
        args += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={uefi_vars}"]
    args += ["-boot", "d", "-cdrom", iso]
    return args


def spawn(args, timeout):
    t0 = time.monotonic()
    p = pexpect.spawn(QEMU, args, encoding="utf-8", codec_errors="replace", timeout=timeout,
                      maxread=65536, dimensions=(50, 250))
    return p, t0


def monitor_cmd(p, cmd, timeout=30):
    p.send(cmd + "\r")
    p.expect_exact(PROMPT, timeout=timeout)
    text = p.before.replace("\r", "")
    lines = text.split("\n")
    if lines and lines[0].strip().endswith(cmd):  # the echo
        lines = lines[1:]
    return "\n".join(lines)


def parse_report(text: str) -> dict:
    r = {}
    m = re.search(r"smp: (\d+) of (\d+) enabled CPUs online \((\d+) failed\), (\d+) listed", text)
    if m:
        r["online"], r["enabled"], r["failed"], r["listed"] = map(int, m.groups())
    m = re.search(r"smp: bring-up (\d+) us from first INIT to last AP online", text)
    r["bringup_us"] = int(m.group(1)) if m else None
    m = re.search(r"boot: (\d+) us from multiboot handoff to prompt", text)
    r["handoff_to_prompt_us"] = int(m.group(1)) if m else None
    m = re.search(r"boot: (BIOS|UEFI), loader", text)
    r["firmware_seen"] = m.group(1) if m else None
    m = re.search(r"tsc: ([\d.]+) MHz \((\S+)\)", text)
    if m:
        r["tsc_mhz"], r["tsc_source"] = float(m.group(1)), m.group(2)
    m = re.search(r"page tables (\d+) KiB", text)
    r["report_page_tables_kib"] = int(m.group(1)) if m else None
    return r


PHASE_KEYS = [
    ("multiboot2 handoff", "handoff"),
    ("kernel_main", "kernel_entry"),
    ("final page tables", "paging"),
    ("ACPI", "acpi"),
    ("TSC and APIC timer", "timers"),
    ("AP bring-up", "smp"),
    ("monitor prompt", "prompt"),
]
PHASE_LABELS = {  # phase = interval ending at that mark
    "kernel_entry": "entry to kernel_main, serial",
    "paging": "memory map, final page tables",
    "acpi": "IDT, LAPIC, ACPI tables",
    "timers": "TSC+APIC timer calibration (one window)",
    "smp": "CPU list, AP bring-up",
    "prompt": "boot report",
}


def parse_timing(text: str) -> dict:
    marks, arrivals, hdr = {}, [], None
    section = "phases"
    for line in text.split("\n"):
        m = re.match(r"boot timeline \(TSC (\d+) Hz, (\S+)\)", line)
        if m:
            hdr = {"tsc_hz": int(m.group(1)), "tsc_source": m.group(2)}
            continue
        if line.startswith("bring-up, from the first INIT"):
            section = "bringup"
            continue
        m = re.match(r"^\s+([\d.]+) us\s+(.*)$", line)
        if not m:
            continue
        us, what = float(m.group(1)), m.group(2).strip()
        if section == "phases":
            key = next((k for pfx, k in PHASE_KEYS if what.startswith(pfx)), what)
            marks[key] = us
        else:
            a = re.match(r"cpu (\d+) \(apic (\d+)\) online", what)
            if a:
                arrivals.append({"cpu": int(a.group(1)), "apic": int(a.group(2)), "us": us})
            elif what.startswith("INIT sent"):
                marks["b_init_sent"] = us
            elif what.startswith("first SIPI"):
                marks["b_sipi1"] = us
            elif what.startswith("second SIPI"):
                marks["b_sipi2"] = us
            elif what.startswith("arrival wait over"):
                marks["b_wait_over"] = us
    phases = {}
    prev = 0.0
    for _, k in PHASE_KEYS[1:]:
        if k in marks:
            phases[k] = marks[k] - prev
            prev = marks[k]
    return {"header": hdr, "marks_us": marks, "phases_us": phases, "arrivals": arrivals}


def parse_physmap(text: str) -> dict:
    m = re.search(r"^totals: .*$", text, re.M)
    if not m:
        return {}
    line = m.group(0)
    r = {k: int(v) for v, k in [(mm.group(2), mm.group(1)) for mm in re.finditer(r"\(([a-z-]+) (\d+) KiB\)", line)]}
    for key, pat in (("allocated", r"allocated (\d+) KiB"), ("image", r"kernel image (\d+) KiB"),
                     ("usable", r"usable (\d+) KiB")):
        mm = re.search(pat, line)
        if mm:
            r[key] = int(mm.group(1))
    r["per_cpu_relevant"] = r.get("percpu", 0) + r.get("stacks", 0) + r.get("page-tables", 0)
    return r


def boot_ours(iso, smp, mem=MEM, accel=ACCEL, cpu=None, uefi=False, commands=("timing", "physmap"),
              timeout=None):
    """One boot of this kernel; returns host wall times and what the kernel reported."""
    timeout = timeout or (60 + 0.5 * smp + (120 if uefi else 0))
    tmpdir = None
    vars_copy = None
    if uefi:
        tmpdir = tempfile.mkdtemp(prefix="bench-ovmf-")
        vars_copy = os.path.join(tmpdir, "OVMF_VARS.fd")
        shutil.copyfile(OVMF_VARS, vars_copy)
    args = qemu_args(iso, smp, mem, accel, cpu, vars_copy)
    res = {"smp": smp, "mem": mem, "accel": accel, "cpu": cpu or CPU, "firmware": "UEFI" if uefi else "BIOS",
           "start": time.strftime("%H:%M:%S"), "load1": os.getloadavg()[0]}
    p, t0 = spawn(args, timeout)
    try:
        i = p.expect_exact([KMON_BANNER, pexpect.EOF, pexpect.TIMEOUT])
        if i != 0:
            raise BenchError(f"no kernel banner ({'QEMU exited' if i == 1 else 'timeout'}): "
                             f"{(p.before or '')[-300:]!r}")
        t1 = time.monotonic()
        i = p.expect_exact([PROMPT, pexpect.EOF, pexpect.TIMEOUT])
        if i != 0:
            raise BenchError(f"no prompt: {(p.before or '')[-300:]!r}")
        t2 = time.monotonic()
        res["wall_handoff_s"] = t1 - t0
        res["wall_prompt_s"] = t2 - t0
        res["wall_banner_to_prompt_ms"] = (t2 - t1) * 1000
        res.update(parse_report(p.before))
        if "timing" in commands:
            res["timing"] = parse_timing(monitor_cmd(p, "timing"))
        if "physmap" in commands:
            res["physmap"] = parse_physmap(monitor_cmd(p, "physmap"))
    finally:
        p.terminate(force=True)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return res


def boot_floor(iso, smp, timeout=None):
    """One boot of the floor build (build/floor/kernel.iso): its one `bench-floor: {...}`
    line (src/bench/floor.cpp), times in us from the first INIT by the APs' and the BSP's TSC."""
    timeout = timeout or (60 + 0.5 * smp)
    res = {"smp": smp, "start": time.strftime("%H:%M:%S"), "load1": os.getloadavg()[0]}
    p, t0 = spawn(qemu_args(iso, smp), timeout)
    try:
        i = p.expect([FLOOR_LINE, pexpect.EOF, pexpect.TIMEOUT])
        if i != 0:
            raise BenchError(f"floor -smp {smp}: no bench-floor line ({'QEMU exited' if i == 1 else 'timeout'}): "
                             f"{(p.before or '')[-300:]!r}")
        res["wall_line_s"] = time.monotonic() - t0
        try:
            res.update(json.loads(p.match.group(1)))
        except ValueError as e:
            raise BenchError(f"floor -smp {smp}: unreadable line {p.match.group(0)!r}: {e}") from e
        if "error" in res:
            raise BenchError(f"floor -smp {smp}: {res['error']}")
        if res.get("marked") != res.get("expected") or res.get("stamped") != res.get("expected"):
            raise BenchError(f"floor -smp {smp}: {res.get('marked')} of {res.get('expected')} APs marked, "
                             f"{res.get('stamped')} stamped")
    finally:
        p.terminate(force=True)
    return res


def grub_settings() -> str:
    """src/boot/grub.cfg up to its first menuentry: the settings Linux's ISO shares with ours."""
    out = []
    with open(GRUB_CFG) as f:
        for line in f:
            if line.lstrip().startswith("menuentry"):
                break
            out.append(line)
    return "".join(out).rstrip() + "\n"


def linux_iso(vmlinuz, cmdline, path):
    """A GRUB rescue ISO like build/release/kernel.iso (same grub-mkrescue options, same
    grub.cfg settings) that boots vmlinuz with cmdline, no initrd."""
    d = tempfile.mkdtemp(prefix="bench-linux-iso-")
    try:
        os.makedirs(os.path.join(d, "boot", "grub"))
        shutil.copyfile(vmlinuz, os.path.join(d, "boot", "vmlinuz"))
        with open(os.path.join(d, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(grub_settings() + f'\nmenuentry "linux" {{\n  linux /boot/vmlinuz {cmdline}\n  boot\n}}\n')
        r = subprocess.run(["grub-mkrescue", "-o", path, d, "--locales=", "--fonts=", "--themes="],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchError(f"grub-mkrescue for {vmlinuz} failed: {r.stderr[-300:]}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return path


def boot_linux(iso, smp, timeout=None):
    """One boot of Linux (from its GRUB ISO) until `smp: Brought up`."""
    timeout = timeout or (90 + 3 * smp)
    res = {"smp": smp, "start": time.strftime("%H:%M:%S"), "load1": os.getloadavg()[0], "apic_lines": []}
    p, t0 = spawn(qemu_args(iso, smp), timeout)
    ts = r"^\[\s*(\d+\.\d+)\]"
    try:
        start = None
        while True:
            i = p.expect_exact(["\n", pexpect.EOF, pexpect.TIMEOUT])
            now = time.monotonic()
            if i != 0:
                raise BenchError(f"Linux -smp {smp}: {'QEMU exited' if i == 1 else 'timeout'} before "
                                 f"'smp: Brought up': {(p.before or '')[-200:]!r}")
            line = p.before.rstrip("\r")
            if "Linux version" in line and "wall_console_s" not in res:
                res["wall_console_s"] = now - t0
            m = re.search(r"lpj=(\d+)", line)
            if m and "lpj" not in res and "Calibrating" in line:
                res["lpj"] = int(m.group(1))
            if re.search(r"x2apic|x2APIC", line) and len(res["apic_lines"]) < 4:
                res["apic_lines"].append(re.sub(ts + r"\s*", "", line).strip())
            if "smp: Bringing up secondary CPUs" in line:
                m = re.search(ts, line)
                start = (now, float(m.group(1)) if m else None)
                res["wall_bringing_up_s"] = now - t0
            elif "smp: Brought up" in line and start:
                m = re.search(ts, line)
                res["printk_bringup_s"] = (float(m.group(1)) - start[1]) if (m and start[1] is not None) else None
                res["wall_bringup_s"] = now - start[0]
                res["wall_all_up_s"] = now - t0
                mm = re.search(r"(\d+) CPUs?", line)
                res["cpus_up"] = int(mm.group(1)) if mm else None
                break
            elif "Kernel panic" in line:
                raise BenchError(f"Linux -smp {smp} panicked before bring-up finished: {line}")
    finally:
        p.terminate(force=True)
    return res


def kvm_status(iso) -> tuple[bool, str]:
    if not os.path.exists("/dev/kvm"):
        return False, "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm not accessible to this user"
    try:
        r = boot_ours(iso, 1, accel="kvm", commands=(), timeout=30)
        return True, f"KVM boots (prompt after {r['wall_prompt_s']:.2f} s)"
    except (BenchError, pexpect.ExceptionPexpect) as e:
        msg = re.sub(r"^.*?qemu-system-x86_64: (error: )?", "", str(e)).split("\\r")[0][:160]
        return False, "/dev/kvm is there but QEMU cannot use it (" + msg + ")"


def find_linux(given) -> list[dict]:
    """The Linux peers: given vmlinuz files, else Debian's 6.1 and 6.12 in /boot (generic
    flavour; -rt and -cloud are not like-for-like)."""
    files = given or sorted(x for x in glob.glob("/boot/vmlinuz-*")
                            if not re.search(r"-(rt|cloud)-amd64$", x) and os.access(x, os.R_OK))
    peers = {}
    for f in files:
        m = re.search(r"vmlinuz-(\d+\.\d+)", f)
        key = m.group(1) if m else os.path.basename(f)
        if given or key in ("6.1", "6.12"):
            peers[key] = f  # the newest of a series wins (sorted)
    return [{"key": k, "label": f"Linux {k}", "vmlinuz": v, "release": os.path.basename(v)[len("vmlinuz-"):]}
            for k, v in sorted(peers.items(), key=lambda kv: [int(x) if x.isdigit() else x for x in re.split(r"[.]", kv[0])])]


class LoadSampler(threading.Thread):
    """The host's 1-minute load average (and runnable tasks), every `every` seconds."""

    def __init__(self, every=3.0):
        super().__init__(daemon=True)
        self.every, self.samples, self._stop_ev, self.t0 = every, [], threading.Event(), time.monotonic()

    def run(self):
        while True:
            try:
                with open("/proc/loadavg") as f:
                    v = f.read().split()
                self.samples.append({"t": round(time.monotonic() - self.t0, 1), "load1": float(v[0]),
                                     "running": int(v[3].split("/")[0])})
            except OSError:
                pass
            if self._stop_ev.wait(self.every):
                return

    def stop(self) -> dict:
        self._stop_ev.set()
        self.join(timeout=5)
        l1 = [s["load1"] for s in self.samples]
        return {"every_s": self.every, "n": len(l1), "min": min(l1) if l1 else None,
                "mean": statistics.mean(l1) if l1 else None, "max": max(l1) if l1 else None,
                "samples": self.samples}


def git_info() -> dict:
    """The commit measured and whether the tree differed from it: modified tracked files and
    untracked ones (a new source file is built too; ignored files such as build/ are not)."""
    def g(*a):
        r = subprocess.run(["git", "--no-optional-locks", *a], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.rstrip() if r.returncode == 0 else None
    status = g("status", "--porcelain", "--untracked-files=all")
    changed = [ln[3:] for ln in (status or "").splitlines() if ln.strip()]
    return {"commit": g("rev-parse", "HEAD"), "branch": g("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(changed), "changed_files": changed[:100], "changed_count": len(changed)}


def git_text(git: dict) -> str:
    """'commit `abc1234567` (clean tree)' or '... with uncommitted changes (dirty tree: N files)'."""
    c = f"commit `{(git.get('commit') or '?')[:10]}`"
    if "changed_count" not in git:  # results.json from before the file list was kept
        return c + (" plus uncommitted changes" if git.get("dirty") else "")
    if not git.get("dirty"):
        return c + " (clean tree)"
    n = git["changed_count"]
    return c + f" with uncommitted changes (dirty tree: {n} file{'s' if n != 1 else ''} differ, listed in results.json)"


# ---------------------------------------------------------------------------- statistics

def stat(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"n": len(xs), "median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def fmt_ms(v):
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v / 1000:.2f} s" if v < 10000 else f"{v / 1000:.1f} s"
    return f"{v:.2f} ms" if v < 10 else (f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms")


def fmt_us(st):
    """'median (min-max)' of a stat in microseconds, printed in ms."""
    if not st:
        return "-"
    return cell({k: (v / 1000 if k != "n" else v) for k, v in st.items()}, "ms")


def floor_rows(res):
    """Rows of the floor table: -smp, this kernel, floor, ratio of the medians, ratio per pair,
    then both by the BSP's clock; every time median (min-max) in ms."""
    rows = []
    for n, e in res.get("summary", {}).get("floor", {}).items():
        pr = e.get("pair_ratio")
        rows.append([n, fmt_us(e["ours_us"]), fmt_us(e["floor_us"]),
                     f"{e['ratio']:.2f}x" if e.get("ratio") is not None else "-",
                     f"{pr['median']:.2f}x ({pr['min']:.2f}-{pr['max']:.2f})" if pr else "-",
                     fmt_us(e.get("ours_bsp_us")), fmt_us(e.get("floor_bsp_us")),
                     f"{e['load1']['min']:.1f}-{e['load1']['max']:.1f}" if e.get("load1") else "-"])
    return rows


FLOOR_HEADER = ["-smp", "this kernel", "floor", "ratio", "ratio per pair", "this kernel, BSP's wait over",
                "floor, BSP saw the count", "load1"]


def footprint_rows(fp):
    """Rows of the footprint table: item, KiB, what sizes it."""
    rows = [["text (.text, .text.boot, .boot)", f"{fp['text'] / 1024:.1f}",
             f"code; {fp['text_boot'] / 1024:.0f} KiB of it boot-only"],
            ["rodata", f"{fp['rodata'] / 1024:.1f}", "constants, strings, the embedded AP trampoline"],
            ["data", f"{fp['data'] / 1024:.1f}", "initialized variables"]]
    for b in fp["bss_big"]:
        by = f"{b['setting']}={b['value']}: {b['how']}" if b["setting"] else f"fixed: {b['how']}"
        rows.append([f".bss `{b['name']}`", f"{b['bytes'] / 1024:.1f}", by])
    rows.append([f".bss: {fp['bss_small']['count']} objects under 4 KiB", f"{fp['bss_small']['bytes'] / 1024:.1f}", ""])
    rows.append([".bss: alignment padding", f"{fp['bss_unnamed'] / 1024:.1f}", ""])
    rows.append([".bss in all", f"{fp['bss'] / 1024:.1f}", ""])
    return rows


def cell(st, kind, default_n=None):
    """'median (min-max)' of a stat in one unit: kind 's' (seconds) or 'ms' (ms, or s when the
    median is a second or more)."""
    if not st:
        return "-"
    med_, lo, hi = st["median"], st["min"], st["max"]
    if kind == "ms" and med_ >= 1000:
        kind, med_, lo, hi = "s", med_ / 1000, lo / 1000, hi / 1000
    if kind == "s":
        sp = ".2f" if hi < 10 else ".1f"
        txt = f"{med_:{sp}} s ({lo:{sp}}-{hi:{sp}})"
    else:
        sp = ".2f" if med_ < 10 else (".1f" if med_ < 100 else ".0f")
        txt = f"{med_:{sp}} ms ({lo:{sp}}-{hi:{sp}})"
    if default_n is not None and st["n"] != default_n:
        txt += f" [N={st['n']}]"
    return txt


# ---------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(
        prog="scripts/bench",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[1],
        epilog=f"""defaults: this kernel at -smp {' '.join(map(str, ALL_SMP))} (3 runs; 5 at -smp {PROMPT_SMP}, the
prompt figure); Linux 6.1 and 6.12 without lpj= at {','.join(map(str, LINUX_DEFAULT[0]))} and with lpj= at
{','.join(map(str, LINUX_DEFAULT[1]))}; 2 UEFI boots; -m 128M/8G/64G page tables; the bring-up floor at
-smp {','.join(map(str, FLOOR_SMP))} ({FLOOR_RUNS} pairs each, about 5 minutes of the total). About 20-25 minutes
under TCG on 2 host cores. --full: Linux without lpj= at {','.join(map(str, LINUX_FULL[0]))} and with lpj= at
{','.join(map(str, LINUX_FULL[1]))} (an hour or more). --quick: 1 run (3 for the prompt), a few points, 1 floor
pair per count, no UEFI/-m boots, about 4 minutes; it does not touch docs/ or README.md.

--kvm also measures this kernel under KVM where /dev/kvm works.""")
    ap.add_argument("--runs", type=int, default=None, metavar="N", help="runs per point (default 3; 1 with --quick)")
    ap.add_argument("--prompt-runs", type=int, default=None, metavar="N",
                    help=f"runs at -smp {PROMPT_SMP} (the boot-to-prompt figure; default 5, 3 with --quick)")
    ap.add_argument("--uefi-runs", type=int, default=None, metavar="N", help="UEFI boots (~12 s each; default 2)")
    ap.add_argument("--quick", action="store_true", help="fast subset (see below)")
    ap.add_argument("--full", action="store_true", help="Linux at more and higher CPU counts (slow)")
    ap.add_argument("--smp", metavar="LIST", help="comma list of CPU counts for this kernel (overrides the default)")
    ap.add_argument("--linux-smp", metavar="LIST", help="comma list of CPU counts for Linux without lpj= ('' = none)")
    ap.add_argument("--linux-lpj-smp", metavar="LIST", help="comma list of CPU counts for Linux with lpj= ('' = none)")
    ap.add_argument("--no-linux", action="store_true", help="skip Linux")
    ap.add_argument("--no-uefi", action="store_true", help="skip the UEFI boots")
    ap.add_argument("--no-mem", action="store_true", help="skip the -m 128M/8G/64G page-table boots")
    ap.add_argument("--no-stub", action="store_true", help="skip the gdb stub's wire figures (test/bench/stub_bench.py)")
    ap.add_argument("--floor-smp", metavar="LIST", help=f"CPU counts for the bring-up floor (default "
                    f"{','.join(map(str, FLOOR_SMP))}; '' = none)")
    ap.add_argument("--floor-runs", type=int, default=None, metavar="N",
                    help=f"pairs (this kernel, then the floor) per count (default {FLOOR_RUNS}; 1 with --quick)")
    ap.add_argument("--no-floor", action="store_true", help="skip the bring-up floor (and its build)")
    ap.add_argument("--linux", metavar="VMLINUZ", action="append",
                    help="a Linux kernel image to compare with (repeatable; default /boot/vmlinuz-6.1* and -6.12*)")
    ap.add_argument("--kvm", action="store_true", help="also measure under KVM where /dev/kvm works (off by default: "
                    "in a nested VM KVM can be slower than TCG)")
    ap.add_argument("--no-build", action="store_true", help="do not build; use build/release as it is")
    ap.add_argument("--out", default=OUT, metavar="DIR", help="output directory (default build/bench)")
    ap.add_argument("--publish", action="store_true", help="copy results to docs/bench/ and rewrite the README block "
                    "(the default for default and --full runs without --smp/--linux-*smp/--no-* overrides)")
    ap.add_argument("--no-publish", action="store_true", help="leave docs/bench/ and README.md alone")
    ap.add_argument("--readme-from", metavar="JSON", help="only rewrite the README block (and docs/bench/) from this results.json")
    a = ap.parse_args()

    if a.readme_from:  # the plot and the README block again, from that results.json alone
        with open(a.readme_from) as f:
            res = json.load(f)
        png = os.path.join(os.path.dirname(os.path.abspath(a.readme_from)), "bringup.png")
        perr = plot(res, png)
        if perr:
            log("bench: " + perr)
        publish(a.readme_from, None if perr else png)
        return 0

    runs = a.runs if a.runs is not None else (1 if a.quick else 3)
    prompt_runs = a.prompt_runs if a.prompt_runs is not None else (3 if a.quick else 5)
    if runs < 1 or prompt_runs < 1:
        ap.error("--runs/--prompt-runs must be at least 1")
    uefi_runs = 0 if a.no_uefi else (a.uefi_runs if a.uefi_runs is not None else (0 if a.quick else 2))

    def parse_list(s):
        try:
            v = [int(x) for x in s.split(",") if x.strip()]
        except ValueError:
            ap.error(f"bad CPU list '{s}'")
        if any(n < 1 or n > 288 for n in v):
            ap.error("CPU counts must be 1..288 (q35 under TCG, QEMU 10)")
        return v

    our_smp = parse_list(a.smp) if a.smp else (QUICK_SMP if a.quick else ALL_SMP)
    if PROMPT_SMP not in our_smp:
        our_smp = sorted(our_smp + [PROMPT_SMP])
    lin = LINUX_QUICK if a.quick else (LINUX_FULL if a.full else LINUX_DEFAULT)
    linux_plain = parse_list(a.linux_smp) if a.linux_smp is not None else list(lin[0])
    linux_lpj = parse_list(a.linux_lpj_smp) if a.linux_lpj_smp is not None else list(lin[1])
    if a.no_linux:
        linux_plain, linux_lpj = [], []
    mem_sizes = [] if (a.no_mem or a.quick) else MEM_SIZES
    floor_smp = [] if a.no_floor else (parse_list(a.floor_smp) if a.floor_smp is not None else list(FLOOR_SMP))
    floor_runs = a.floor_runs if a.floor_runs is not None else (1 if a.quick else FLOOR_RUNS)
    if floor_runs < 1:
        ap.error("--floor-runs must be at least 1")
    overrides = any(x is not None for x in (a.smp, a.linux_smp, a.linux_lpj_smp, a.linux, a.runs, a.floor_smp,
                                            a.floor_runs)) \
        or a.no_linux or a.no_uefi or a.no_mem or a.no_stub or a.kvm or a.no_floor
    do_publish = not a.no_publish and (a.publish or (not a.quick and not overrides))

    t_start = time.monotonic()
    sampler = LoadSampler()
    sampler.start()
    build(a.no_build, floor=bool(floor_smp))
    iso = os.path.join(RELEASE, "kernel.iso")
    elf = os.path.join(RELEASE, "kernel.elf")
    floor_iso = os.path.join(FLOOR, "kernel.iso")
    try:  # first, so that an unexplained big object stops the bench before any boot
        fp = footprint.footprint(elf, ROOT, RELEASE)
    except footprint.FootprintError as e:
        raise BenchError(str(e)) from e
    os.makedirs(a.out, exist_ok=True)
    notes = []
    if fp["stale_entries"]:
        notes.append("footprint: test/bench/footprint.py entries with no .bss object of 4 KiB or more in this image: "
                     + "; ".join(fp["stale_entries"]))
    peers = find_linux(a.linux) if (linux_plain or linux_lpj) else []
    if (linux_plain or linux_lpj) and not peers:
        notes.append("Linux skipped: no /boot/vmlinuz-6.1* or -6.12* (scripts/setup --bench installs them)")
    for want in ("6.1", "6.12"):
        if not a.linux and (linux_plain or linux_lpj) and want not in [p["key"] for p in peers]:
            notes.append(f"Linux {want} missing from /boot (scripts/setup --bench installs it)")
    if uefi_runs and not (os.path.isfile(OVMF_CODE) and os.path.isfile(OVMF_VARS)):
        notes.append(f"UEFI skipped: {OVMF_CODE} missing (apt-get install ovmf)")
        uefi_runs = 0

    qv = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    qv = re.search(r"version (\S+)", qv).group(1) if "version" in qv else qv
    kvm_ok, kvm_note = kvm_status(iso) if a.kvm else (False, "not asked for (--kvm)")
    accels = ["tcg"] + (["kvm"] if kvm_ok else [])
    notes.append(("KVM: " + kvm_note) if kvm_ok else ("KVM skipped: " + kvm_note + "; all figures are TCG"))
    log("bench: " + notes[-1])

    def n_runs(n):
        return prompt_runs if n == PROMPT_SMP else runs

    total = sum(n_runs(n) for n in our_smp) * len(accels) + uefi_runs + 2 * floor_runs * len(floor_smp) \
        + (len(mem_sizes) + 1 if mem_sizes else 0) \
        + len(peers) * (sum(runs for _ in linux_plain) + sum(runs for _ in linux_lpj) + (0 if linux_plain else 1))
    prog = Progress(total)

    example = qemu_args("<ISO>", "<N>")
    results = {
        "meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "host": platform.node(), "host_cpus": os.cpu_count(),
                 "qemu_version": qv, "accel": "+".join(accels), "runs": runs, "prompt_runs": prompt_runs,
                 "prompt_smp": PROMPT_SMP, "uefi_runs": uefi_runs, "floor_runs": floor_runs,
                 "mode": "quick" if a.quick else ("full" if a.full else "default"), "git": git_info(),
                 "kernel_iso": os.path.relpath(iso, ROOT),
                 "qemu_command": " ".join([QEMU] + example),
                 "linux_cmdline": LINUX_CMDLINE, "grub_settings": grub_settings(),
                 "load_avg_start": os.getloadavg()},
        "notes": notes,
        "image": image_sizes(elf),
        "footprint": fp,
        "floor": {"smp": floor_smp, "runs": floor_runs, "iso": os.path.relpath(floor_iso, ROOT), "pairs": {}},
        "ours": {"bios": {}, "uefi": {}, "mem": {}, "kvm": {}},
        "linux": {},
    }
    failures = []

    # -- this kernel, SeaBIOS + GRUB, against -smp (the -smp 4 runs are the boot-to-prompt figure)
    for accel in accels:
        dest = results["ours"]["bios"] if accel == "tcg" else results["ours"]["kvm"]
        for n in our_smp:
            dest[str(n)] = []
            k = n_runs(n)
            for r in range(k):
                try:
                    res = boot_ours(iso, n, accel=accel)
                    dest[str(n)].append(res)
                    bu = res.get("bringup_us")
                    prog.line(f"ours {accel} -smp {n:<3} run {r + 1}/{k}: prompt {res['wall_prompt_s']:.2f} s, bring-up "
                              f"{fmt(bu / 1000 if bu is not None else None, '.2f')} ms, handoff->prompt "
                              f"{res['handoff_to_prompt_us'] / 1000:.1f} ms, {res.get('online')}/{res.get('enabled')} online"
                              f" (load {res['load1']:.1f})")
                except (BenchError, pexpect.ExceptionPexpect) as e:
                    failures.append(f"ours {accel} -smp {n}: {e}")
                    prog.line(f"ours {accel} -smp {n} run {r + 1}/{k}: FAILED: {e}")

    # -- AP bring-up against its floor: each run boots this kernel and then the floor build at
    #    the same count, one after the other, so both see the same host load as nearly as
    #    a 2-core host allows.
    for r in range(floor_runs):
        for n in floor_smp:
            pair = {}
            try:
                o = boot_ours(iso, n, commands=("timing",))
                pair["ours"] = {k: o.get(k) for k in ("bringup_us", "online", "enabled", "failed", "load1", "start",
                                                      "wall_prompt_s")}
                mk = o.get("timing", {}).get("marks_us", {})
                arr = sorted(x["us"] for x in o.get("timing", {}).get("arrivals", []))
                pair["ours"].update({"init_sent_us": mk.get("b_init_sent"), "sipi1_us": mk.get("b_sipi1"),
                                     "sipi2_us": mk.get("b_sipi2"), "bsp_seen_us": mk.get("b_wait_over"),
                                     "first_arrival_us": arr[0] if arr else None,
                                     "median_arrival_us": statistics.median(arr) if arr else None})
                prog.line(f"ours  -smp {n:<3} (floor pair {r + 1}/{floor_runs}): bring-up {o.get('bringup_us')} us, "
                          f"{o.get('online')}/{o.get('enabled')} online (load {o['load1']:.1f})")
            except (BenchError, pexpect.ExceptionPexpect) as e:
                failures.append(f"ours -smp {n} (floor pair): {e}")
                prog.line(f"ours  -smp {n} (floor pair {r + 1}/{floor_runs}): FAILED: {e}")
            try:
                f = boot_floor(floor_iso, n)
                pair["floor"] = f
                prog.line(f"floor -smp {n:<3} (pair {r + 1}/{floor_runs}): last AP marked {f['last_mark_us']} us "
                          f"(BSP saw it at {f['bsp_seen_us']} us), {f['marked']}/{f['expected']} (load {f['load1']:.1f})")
            except (BenchError, pexpect.ExceptionPexpect) as e:
                failures.append(f"floor -smp {n}: {e}")
                prog.line(f"floor -smp {n} (pair {r + 1}/{floor_runs}): FAILED: {e}")
            results["floor"]["pairs"].setdefault(str(n), []).append(pair)

    # -- UEFI at -smp 4 (TCG)
    if uefi_runs:
        results["ours"]["uefi"]["tcg"] = []
        for r in range(uefi_runs):
            try:
                res = boot_ours(iso, PROMPT_SMP, uefi=True)
                results["ours"]["uefi"]["tcg"].append(res)
                prog.line(f"ours tcg UEFI -smp {PROMPT_SMP} run {r + 1}/{uefi_runs}: prompt {res['wall_prompt_s']:.2f} s, "
                          f"handoff->prompt {res['handoff_to_prompt_us'] / 1000:.1f} ms ({res.get('firmware_seen')})")
            except (BenchError, pexpect.ExceptionPexpect) as e:
                failures.append(f"ours UEFI: {e}")
                prog.line(f"ours UEFI run {r + 1}: FAILED: {e}")

    # -- page tables against -m (at -smp 1, so only the BSP's slot is mapped)
    for mem, cpu in [(m, "max") for m in mem_sizes] + ([("8G", "qemu64")] if mem_sizes else []):
        key = mem if cpu == "max" else f"{mem} -cpu {cpu}"
        try:
            res = boot_ours(iso, 1, mem=mem, cpu=cpu, commands=("physmap",))
            results["ours"]["mem"][key] = res
            pm = res.get("physmap", {})
            prog.line(f"ours -smp 1 -m {mem} -cpu {cpu}: page tables {pm.get('page-tables')} KiB, "
                      f"allocated {pm.get('allocated')} KiB")
        except (BenchError, pexpect.ExceptionPexpect) as e:
            failures.append(f"ours -m {mem}: {e}")
            prog.line(f"ours -m {mem} -cpu {cpu}: FAILED: {e}")

    # -- Linux, each version from its own GRUB ISO: first without lpj= (which gives the BSP's
    #    lpj), then with lpj=<that value>
    for peer in peers:
        key = peer["key"]
        L = {"label": peer["label"], "vmlinuz": peer["vmlinuz"], "release": peer["release"], "lpj": None,
             "cmdline": LINUX_CMDLINE, "cmdline_lpj": None, "plain": {}, "with_lpj": {}, "lpj_probe": None}
        results["linux"][key] = L
        try:
            iso_plain = linux_iso(peer["vmlinuz"], LINUX_CMDLINE, os.path.join(a.out, f"linux-{key}.iso"))
        except BenchError as e:
            failures.append(str(e))
            continue

        def run_linux(variant, n, r, k, liso):
            try:
                res = boot_linux(liso, n)
                if L["lpj"] is None and res.get("lpj"):
                    L["lpj"] = res["lpj"]
                prog.line(f"{peer['label']:10} {'lpj=' if variant == 'with_lpj' else 'plain':5} -smp {n:<3} run {r + 1}/{k}: "
                          f"all up {res['wall_all_up_s']:.2f} s, bring-up printk "
                          f"{fmt(res['printk_bringup_s'] * 1000 if res.get('printk_bringup_s') is not None else None, '.0f')} ms, "
                          f"host {res['wall_bringup_s'] * 1000:.0f} ms, {res.get('cpus_up')} CPUs (load {res['load1']:.1f})")
                return res
            except (BenchError, pexpect.ExceptionPexpect) as e:
                failures.append(f"{peer['label']} {variant} -smp {n}: {e}")
                prog.line(f"{peer['label']} {variant} -smp {n} run {r + 1}/{k}: FAILED: {e}")
                return None

        for n in sorted(set(linux_plain)):
            L["plain"][str(n)] = [x for x in (run_linux("plain", n, r, runs, iso_plain) for r in range(runs)) if x]
        if linux_lpj and L["lpj"] is None:
            L["lpj_probe"] = run_linux("plain", 1, 0, 1, iso_plain)
        if not linux_lpj:
            continue
        if L["lpj"] is None:
            notes.append(f"{peer['label']}: lpj= variant skipped (no 'Calibrating delay loop ... lpj=' line read)")
            continue
        L["cmdline_lpj"] = f"{LINUX_CMDLINE} lpj={L['lpj']}"
        try:
            iso_lpj = linux_iso(peer["vmlinuz"], L["cmdline_lpj"], os.path.join(a.out, f"linux-{key}-lpj.iso"))
        except BenchError as e:
            failures.append(str(e))
            continue
        for n in sorted(set(linux_lpj)):
            L["with_lpj"][str(n)] = [x for x in (run_linux("with_lpj", n, r, runs, iso_lpj) for r in range(runs)) if x]

    # -- the gdb stub on the wire, ours against QEMU's (test/bench/stub_bench.py)
    if not a.no_stub:
        import stub_bench
        try:
            results["stub"] = stub_bench.run(stub_bench.QUICK_SMP if a.quick else stub_bench.DEFAULT_SMP)
            prog.line("stub: " + (stub_bench.verdict(results["stub"]) or "measured"))
        except (BenchError, stub_bench.bench.BenchError, pexpect.ExceptionPexpect, OSError) as e:
            failures.append(f"stub: {e}")
            prog.line(f"stub: FAILED: {e}")

    results["meta"]["load"] = sampler.stop()
    results["meta"]["load_avg_end"] = os.getloadavg()
    results["meta"]["duration_s"] = round(time.monotonic() - t_start)
    results["failures"] = failures
    results["summary"] = summarize(results)
    png = os.path.join(a.out, "bringup.png")
    perr = plot(results, png)
    if perr:
        notes.append(perr)
    rjson = os.path.join(a.out, "results.json")
    with open(rjson, "w") as f:
        json.dump(results, f, indent=1, sort_keys=False)
    report(results, results["summary"], png if not perr else None, a.out)
    if do_publish:
        publish(rjson, png if not perr else None)
    else:
        log("bench: docs/bench/ and README.md left alone (quick or partial run; --publish to write them)")
    return 0 if not failures else 1


# ---------------------------------------------------------------------------- summary

def series_keys(res):
    """(key, label, runs-by-count) for this kernel and each Linux variant, in plot/table order."""
    out = [("ours", "this kernel", res["ours"]["bios"])]
    for k, L in res["linux"].items():
        out.append((f"linux-{k}", L["label"], L["plain"]))
        out.append((f"linux-{k}-lpj", f"{L['label']} lpj=", L["with_lpj"]))
    return out


def summarize(res) -> dict:
    s = {"prompt": None, "boot": [], "series": {}, "series_labels": {}, "phases": {}, "mem": {}, "targets": []}
    br = res["ours"]["bios"]
    p4 = br.get(str(PROMPT_SMP), [])

    def boot_row(label, rows):
        if rows:
            s["boot"].append({
                "label": label, "runs": len(rows),
                "handoff_s": stat([r["wall_handoff_s"] for r in rows]),
                "prompt_s": stat([r["wall_prompt_s"] for r in rows]),
                "kernel_ms": stat([r["handoff_to_prompt_us"] / 1000 for r in rows]),
                "host_ms": stat([r["wall_banner_to_prompt_ms"] for r in rows]),
                "tsc_mhz": med([r.get("tsc_mhz") for r in rows])})

    s["prompt"] = stat([r["wall_prompt_s"] for r in p4])
    boot_row(f"TCG SeaBIOS -smp {PROMPT_SMP}", p4)
    for acc, rows in res["ours"]["uefi"].items():
        boot_row(f"{acc.upper()} OVMF -smp {PROMPT_SMP}", rows)
    boot_row(f"KVM SeaBIOS -smp {PROMPT_SMP}", res["ours"]["kvm"].get(str(PROMPT_SMP), []))

    ph = {}
    for r in p4:
        for k, v in r.get("timing", {}).get("phases_us", {}).items():
            ph.setdefault(k, []).append(v)
    s["phases"] = {k: {"min_us": min(v), "median_us": statistics.median(v)} for k, v in ph.items()}
    s["phases_smp"] = PROMPT_SMP

    for key, label, rows_by_n in series_keys(res):
        s["series_labels"][key] = label
        ser = {}
        for n, rows in sorted(rows_by_n.items(), key=lambda kv: int(kv[0])):
            if not rows:
                continue
            if key == "ours":
                ser[n] = {"wall_all_up_s": stat([r["wall_prompt_s"] for r in rows]),
                          "guest_bringup_ms": stat([r["bringup_us"] / 1000 if r.get("bringup_us") is not None else None
                                                    for r in rows]) if int(n) > 1 else None,
                          "online": med([r.get("online") for r in rows]),
                          "handoff_to_prompt_ms": stat([r["handoff_to_prompt_us"] / 1000 for r in rows])}
            else:
                ser[n] = {"wall_all_up_s": stat([r["wall_all_up_s"] for r in rows]),
                          "guest_bringup_ms": stat([r["printk_bringup_s"] * 1000 if r.get("printk_bringup_s") is not None
                                                    else None for r in rows]),
                          "host_bringup_ms": stat([r["wall_bringup_s"] * 1000 for r in rows]),
                          "online": med([r.get("cpus_up") for r in rows]),
                          "apic": rows[0].get("apic_lines", [])}
        s["series"][key] = ser

    # memory
    def pm(n):
        v = [r["physmap"] for r in br.get(str(n), []) if r.get("physmap")]
        return v[0] if v else None

    nmax = max((int(n) for n in br if br[n]), default=None)
    lo, hi = pm(1), (pm(nmax) if nmax and nmax > 1 else None)
    if lo and hi:
        s["mem"] = {"smp1": lo, "smpmax": hi, "nmax": nmax,
                    "per_cpu_kib": (hi["per_cpu_relevant"] - lo["per_cpu_relevant"]) / (nmax - 1),
                    "per_cpu_split_kib": {k: (hi.get(k, 0) - lo.get(k, 0)) / (nmax - 1)
                                          for k in ("percpu", "stacks", "page-tables")}}
    s["mem_by_m"] = {k: v.get("physmap", {}) for k, v in res["ours"]["mem"].items()}

    # AP bring-up against its floor, pair by pair (a pair: this kernel, then the floor)
    s["floor"] = {}
    for n, pairs in sorted(res.get("floor", {}).get("pairs", {}).items(), key=lambda kv: int(kv[0])):
        ok = [p for p in pairs if p.get("ours", {}).get("bringup_us") is not None and not p["ours"].get("failed")]
        fl = [p for p in pairs if p.get("floor")]
        both = [p for p in ok if p.get("floor") and p["floor"]["last_mark_us"] > 0]
        e = {"ours_us": stat([p["ours"]["bringup_us"] for p in ok]),
             "floor_us": stat([p["floor"]["last_mark_us"] for p in fl]),
             "ours_bsp_us": stat([p["ours"].get("bsp_seen_us") for p in ok]),
             "floor_bsp_us": stat([p["floor"]["bsp_seen_us"] for p in fl]),
             "pair_ratio": stat([p["ours"]["bringup_us"] / p["floor"]["last_mark_us"] for p in both]),
             "load1": stat([x.get("load1") for p in pairs for x in (p.get("ours"), p.get("floor")) if x])}
        e["ratio"] = (e["ours_us"]["median"] / e["floor_us"]["median"]
                      if e["ours_us"] and e["floor_us"] and e["floor_us"]["median"] > 0 else None)
        s["floor"][n] = e

    # targets (informational)
    T = s["targets"]
    if s["prompt"]:
        T.append({"target": f"QEMU start to `kmon> ` at -smp {PROMPT_SMP} (SeaBIOS, GRUB) at most {TARGET_PROMPT_S} s, median",
                  "pass": s["prompt"]["median"] <= TARGET_PROMPT_S,
                  "detail": f"{cell(s['prompt'], 's')}, N={s['prompt']['n']}"})
    ours = s["series"].get("ours", {})
    for key, ser in s["series"].items():
        if key == "ours" or not ser:
            continue
        cmp_ = [(n, ours[n]["guest_bringup_ms"]["median"], v["host_bringup_ms"]["median"],
                 v["guest_bringup_ms"]["median"] if v["guest_bringup_ms"] else None)
                for n, v in ser.items() if n in ours and ours[n].get("guest_bringup_ms") and v.get("host_bringup_ms")]
        if cmp_:
            bad = [n for n, o, h, g in cmp_ if not (o < h and (g is None or o < g))]
            T.append({"target": f"AP bring-up faster than {s['series_labels'][key]} at every count measured",
                      "pass": not bad,
                      "detail": ", ".join(f"{n}: {fmt_ms(o)} vs {fmt_ms(h)}" for n, o, h, g in cmp_)
                      + (f"; not faster at {bad}" if bad else "")})
    t4 = next((b for b in s["boot"] if b["label"].startswith("TCG SeaBIOS")), None)
    if t4:
        T.append({"target": f"handoff to prompt under {TARGET_PROMPT_MS:.0f} ms at -smp {PROMPT_SMP} (TCG; meant for KVM)",
                  "pass": t4["kernel_ms"]["median"] < TARGET_PROMPT_MS, "detail": cell(t4["kernel_ms"], "ms")})
    if s["mem"]:
        T.append({"target": f"at most {TARGET_PER_CPU_KIB:.0f} KiB physical memory per CPU",
                  "pass": s["mem"]["per_cpu_kib"] <= TARGET_PER_CPU_KIB,
                  "detail": f"{s['mem']['per_cpu_kib']:.1f} KiB (-smp 1 vs {s['mem']['nmax']})"})
    for n in TARGET_FLOOR_SMP:
        e = s["floor"].get(str(n))
        if e and e["ratio"] is not None:
            T.append({"target": f"AP bring-up within {TARGET_FLOOR_RATIO}x of its floor at -smp {n} (medians)",
                      "pass": e["ratio"] <= TARGET_FLOOR_RATIO, "floor_smp": n, "ratio": e["ratio"],
                      "detail": f"{e['ratio']:.2f}x: {fmt_us(e['ours_us'])} against {fmt_us(e['floor_us'])}"})
    img = res["image"]
    T.append({"target": f"loadable image under {TARGET_IMAGE_KIB:.0f} KiB (release)",
              "pass": img["load_memsz_total"] / 1024 < TARGET_IMAGE_KIB,
              "detail": f"{img['load_memsz_total'] / 1024:.1f} KiB PT_LOAD memsz ({img['load_filesz_total'] / 1024:.1f} KiB "
                        f"in the file), {img['load_phys_span'] / 1024:.0f} KiB physical span"})
    return s


# ---------------------------------------------------------------------------- the plot

STYLE = {"ours": ("k", "o", "-")}


def series_style(key, i):
    if key == "ours":
        return STYLE["ours"]
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    c = colors[(i // 2) % len(colors)]
    return (c, "^", "--") if key.endswith("-lpj") else (c, "s", "-")


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return "matplotlib missing (apt-get install -y python3-matplotlib): no plot"
    s = results["summary"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 7.4), dpi=100)
    ticks = set()
    for i, (key, ser) in enumerate(s["series"].items()):
        if not ser:
            continue
        color, marker, ls = series_style(key, i - 1)
        label = s["series_labels"][key]
        for ax, metric, scale in ((ax1, "guest_bringup_ms", 1.0), (ax2, "wall_all_up_s", 1.0)):
            pts = [(int(n), v[metric]) for n, v in ser.items() if v.get(metric) and int(n) > 1]
            if not pts:
                continue
            xs = [n for n, _ in pts]
            ys = [st["median"] * scale for _, st in pts]
            err = [[(st["median"] - st["min"]) * scale for _, st in pts], [(st["max"] - st["median"]) * scale for _, st in pts]]
            ax.errorbar(xs, ys, yerr=err, color=color, marker=marker, linestyle=ls, capsize=3, markersize=5,
                        label=label + (" (printk clock)" if metric == "guest_bringup_ms" and key != "ours" else ""))
            ticks.update(xs)
        if key != "ours":  # Linux's bring-up window by the host clock, beside its printk figure
            pts = [(int(n), v["host_bringup_ms"]) for n, v in ser.items() if v.get("host_bringup_ms")]
            if pts:
                ax1.plot([n for n, _ in pts], [st["median"] for _, st in pts], color=color, marker=marker, linestyle=":",
                         alpha=0.5, markersize=3, label=label + " (host clock)")
    meta = results["meta"]
    ld = meta.get("load", {})
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        t = sorted(ticks)
        if t:  # 255 and 256 sit on top of each other on a log axis: one label for both
            lab = [("" if (x == 255 and 256 in t) else ("255/256" if (x == 256 and 255 in t) else str(x))) for x in t]
            ax.set_xticks(t)
            ax.set_xticklabels(lab, fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda y, _: f"{y:g}" if y > 0 and f"{y:.0e}"[0] in "25" else ""))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xlabel("CPUs (-smp N)")
        ax.grid(True, which="both", alpha=0.3)
    ax1.set_ylabel("ms, median, bars min-max")
    ax1.set_title("AP bring-up, first INIT to last AP online\n(guest clock; Linux printk runs slow above 8 vCPUs under TCG)",
                  fontsize=9)
    ax2.set_ylabel("s, median, bars min-max")
    ax2.set_title("QEMU start to all CPUs running (host wall clock)\n(ours: kmon> prompt; Linux: 'smp: Brought up'; "
                  "both SeaBIOS+GRUB)", fontsize=9)
    for ax in (ax1, ax2):
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=3)
    fig.suptitle(f"QEMU {meta['qemu_version']} TCG, q35, -cpu max, -m {MEM}, {meta['host_cpus']} host CPUs, "
                 f"load {ld.get('mean', 0):.1f} mean ({ld.get('min', 0):.1f}-{ld.get('max', 0):.1f}); "
                 f"N={meta['runs']} runs per point, {meta['date'][:10]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return None


# ---------------------------------------------------------------------------- report, README

def bringup_tables(res, md: bool):
    """The two comparison tables (host wall clock to all CPUs up; guest-clock bring-up) as
    markdown or plain text; every cell median (min-max) of the runs in results.json."""
    s = res["summary"]
    runs = res["meta"]["runs"]
    keys = [k for k, v in s["series"].items() if v]
    counts = sorted({int(n) for k in keys for n in s["series"][k]})
    out = []
    for title, metric, kind in (
            ("QEMU start to all CPUs running, host wall clock (ours: `kmon> `; Linux: `smp: Brought up`)", "wall_all_up_s", "s"),
            ("AP bring-up, guest clock: first INIT to last AP online (ours: boot report, TSC; Linux: printk, "
             "`smp: Bringing up secondary CPUs` to `smp: Brought up`)", "guest_bringup_ms", "ms"),
            ("Linux's bring-up window by the host clock (the same two lines as they arrive on the serial port)",
             "host_bringup_ms", "ms")):
        cols = [k for k in keys if any(v.get(metric) for v in s["series"][k].values())]
        if not cols:
            continue
        rows = []
        for n in counts:
            if metric != "wall_all_up_s" and n == 1:
                continue
            row = [str(n)]
            for k in cols:
                v = s["series"][k].get(str(n))
                dn = runs if not (k == "ours" and n == res["meta"]["prompt_smp"]) else res["meta"]["prompt_runs"]
                row.append(cell(v.get(metric), kind, dn) if v else "")
            if any(c for c in row[1:]):
                rows.append(row)
        hdr = ["-smp"] + [s["series_labels"][k] for k in cols]
        if md:
            out.append(f"**{title}**\n")
            out.append("| " + " | ".join(hdr) + " |")
            out.append("|" + "---|" * len(hdr))
            out += ["| " + " | ".join(r) + " |" for r in rows]
            out.append("")
        else:
            out.append(f"\n{title}:")
            out.append(table(rows, hdr))
    return out


def readme_block(res) -> str:
    m, s = res["meta"], res["summary"]
    ld = m.get("load", {})
    git = m.get("git", {})
    img = res["image"]
    L = []
    L.append(f"Figures from the `scripts/bench` run of {m['date'][:16]} ({m['mode']} mode, {git_text(git)}), written from "
             f"`docs/bench/results.json` (every raw run is there). QEMU {m['qemu_version']}, TCG, "
             f"{m['host_cpus']} host CPUs; **host load during the run** (1-minute load average, sampled every "
             f"{ld.get('every_s', 3):.0f} s, {ld.get('n', 0)} samples): min {ld.get('min', 0):.1f}, mean "
             f"{ld.get('mean', 0):.1f}, max {ld.get('max', 0):.1f}. Each figure is the median (min-max) of "
             f"N = {m['runs']} run(s), N = {m['prompt_runs']} for this kernel at `-smp {m['prompt_smp']}`; "
             f"[N=k] marks a cell with fewer successful runs.")
    L.append("")
    L.append("Both sides boot the same way, SeaBIOS then GRUB 2.06 from a rescue ISO with the same `grub.cfg` "
             "settings (ours: `multiboot2 /boot/kernel.elf`; Linux: "
             f"`linux /boot/vmlinuz {m['linux_cmdline']} [lpj=N]`, no initrd, Debian's kernels):")
    L.append("")
    L.append("    " + m["qemu_command"].replace("<N>", "N"))
    L.append("")
    if s.get("prompt"):
        ok = s["prompt"]["median"] <= TARGET_PROMPT_S
        L.append(f"- **QEMU start to `kmon> ` at `-smp {m['prompt_smp']}`: {cell(s['prompt'], 's')}**, N = "
                 f"{s['prompt']['n']} (target at most {TARGET_PROMPT_S} s: {'met' if ok else 'missed'}).")
    lin = res["linux"]
    lpjs = ", ".join(f"{v['label']} lpj={v['lpj']}" for v in lin.values() if v.get("lpj"))
    if lpjs:
        L.append(f"- `lpj=` is the BSP's `Calibrating delay loop ... lpj=N` value from a first boot ({lpjs}); it "
                 "skips each AP's delay-loop calibration.")
    ratios = []
    for k, ser in s["series"].items():
        if k == "ours":
            continue
        r = [(int(n), v["guest_bringup_ms"]["median"] / v["host_bringup_ms"]["median"]) for n, v in ser.items()
             if v.get("guest_bringup_ms") and v.get("host_bringup_ms") and v["host_bringup_ms"]["median"] > 0]
        if r:
            ratios.append(f"{s['series_labels'][k]} {r[0][1]:.2f}x at {r[0][0]} to {r[-1][1]:.2f}x at {r[-1][0]} CPUs")
    if ratios:
        L.append("- **Linux's printk clock runs slow under TCG** (QEMU-NOTES: above 8 vCPUs; here, on a loaded host, "
                 "sooner), so its guest-clock figures read low. Its printk window over the host-clock window of the "
                 "same two lines, medians: " + "; ".join(ratios) + ". The third table gives the host-clock window.")
    apic = sorted({ln for k, ser in s["series"].items() if k != "ours" for v in ser.values() for ln in v.get("apic", [])})
    if apic:
        L.append("- Linux's APIC mode: " + "; ".join(f"`{a_}`" for a_ in apic[:3]) + " (it stays in xAPIC mode; "
                 "this kernel enables x2APIC itself, and SeaBIOS switches every CPU to x2APIC at 256).")
    L.append("")
    L += bringup_tables(res, md=True)
    L.append("![AP bring-up and time to all CPUs running against core count](docs/bench/bringup.png)")
    L.append("")
    if s.get("floor"):
        fr = res["floor"]
        L.append(f"**AP bring-up against its floor: first INIT to the last AP's own TSC stamp, ms** ({fr['runs']} pair(s) "
                 "per count, each booting this kernel and then the floor build on the same command line; the floor "
                 "(`build/floor/`, preset `floor`, never the normal image) sends the same INIT-SIPI-SIPI through the "
                 "same code to a trampoline whose APs only stamp their TSC and count themselves in real mode, then "
                 "halt; \"BSP\" columns: when the BSP saw the last one; ratio: this kernel's median over the floor's)")
        L.append("")
        L.append("| " + " | ".join(FLOOR_HEADER) + " |")
        L.append("|" + "---|" * len(FLOOR_HEADER))
        L += ["| " + " | ".join(r) + " |" for r in floor_rows(res)]
        goal = [t for t in s["targets"] if "floor_smp" in t]
        if goal:
            L.append("")
            L.append(f"- Goal: within {TARGET_FLOOR_RATIO}x of the floor at " + " and ".join(
                f"-smp {n}" for n in TARGET_FLOOR_SMP) + ": " + "; ".join(
                f"{t['ratio']:.2f}x at {t['floor_smp']} ({'met' if t['pass'] else 'missed'})" for t in goal) + ".")
        L.append("")
    for b in s["boot"]:
        if b["label"].startswith("TCG SeaBIOS"):
            ph = s.get("phases", {})
            L.append(f"- Kernel handoff to prompt at `-smp {m['prompt_smp']}` (own TSC): {cell(b['kernel_ms'], 'ms')}"
                     + (f", of which {ph['timers']['median_us'] / 1000:.1f} ms is the window (HPET on q35) that calibrates the TSC "
                        f"and the APIC timer" if "timers" in ph else "")
                     + f"; QEMU start to GRUB's handoff {cell(b['handoff_s'], 's')}.")
        elif "OVMF" in b["label"]:
            L.append(f"- Through OVMF instead of SeaBIOS (`-smp {m['prompt_smp']}`): QEMU start to prompt "
                     f"{cell(b['prompt_s'], 's')}, N = {b['runs']}.")
    L.append(f"- Image (release): {img['load_memsz_total'] / 1024:.1f} KiB loadable ({img['text'] / 1024:.0f} KiB text, "
             f"{img['rodata'] / 1024:.0f} KiB rodata, {(img['data'] + img['bss']) / 1024:.0f} KiB data+bss, "
             f"{img['ksyms'] / 1024:.0f} KiB symbol table), {img['load_filesz_total'] / 1024:.0f} KiB of it in the file.")
    if s.get("mem"):
        mm = s["mem"]
        sp = mm["per_cpu_split_kib"]
        L.append(f"- Physical memory per CPU: {mm['per_cpu_kib']:.0f} KiB ({sp['stacks']:.0f} KiB stacks, "
                 f"{sp['percpu']:.0f} KiB per-CPU data, {sp['page-tables']:.0f} KiB page table; physmap at -smp 1 "
                 f"against -smp {mm['nmax']}); {mm['smpmax']['per_cpu_relevant'] / 1024:.1f} MiB in all at "
                 f"{mm['nmax']} CPUs.")
    if s.get("mem_by_m"):
        parts = [f"{v.get('page-tables', '?')} KiB at `-m {k}`" for k, v in s["mem_by_m"].items()]
        L.append("- Page tables: " + ", ".join(parts) + ".")
    if res.get("stub"):
        import stub_bench
        L.append("")
        L += stub_bench.readme_lines(res["stub"])
    if res.get("failures"):
        L.append(f"- {len(res['failures'])} run(s) failed and are left out (listed in results.json).")
    if res.get("footprint"):
        L.append("")
        L.append("**Image footprint by item (release; every .bss object of 4 KiB or more and what sizes it, from "
                 "`test/bench/footprint.py`)**")
        L.append("")
        L.append("| item | KiB | sized by |")
        L.append("|---|---|---|")
        L += ["| " + " | ".join(r) + " |" for r in footprint_rows(res["footprint"])]
        L.append("")
    return "\n".join(L).rstrip() + "\n"


def publish(rjson, png):
    """Copies results.json (and the plot) to docs/bench/ and rewrites README.md's bench block
    from that results.json."""
    with open(rjson) as f:
        res = json.load(f)
    os.makedirs(DOCS, exist_ok=True)
    if os.path.abspath(rjson) != os.path.abspath(os.path.join(DOCS, "results.json")):
        shutil.copyfile(rjson, os.path.join(DOCS, "results.json"))
    if png and os.path.isfile(png) and os.path.abspath(png) != os.path.abspath(os.path.join(DOCS, "bringup.png")):
        shutil.copyfile(png, os.path.join(DOCS, "bringup.png"))
    with open(README) as f:
        text = f.read()
    b = text.find(README_BEGIN)
    e = text.find(README_END)
    if b < 0 or e < b:
        log("bench: README.md has no bench markers; block not written")
        return
    b_end = text.index("\n", b) + 1  # keep the begin marker line as it is
    new = text[:b_end] + readme_block(res) + text[e:]
    if new != text:
        tmp = README + ".bench.tmp"
        with open(tmp, "w") as f:
            f.write(new)
        os.replace(tmp, README)
    log("bench: copied results.json and bringup.png to docs/bench/ and rewrote README.md's bench block from it")


def report(res, s, png, outdir):
    meta = res["meta"]
    ld = meta.get("load", {})
    log("")
    log(f"== scripts/bench  {meta['date']}  {git_text(meta.get('git', {})).replace('`', '')}")
    log(f"   QEMU {meta['qemu_version']} ({meta['accel'].upper()}), host {meta['host_cpus']} "
        f"CPUs, load1 min/mean/max {ld.get('min', 0):.2f}/{ld.get('mean', 0):.2f}/{ld.get('max', 0):.2f} "
        f"({ld.get('n', 0)} samples); N={meta['runs']} runs per point ({meta['prompt_runs']} at -smp {meta['prompt_smp']}); "
        f"median (min-max); took {meta['duration_s']} s")
    log(f"   qemu: {meta['qemu_command']}")
    for n in res["notes"]:
        log(f"   note: {n}")
    if s.get("prompt"):
        log(f"\nQEMU start to `kmon> ` at -smp {meta['prompt_smp']} (SeaBIOS, GRUB): {cell(s['prompt'], 's')}, N={s['prompt']['n']}")
    log("\nBoot (wall clock from QEMU start; kernel figure from its own TSC):")
    rows = [[b["label"], b["runs"], cell(b["handoff_s"], "s"), cell(b["prompt_s"], "s"), cell(b["kernel_ms"], "ms"),
             cell(b["host_ms"], "ms"), fmt(b["tsc_mhz"], ".0f")] for b in s["boot"]]
    log(table(rows, ["config", "N", "to handoff", "to prompt", "kernel handoff->prompt", "host banner->prompt", "TSC MHz"]))
    if s["phases"]:
        log(f"\nKernel phases, -smp {s['phases_smp']} (`timing`), ms:")
        rows = [[PHASE_LABELS.get(k, k), f"{v['min_us'] / 1000:.2f}", f"{v['median_us'] / 1000:.2f}"] for k, v in s["phases"].items()]
        rows.append(["total (sum of medians)", "", f"{sum(v['median_us'] for v in s['phases'].values()) / 1000:.2f}"])
        log(table(rows, ["phase", "min", "median"]))
    for line in bringup_tables(res, md=False):
        log(line)
    lin = res["linux"]
    for v in lin.values():
        log(f"   {v['label']}: {v['release']}, lpj={v.get('lpj')}")

    if s.get("floor"):
        log(f"\nAP bring-up against its floor (first INIT to the last AP's own TSC stamp; {meta.get('floor_runs')} pair(s) "
            f"per count, each: this kernel, then build/floor/), ms, median (min-max):")
        log(table(floor_rows(res), FLOOR_HEADER))
    img = res["image"]
    if res.get("footprint"):
        log("\nImage footprint by item (build/release/kernel.elf; test/bench/footprint.py names what sizes each):")
        log(table(footprint_rows(res["footprint"]), ["item", "KiB", "sized by"], left=(0, 2)))
    log("\nImage (build/release/kernel.elf):")
    rows = [["text (.boot+.text)", img["text"]], ["rodata", img["rodata"]], ["data", img["data"]], ["bss", img["bss"]],
            ["ksyms (symbol table for backtraces)", img["ksyms"]],
            ["loadable total, PT_LOAD memsz", img["load_memsz_total"]],
            ["loadable in the file, PT_LOAD filesz", img["load_filesz_total"]],
            ["physical span, page-rounded", img["load_phys_span"]], ["kernel.elf file (with debug info)", img["elf_file_bytes"]]]
    log(table([[k, v, f"{v / 1024:.1f}"] for k, v in rows], ["", "bytes", "KiB"]))
    if s["mem"]:
        m = s["mem"]
        log(f"\nPhysical memory the kernel allocates (physmap totals, -m {MEM}), KiB:")
        rows = []
        for lab, p in (("-smp 1", m["smp1"]), (f"-smp {m['nmax']}", m["smpmax"])):
            rows.append([lab, p.get("page-tables", 0), p.get("percpu", 0), p.get("stacks", 0), p["per_cpu_relevant"],
                         p.get("allocated", 0), p.get("image", 0)])
        sp = m["per_cpu_split_kib"]
        rows.append(["per CPU (difference / (N-1))", f"{sp['page-tables']:.1f}", f"{sp['percpu']:.1f}", f"{sp['stacks']:.1f}",
                     f"{m['per_cpu_kib']:.1f}", "", ""])
        log(table(rows, ["", "page-tables", "percpu", "stacks", "sum", "allocated", "image"]))
    if s["mem_by_m"]:
        log("\nPage-table memory against -m (-smp 1, physmap), KiB:")
        rows = [[k, v.get("page-tables", "-"), v.get("allocated", "-"), v.get("usable", "-")] for k, v in s["mem_by_m"].items()]
        log(table(rows, ["-m", "page-tables", "allocated", "usable"]))
    if res.get("stub"):
        import stub_bench
        log("\nThe gdb stub on the wire (gdb/kernel.gdb; 115200 baud through a pacing proxy):")
        log(stub_bench.tables(res["stub"]))
        for line in stub_bench.summary_lines(res["stub"]):
            log("  " + line)
    log("\nTargets (informational):")
    for t in s["targets"]:
        st = "PASS" if t["pass"] else ("MISS" if t["pass"] is False else "n/a ")
        log(f"  {st}  {t['target']}: {t['detail']}")
    if res["failures"]:
        log("\nFailed runs:")
        for f in res["failures"]:
            log(f"  {f}")
    rel = (lambda q: os.path.relpath(q, ROOT) if os.path.abspath(q).startswith(ROOT + os.sep) else q)
    log(f"\nwrote {rel(os.path.join(outdir, 'results.json'))}" + (f" and {rel(png)}" if png else ""))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        sys.exit(f"bench: error: {e}")
    except subprocess.CalledProcessError as e:
        sys.exit(f"bench: error: {' '.join(e.cmd)} failed (exit {e.returncode})")
    except KeyboardInterrupt:
        sys.exit("bench: interrupted")
