#!/usr/bin/python3
"""scripts/bench: boot-time, AP bring-up and footprint benchmarks (not part of the tests).

Builds the release preset (build/release/kernel.iso, kernel.elf), boots it in QEMU many
times and measures, from the host and from the kernel's own reports:

  * wall time from QEMU start to GRUB's handoff (the first kernel line on COM1) and to
    the `kmon> ` prompt, BIOS (SeaBIOS) and UEFI (OVMF);
  * the kernel's own handoff-to-prompt time, split by phase (monitor command `timing`);
  * AP bring-up time (first INIT to last AP online) for -smp 1..255 on q35, next to
    Debian's Linux booted with -kernel on the same machine: its printk time from
    `smp: Bringing up secondary CPUs` to `smp: Brought up`, and the host wall clock
    between those two lines as they arrive; also Linux with `lpj=<BSP value>`, which
    skips the per-AP delay-loop calibration;
  * image size (ELF sections and PT_LOAD segments), physical memory per CPU (physmap
    totals at -smp 1 and at the largest count) and page-table memory against -m.

Writes build/bench/results.json and build/bench/bringup.png, prints a table and
PASS/MISS against the project's targets (informational: the exit status is 0 whenever
the measurements themselves worked).
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
import time

try:
    import pexpect
except ImportError:  # pragma: no cover
    sys.exit("bench: needs pexpect (apt-get install python3-pexpect); run with /usr/bin/python3")

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RELEASE = os.path.join(ROOT, "build", "release")
OUT = os.path.join(ROOT, "build", "bench")
OVMF_CODE = os.environ.get("OVMF_CODE", "/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = os.environ.get("OVMF_VARS", "/usr/share/OVMF/OVMF_VARS_4M.fd")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")

ALL_SMP = [1, 2, 4, 8, 16, 32, 64, 128, 255]
LINUX_DEFAULT = [2, 4, 8, 16, 32]
LINUX_FULL_EXTRA = [64, 128, 255]
QUICK_SMP = [1, 2, 4, 8, 16, 64, 255]
QUICK_LINUX = [2, 4, 8]
MEM_SIZES = ["128M", "8G", "64G"]

TARGET_PROMPT_MS = 50.0
TARGET_PER_CPU_KIB = 64.0
TARGET_IMAGE_KIB = 256.0

KMON_BANNER = "kmon: x86-64"
PROMPT = "kmon> "


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


def table(rows, header):
    """Left-aligned first column, right-aligned others."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for k, r in enumerate(cells):
        line = "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r))
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

def build(skip: bool) -> None:
    if skip:
        log("bench: --no-build: using the existing build/release/")
    else:
        log("bench: building the release preset (cmake --preset release && cmake --build --preset release)")
        if not os.path.isfile(os.path.join(RELEASE, "build.ninja")):
            subprocess.run(["cmake", "--preset", "release"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", "--preset", "release"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    for f in ("kernel.iso", "kernel.elf"):
        if not os.path.isfile(os.path.join(RELEASE, f)):
            raise BenchError(f"build/release/{f} missing (build failed?)")


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

def our_qemu_args(iso, smp, mem="512M", accel="tcg", cpu=None, uefi_vars=None):
    cpu = cpu or ("host" if accel == "kvm" else "max")
    machine = "q35"
    args = []
    if mem.upper() in ("64G",) or (mem.upper().endswith("G") and int(mem[:-1]) > 16):
        args += ["-object", f"memory-backend-ram,id=m0,size={mem},reserve=off"]
        machine = "q35,memory-backend=m0"
    args += ["-machine", machine, "-accel", accel, "-cpu", cpu, "-smp", str(smp), "-m", mem,
             "-chardev", "stdio,id=s0,signal=off", "-serial", "chardev:s0",
             "-display", "none", "-no-reboot"]
    if uefi_vars:
        args += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={uefi_vars}"]
    args += ["-boot", "d", "-cdrom", iso]
    return args


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
    ("TSC and APIC timer", "timers"),
    ("ACPI", "acpi"),
    ("AP bring-up", "smp"),
    ("monitor prompt", "prompt"),
]
PHASE_LABELS = {  # phase = interval ending at that mark
    "kernel_entry": "entry to kernel_main, serial",
    "paging": "memory map, final page tables",
    "timers": "IDT, LAPIC, TSC+APIC timer calibration",
    "acpi": "ACPI tables, CPU list",
    "smp": "AP bring-up",
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


def boot_ours(iso, smp, mem="512M", accel="tcg", cpu=None, uefi=False, commands=("timing", "physmap"),
              timeout=None):
    """One boot of this kernel; returns host wall times and what the kernel reported."""
    timeout = timeout or (60 + 0.25 * smp + (120 if uefi else 0))
    tmpdir = None
    vars_copy = None
    if uefi:
        tmpdir = tempfile.mkdtemp(prefix="bench-ovmf-")
        vars_copy = os.path.join(tmpdir, "OVMF_VARS.fd")
        shutil.copyfile(OVMF_VARS, vars_copy)
    args = our_qemu_args(iso, smp, mem, accel, cpu, vars_copy)
    res = {"smp": smp, "mem": mem, "accel": accel, "cpu": cpu or "max", "firmware": "UEFI" if uefi else "BIOS"}
    t0 = time.monotonic()
    p = pexpect.spawn(QEMU, args, encoding="utf-8", codec_errors="replace", timeout=timeout,
                      maxread=65536, dimensions=(50, 250))
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


def boot_linux(vmlinuz, smp, extra="", timeout=None):
    """One boot of Linux until `smp: Brought up`; printk and host wall times of the two lines."""
    timeout = timeout or (120 if smp <= 32 else 3000)
    args = ["-kernel", vmlinuz, "-append", ("console=ttyS0 panic=-1 " + extra).strip(),
            "-machine", "q35", "-accel", "tcg", "-m", "1G", "-smp", str(smp),
            "-display", "none", "-serial", "stdio", "-no-reboot"]
    res = {"smp": smp, "append_extra": extra}
    t0 = time.monotonic()
    p = pexpect.spawn(QEMU, args, encoding="utf-8", codec_errors="replace", timeout=timeout, maxread=65536)
    ts = r"^\[\s*(\d+\.\d+)\]"
    try:
        start = None
        while True:
            i = p.expect_exact(["\n", pexpect.EOF, pexpect.TIMEOUT])
            now = time.monotonic()
            if i != 0:
                raise BenchError(f"Linux -smp {smp}: {'QEMU exited' if i == 1 else 'timeout'} before 'smp: Brought up'")
            line = p.before.rstrip("\r")
            if "Linux version" in line and "wall_console_s" not in res:
                res["wall_console_s"] = now - t0
            m = re.search(r"lpj=(\d+)", line)
            if m and "lpj" not in res and "Calibrating" in line:
                res["lpj"] = int(m.group(1))
            if "smp: Bringing up secondary CPUs" in line:
                m = re.search(ts, line)
                start = (now, float(m.group(1)) if m else None)
                res["wall_bringing_up_s"] = now - t0
            elif "smp: Brought up" in line and start:
                m = re.search(ts, line)
                res["printk_s"] = (float(m.group(1)) - start[1]) if (m and start[1] is not None) else None
                res["wall_s"] = now - start[0]
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


def find_vmlinuz(given):
    if given:
        return given if os.path.isfile(given) else None
    c = sorted(glob.glob("/boot/vmlinuz-*"))
    c = [x for x in c if os.access(x, os.R_OK)]
    return c[-1] if c else None


# ---------------------------------------------------------------------------- the plot

def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib missing (apt-get install -y python3-matplotlib): no plot"
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)

    def series(rows, key, scale):
        xs, ys, lo = [], [], []
        for n in sorted(rows, key=int):
            v = [r[key] for r in rows[n] if r.get(key) is not None]
            if v and int(n) > 1:
                xs.append(int(n))
                ys.append(statistics.median(v) * scale)
                lo.append(min(v) * scale)
        return xs, ys, lo

    for rows, key, scale, label, style in (
        (results["ours"]["bringup"], "bringup_us", 1e-3, "this kernel (own TSC, first INIT to last AP)", "o-"),
        (results["linux"]["plain"], "wall_s", 1e3, "Linux 6.1, host wall clock", "s-"),
        (results["linux"]["plain"], "printk_s", 1e3, "Linux 6.1, printk clock", "s--"),
        (results["linux"]["lpj"], "wall_s", 1e3, "Linux 6.1 with lpj=, host wall clock", "^-"),
    ):
        xs, ys, lo = series(rows, key, scale)
        if xs:
            line, = ax.plot(xs, ys, style, label=label)
            if key == "bringup_us" and any(a != b for a, b in zip(ys, lo)):
                ax.plot(xs, lo, ":", color=line.get_color(), alpha=0.6, label="this kernel, min of runs")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ticks = sorted({int(n) for n in results["ours"]["bringup"]} | {int(n) for n in results["linux"]["plain"]})
    ticks = [t for t in ticks if t > 1]
    if ticks:
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks])
    ax.set_xlabel("CPUs (-smp N, q35)")
    ax.set_ylabel("AP bring-up time, ms (median)")
    accel = results["meta"]["accel"]
    ax.set_title(f"AP bring-up vs core count, QEMU {results['meta']['qemu_version']} {accel.upper()}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return None


# ---------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(
        prog="scripts/bench",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[1],
        epilog="""defaults: this kernel at -smp 1 2 4 8 16 32 64 128 255; Linux at 2..32 (plus the
lpj= variant); UEFI 2 runs; -m 128M/8G/64G page tables. A default run takes about
10-15 minutes under TCG on 2 host cores; --quick about 3; --full adds Linux at
64/128/255 (one run each; plain Linux at 255 takes >10 minutes by itself).

KVM is used in addition to TCG when /dev/kvm works; otherwise it is skipped with a note.""")
    ap.add_argument("--runs", type=int, default=None, metavar="N", help="runs per point (default 3; 1 with --quick)")
    ap.add_argument("--uefi-runs", type=int, default=None, metavar="N",
                    help="UEFI boots (slow, ~12 s each; default min(runs, 2))")
    ap.add_argument("--quick", action="store_true",
                    help="fast subset: 1 run, -smp 1 2 4 8 16 64 255, Linux at 2 4 8, 1 UEFI boot")
    ap.add_argument("--full", action="store_true", help="also Linux at -smp 64 128 255 (slow: ~15+ minutes)")
    ap.add_argument("--smp", metavar="LIST", help="comma list of CPU counts for this kernel (overrides the default)")
    ap.add_argument("--linux-smp", metavar="LIST", help="comma list of CPU counts for Linux (overrides; '' = none)")
    ap.add_argument("--no-linux", action="store_true", help="skip Linux")
    ap.add_argument("--no-lpj", action="store_true", help="skip the Linux lpj= variant")
    ap.add_argument("--no-uefi", action="store_true", help="skip the UEFI boots")
    ap.add_argument("--no-mem", action="store_true", help="skip the -m 128M/8G/64G page-table boots")
    ap.add_argument("--linux", metavar="VMLINUZ", help="Linux kernel image (default: newest /boot/vmlinuz-*)")
    ap.add_argument("--no-build", action="store_true", help="do not build; use build/release as it is")
    ap.add_argument("--out", default=OUT, metavar="DIR", help="output directory (default build/bench)")
    a = ap.parse_args()

    runs = a.runs if a.runs is not None else (1 if a.quick else 3)
    if runs < 1:
        ap.error("--runs must be at least 1")
    uefi_runs = 0 if a.no_uefi else (a.uefi_runs if a.uefi_runs is not None else (1 if a.quick else min(runs, 2)))

    def parse_list(s):
        try:
            v = [int(x) for x in s.split(",") if x.strip()]
        except ValueError:
            ap.error(f"bad CPU list '{s}'")
        if any(n < 1 or n > 255 for n in v):
            ap.error("CPU counts must be 1..255 (q35 under TCG)")
        return v

    our_smp = parse_list(a.smp) if a.smp else (QUICK_SMP if a.quick else ALL_SMP)
    if a.linux_smp is not None:
        linux_smp = parse_list(a.linux_smp)
    else:
        linux_smp = list(QUICK_LINUX if a.quick else LINUX_DEFAULT) + (LINUX_FULL_EXTRA if a.full else [])
    if a.no_linux:
        linux_smp = []
    mem_sizes = [] if a.no_mem else MEM_SIZES

    build(a.no_build)
    iso = os.path.join(RELEASE, "kernel.iso")
    elf = os.path.join(RELEASE, "kernel.elf")
    os.makedirs(a.out, exist_ok=True)
    vmlinuz = find_vmlinuz(a.linux) if linux_smp else None
    notes = []
    if linux_smp and not vmlinuz:
        notes.append("Linux skipped: no readable /boot/vmlinuz-* (apt-get install linux-image-amd64)")
        linux_smp = []
    if uefi_runs and not (os.path.isfile(OVMF_CODE) and os.path.isfile(OVMF_VARS)):
        notes.append(f"UEFI skipped: {OVMF_CODE} missing (apt-get install ovmf)")
        uefi_runs = 0

    qv = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    qv = re.search(r"version (\S+)", qv).group(1) if "version" in qv else qv
    kvm_ok, kvm_note = kvm_status(iso)
    accels = ["tcg"] + (["kvm"] if kvm_ok else [])
    notes.append(("KVM: " + kvm_note) if kvm_ok else ("KVM skipped: " + kvm_note + "; all figures are TCG"))
    log("bench: " + notes[-1])
    if a.full and linux_smp:
        notes.append("--full: Linux also at -smp 64/128/255, one run each at 64 and above")
    elif linux_smp:
        notes.append(f"Linux measured at -smp {','.join(map(str, linux_smp))} only (--full adds 64/128/255)")

    def linux_runs(n):
        return 1 if n >= 64 else runs

    lpj_smp = [] if a.no_lpj else linux_smp
    total = sum(runs for _ in our_smp) * len(accels) + uefi_runs * len(accels) \
        + (len(mem_sizes) + 1 if mem_sizes else 0) \
        + sum(linux_runs(n) for n in linux_smp) + sum(linux_runs(n) for n in lpj_smp)
    prog = Progress(total)

    results = {
        "meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "host": platform.node(), "host_cpus": os.cpu_count(),
                 "qemu_version": qv, "accel": "+".join(accels), "runs": runs, "uefi_runs": uefi_runs,
                 "quick": a.quick, "full": a.full, "kernel_iso": iso, "linux": vmlinuz,
                 "load_avg_start": os.getloadavg()},
        "notes": notes,
        "image": image_sizes(elf),
        "ours": {"bringup": {}, "uefi": {}, "mem": {}, "kvm": {}},
        "linux": {"plain": {}, "lpj": {}, "lpj_value": None},
    }
    failures = []

    # -- this kernel, BIOS, against -smp (boot-to-prompt at -smp 4 comes from here)
    for accel in accels:
        dest = results["ours"]["bringup"] if accel == "tcg" else results["ours"]["kvm"]
        for n in our_smp:
            dest[str(n)] = []
            for r in range(runs):
                try:
                    res = boot_ours(iso, n, accel=accel)
                    dest[str(n)].append(res)
                    bu = res.get("bringup_us")
                    prog.line(f"ours {accel} BIOS -smp {n:<3} run {r + 1}/{runs}: handoff {res['wall_handoff_s']:.2f} s, "
                              f"prompt {res['wall_prompt_s']:.2f} s, bring-up "
                              f"{fmt(bu / 1000 if bu is not None else None, '.2f')} ms, kernel handoff->prompt "
                              f"{res['handoff_to_prompt_us'] / 1000:.1f} ms, {res.get('online')}/{res.get('enabled')} online")
                except (BenchError, pexpect.ExceptionPexpect) as e:
                    failures.append(f"ours {accel} -smp {n}: {e}")
                    prog.line(f"ours {accel} BIOS -smp {n} run {r + 1}/{runs}: FAILED: {e}")

        # -- UEFI at -smp 4
        if uefi_runs:
            key = accel
            results["ours"]["uefi"][key] = []
            for r in range(uefi_runs):
                try:
                    res = boot_ours(iso, 4, accel=accel, uefi=True)
                    results["ours"]["uefi"][key].append(res)
                    prog.line(f"ours {accel} UEFI -smp 4   run {r + 1}/{uefi_runs}: handoff {res['wall_handoff_s']:.2f} s, "
                              f"prompt {res['wall_prompt_s']:.2f} s, kernel handoff->prompt "
                              f"{res['handoff_to_prompt_us'] / 1000:.1f} ms ({res.get('firmware_seen')})")
                except (BenchError, pexpect.ExceptionPexpect) as e:
                    failures.append(f"ours {accel} UEFI: {e}")
                    prog.line(f"ours {accel} UEFI run {r + 1}: FAILED: {e}")

    # -- page tables against -m (at -smp 1, so only the BSP's slot is mapped)
    for mem, cpu in [(m, "max") for m in mem_sizes] + ([("8G", "qemu64")] if mem_sizes else []):
        key = mem if cpu == "max" else f"{mem} -cpu {cpu}"
        try:
            res = boot_ours(iso, 1, mem=mem, cpu=cpu, commands=("physmap",))
            results["ours"]["mem"][key] = res
            pm = res.get("physmap", {})
            prog.line(f"ours tcg BIOS -smp 1 -m {mem} -cpu {cpu}: page tables {pm.get('page-tables')} KiB, "
                      f"allocated {pm.get('allocated')} KiB")
        except (BenchError, pexpect.ExceptionPexpect) as e:
            failures.append(f"ours -m {mem}: {e}")
            prog.line(f"ours -m {mem} -cpu {cpu}: FAILED: {e}")

    # -- Linux
    lpj = None
    if linux_smp:
        order = sorted(set(linux_smp))
        # the lpj= variant uses the BSP's value as read from the plain boots (which run first)
        for variant, counts in (("plain", order), ("lpj", sorted(set(lpj_smp)))):
            if variant == "lpj":
                if not counts:
                    continue
                if lpj is None:
                    notes.append("Linux lpj= variant skipped: no lpj value read")
                    break
                results["linux"]["lpj_value"] = lpj
            for n in counts:
                results["linux"][variant][str(n)] = []
                k = linux_runs(n)
                for r in range(k):
                    extra = f"lpj={lpj}" if variant == "lpj" else ""
                    try:
                        res = boot_linux(vmlinuz, n, extra)
                        if lpj is None and res.get("lpj"):
                            lpj = res["lpj"]
                        results["linux"][variant][str(n)].append(res)
                        prog.line(f"linux {variant:5} -smp {n:<3} run {r + 1}/{k}: bring-up wall {res['wall_s'] * 1000:.0f} ms, "
                                  f"printk {fmt(res['printk_s'] * 1000 if res.get('printk_s') is not None else None, '.0f')} ms, "
                                  f"{res.get('cpus_up')} CPUs up")
                    except (BenchError, pexpect.ExceptionPexpect) as e:
                        failures.append(f"linux {variant} -smp {n}: {e}")
                        prog.line(f"linux {variant} -smp {n} run {r + 1}/{k}: FAILED: {e}")

    results["meta"]["load_avg_end"] = os.getloadavg()
    results["failures"] = failures
    summary = summarize(results)
    results["summary"] = summary
    png = os.path.join(a.out, "bringup.png")
    perr = plot(results, png)
    if perr:
        notes.append(perr)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=False)
    report(results, summary, png if not perr else None, a.out)
    return 0 if not failures else 1


# ---------------------------------------------------------------------------- summary and report

def summarize(res) -> dict:
    s = {"boot": [], "bringup": [], "phases": {}, "mem": {}, "targets": []}

    def boot_row(label, rows):
        if not rows:
            return
        s["boot"].append({
            "label": label, "runs": len(rows),
            "handoff_s": (mn(r["wall_handoff_s"] for r in rows), med([r["wall_handoff_s"] for r in rows])),
            "prompt_s": (mn(r["wall_prompt_s"] for r in rows), med([r["wall_prompt_s"] for r in rows])),
            "kernel_ms": (mn(r["handoff_to_prompt_us"] / 1000 for r in rows),
                          med([r["handoff_to_prompt_us"] / 1000 for r in rows])),
            "host_ms": (mn(r["wall_banner_to_prompt_ms"] for r in rows), med([r["wall_banner_to_prompt_ms"] for r in rows])),
            "tsc_mhz": med([r.get("tsc_mhz") for r in rows]),
        })

    br = res["ours"]["bringup"]
    boot_row("TCG BIOS -smp 4" if "4" in br else "TCG BIOS", br.get("4") or next(iter(br.values()), []))
    for acc, rows in res["ours"]["uefi"].items():
        boot_row(f"{acc.upper()} UEFI -smp 4", rows)
    for n, rows in res["ours"]["kvm"].items():
        if n == "4":
            boot_row("KVM BIOS -smp 4", rows)

    # phases at -smp 4 (or the first count measured)
    prow = br.get("4") or next(iter(br.values()), [])
    ph = {}
    for r in prow:
        for k, v in r.get("timing", {}).get("phases_us", {}).items():
            ph.setdefault(k, []).append(v)
    s["phases"] = {k: {"min_us": min(v), "median_us": statistics.median(v)} for k, v in ph.items()}
    s["phases_smp"] = 4 if "4" in br else (int(next(iter(br))) if br else None)

    counts = sorted({int(n) for n in br} | {int(n) for n in res["linux"]["plain"]} | {int(n) for n in res["linux"]["lpj"]})
    for n in counts:
        o = br.get(str(n), [])
        if not o and not res["linux"]["plain"].get(str(n)) and not res["linux"]["lpj"].get(str(n)):
            continue
        lp = res["linux"]["plain"].get(str(n), [])
        lj = res["linux"]["lpj"].get(str(n), [])
        first_arr = [min(a["us"] for a in r["timing"]["arrivals"]) for r in o
                     if r.get("timing", {}).get("arrivals")]
        row = {
            "smp": n, "runs": len(o),
            "online": med([r.get("online") for r in o]),
            "ours_ms": (mn(r.get("bringup_us") / 1000 if r.get("bringup_us") is not None else None for r in o),
                        med([r.get("bringup_us") / 1000 if r.get("bringup_us") is not None else None for r in o])),
            "ours_first_ap_ms": med([x / 1000 for x in first_arr]),
            "ours_kernel_prompt_ms": med([r["handoff_to_prompt_us"] / 1000 for r in o]),
            "ours_host_banner_prompt_ms": med([r["wall_banner_to_prompt_ms"] for r in o]),
            "ours_wall_prompt_s": med([r["wall_prompt_s"] for r in o]),
            "linux_runs": len(lp),
            "linux_wall_ms": (mn(r["wall_s"] * 1000 for r in lp), med([r["wall_s"] * 1000 for r in lp])),
            "linux_printk_ms": (mn(r["printk_s"] * 1000 for r in lp if r.get("printk_s") is not None),
                                med([r["printk_s"] * 1000 for r in lp if r.get("printk_s") is not None])),
            "linux_lpj_wall_ms": (mn(r["wall_s"] * 1000 for r in lj), med([r["wall_s"] * 1000 for r in lj])),
            "linux_lpj_printk_ms": med([r["printk_s"] * 1000 for r in lj if r.get("printk_s") is not None]),
        }
        s["bringup"].append(row)

    # memory
    def pm(n):
        rows = br.get(str(n), [])
        v = [r["physmap"] for r in rows if r.get("physmap")]
        return v[0] if v else None

    nmax = max((int(n) for n in br), default=None)
    lo, hi = pm(1), (pm(nmax) if nmax and nmax > 1 else None)
    if lo and hi:
        per = (hi["per_cpu_relevant"] - lo["per_cpu_relevant"]) / (nmax - 1)
        s["mem"] = {"smp1": lo, "smpmax": hi, "nmax": nmax, "per_cpu_kib": per,
                    "per_cpu_split_kib": {k: (hi.get(k, 0) - lo.get(k, 0)) / (nmax - 1)
                                          for k in ("percpu", "stacks", "page-tables")}}
    s["mem_by_m"] = {k: v.get("physmap", {}) for k, v in res["ours"]["mem"].items()}

    # targets
    T = s["targets"]
    cmp_rows = [r for r in s["bringup"] if r["smp"] > 1 and r["linux_wall_ms"][1] is not None and r["ours_ms"][1] is not None]
    if cmp_rows:
        bad = [r["smp"] for r in cmp_rows if not (r["ours_ms"][1] < r["linux_wall_ms"][1])]
        badp = [r["smp"] for r in cmp_rows if r["linux_printk_ms"][1] is not None and not (r["ours_ms"][1] < r["linux_printk_ms"][1])]
        detail = ", ".join(f"{r['smp']}: {r['ours_ms'][1]:.1f} vs {r['linux_wall_ms'][1]:.0f} ms" for r in cmp_rows)
        T.append({"target": "AP bring-up faster than Linux at every core count measured (median, Linux wall clock)",
                  "pass": not bad and not badp,
                  "detail": detail + (f"; slower at {bad}" if bad else "") + (f"; slower than Linux's printk figure at {badp}" if badp else "")})
        lj = [r for r in cmp_rows if r["linux_lpj_wall_ms"][1] is not None]
        if lj:
            badl = [r["smp"] for r in lj if not (r["ours_ms"][1] < r["linux_lpj_wall_ms"][1])]
            T.append({"target": "(extra) AP bring-up faster than Linux booted with lpj=",
                      "pass": not badl,
                      "detail": ", ".join(f"{r['smp']}: {r['ours_ms'][1]:.1f} vs {r['linux_lpj_wall_ms'][1]:.0f} ms" for r in lj)})
    else:
        T.append({"target": "AP bring-up faster than Linux at every core count measured", "pass": None,
                  "detail": "no Linux figures"})
    b4 = next((b for b in s["boot"] if b["label"] == "KVM BIOS -smp 4"), None)
    t4 = next((b for b in s["boot"] if b["label"] == "TCG BIOS -smp 4"), None)
    if b4:
        T.append({"target": f"handoff to prompt under {TARGET_PROMPT_MS:.0f} ms at -smp 4 (KVM)",
                  "pass": b4["kernel_ms"][1] < TARGET_PROMPT_MS, "detail": f"{b4['kernel_ms'][1]:.1f} ms median"})
    if t4:
        T.append({"target": f"handoff to prompt under {TARGET_PROMPT_MS:.0f} ms at -smp 4 (TCG figure; the target is meant for KVM)",
                  "pass": t4["kernel_ms"][1] < TARGET_PROMPT_MS, "detail": f"{t4['kernel_ms'][1]:.1f} ms median under TCG"})
    if s["mem"]:
        T.append({"target": f"at most {TARGET_PER_CPU_KIB:.0f} KiB physical memory per CPU",
                  "pass": s["mem"]["per_cpu_kib"] <= TARGET_PER_CPU_KIB,
                  "detail": f"{s['mem']['per_cpu_kib']:.1f} KiB (-smp 1 vs {s['mem']['nmax']})"})
    img = res["image"]
    T.append({"target": f"loadable image under {TARGET_IMAGE_KIB:.0f} KiB (release)",
              "pass": img["load_memsz_total"] / 1024 < TARGET_IMAGE_KIB,
              "detail": f"{img['load_memsz_total'] / 1024:.1f} KiB PT_LOAD memsz ({img['load_filesz_total'] / 1024:.1f} KiB in the file), "
                        f"{img['load_phys_span'] / 1024:.0f} KiB physical span"})
    return s


def mm2(pair, spec=".1f"):
    a, b = pair
    if a is None and b is None:
        return "-"
    return f"{fmt(a, spec)} / {fmt(b, spec)}"


def report(res, s, png, outdir):
    meta = res["meta"]
    log("")
    log(f"== scripts/bench  {meta['date']}  QEMU {meta['qemu_version']} ({meta['accel'].upper()}), host {meta['host_cpus']} CPUs, "
        f"load {meta['load_avg_start'][0]:.2f} -> {meta['load_avg_end'][0]:.2f}; {meta['runs']} run(s) per point, min / median")
    for n in res["notes"]:
        log(f"   note: {n}")

    log("\nBoot to prompt (wall clock from QEMU start; kernel figure from its own TSC):")
    rows = [[b["label"], b["runs"], mm2(b["handoff_s"], ".2f"), mm2(b["prompt_s"], ".2f"), mm2(b["kernel_ms"]),
             mm2(b["host_ms"]), fmt(b["tsc_mhz"], ".0f")] for b in s["boot"]]
    log(table(rows, ["config", "runs", "to handoff s", "to prompt s", "kernel handoff->prompt ms",
                     "host banner->prompt ms", "TSC MHz (kernel)"]))

    if s["phases"]:
        log(f"\nKernel phases, -smp {s['phases_smp']} TCG BIOS (`timing`), ms:")
        rows = [[PHASE_LABELS.get(k, k), f"{v['min_us'] / 1000:.2f}", f"{v['median_us'] / 1000:.2f}"] for k, v in s["phases"].items()]
        tot = sum(v["median_us"] for v in s["phases"].values())
        rows.append(["total (sum of medians)", "", f"{tot / 1000:.2f}"])
        log(table(rows, ["phase", "min", "median"]))

    log("\nAP bring-up against core count (q35, TCG), ms, min / median:")
    rows = []
    for r in s["bringup"]:
        ratio = (r["linux_wall_ms"][1] / r["ours_ms"][1]) if (r["linux_wall_ms"][1] and r["ours_ms"][1]) else None
        rows.append([r["smp"], f"{fmt(r['online'], '.0f')}", mm2(r["ours_ms"], ".2f"), fmt(r["ours_kernel_prompt_ms"]),
                     fmt(r["ours_host_banner_prompt_ms"]), fmt(r["ours_wall_prompt_s"], ".2f"),
                     mm2(r["linux_wall_ms"], ".0f"), mm2(r["linux_printk_ms"], ".0f"), mm2(r["linux_lpj_wall_ms"], ".0f"),
                     (f"{ratio:.0f}x" if ratio else "-")])
    log(table(rows, ["smp", "up", "ours bring-up", "ours h->p", "host b->p", "wall->prompt s",
                     "Linux wall", "Linux printk", "Linux lpj= wall", "Linux/ours"]))
    log("   ours: the kernel's TSC figure, first INIT to last AP online; h->p: its handoff-to-prompt (median);")
    log("   host b->p: host wall clock from the banner line to `kmon> ` (cross-check of h->p); wall->prompt: QEMU start to prompt")
    log("   (SeaBIOS's CPU scan dominates at high counts). Linux: `smp: Bringing up` to `smp: Brought up`, host wall clock and printk.")
    if res["linux"]["lpj_value"]:
        log(f"   Linux lpj= variant: lpj={res['linux']['lpj_value']} (the BSP's value), skips each AP's delay-loop calibration.")

    img = res["image"]
    log("\nImage (build/release/kernel.elf):")
    rows = [["text (.boot+.text)", img["text"]], ["rodata", img["rodata"]], ["data", img["data"]], ["bss", img["bss"]],
            ["ksyms (symbol table for backtraces)", img["ksyms"]],
            ["loadable total, PT_LOAD memsz", img["load_memsz_total"]],
            ["loadable in the file, PT_LOAD filesz", img["load_filesz_total"]],
            ["physical span, page-rounded", img["load_phys_span"]], ["kernel.elf file (with debug info)", img["elf_file_bytes"]]]
    log(table([[k, v, f"{v / 1024:.1f}"] for k, v in rows], ["", "bytes", "KiB"]))

    if s["mem"]:
        m = s["mem"]
        log(f"\nPhysical memory the kernel allocates (physmap totals, -m 512M), KiB:")
        rows = []
        for lab, p in ((f"-smp 1", m["smp1"]), (f"-smp {m['nmax']}", m["smpmax"])):
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
