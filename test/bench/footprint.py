"""The image's footprint by item, for scripts/bench: text, rodata, and every .bss object of
BIG_BYTES or more with what sizes it.

OWNERS is the table that says, for each big .bss object, which compile-time setting
(src/config.hpp, -DKCONFIG_<NAME>=...) sizes it, or which fixed constant does when no
setting can change it. footprint() fails (FootprintError) when the image has a big .bss
object the table does not name, so a new one cannot appear without an explanation: add
its line here (the demangled name exactly as `llvm-nm -C` prints it).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

BIG_BYTES = 4096

# demangled name -> (setting or None, how it is sized). A setting's value in the measured
# build is looked up (config_values) and printed beside it.
OWNERS: dict[str, tuple[str | None, str]] = {
    "kernel::console::(anonymous namespace)::g_log_bytes":
        ("KCONFIG_LOG_BYTES", "the kernel log ring (`dmesg`), KCONFIG_LOG_BYTES bytes"),
    "boot::g_map":
        ("KCONFIG_MAX_MEMMAP_RANGES", "mm::MemoryMap: 2 x KCONFIG_MAX_MEMMAP_RANGES ranges of 24 B (overlaps split)"),
    "boot::g_firmware_map":
        ("KCONFIG_MAX_MEMMAP_RANGES", "mm::MemoryMap: 2 x KCONFIG_MAX_MEMMAP_RANGES ranges of 24 B"),
    "mm::MemoryMap::bounds_":
        ("KCONFIG_MAX_MEMMAP_RANGES", "normalize()'s boundaries: 2 x KCONFIG_MAX_MEMMAP_RANGES x 8 B"),
    "boot::g_frames":
        ("KCONFIG_MAX_MEMMAP_RANGES", "mm::FrameAllocator: KCONFIG_MAX_MEMMAP_RANGES + 40 free ranges of 16 B, "
                                      "64 runs, 16 excludes"),
    "acpi::g_info":
        ("KCONFIG_MAX_MADT_CPUS", "the parsed MADT: KCONFIG_MAX_MADT_CPUS CPUs of 12 B, 16 I/O APICs"),
    "smp::g_noslot":
        ("KCONFIG_MAX_MADT_CPUS", "CPUs beyond the slots: KCONFIG_MAX_MADT_CPUS x 12 B"),
    "smp::register_cpus(acpi::Cpu const*, unsigned long, unsigned long, unsigned int, char const*)::slot_of":
        ("KCONFIG_MAX_MADT_CPUS", "the slot plan's CPU-list-entry-to-slot map: KCONFIG_MAX_MADT_CPUS x 4 B"),
    "acpi::g_mp":
        ("KCONFIG_MAX_MADT_CPUS", "the parsed Intel MP table (the CPU list without a MADT): KCONFIG_MAX_MADT_CPUS "
                                  "CPUs of 12 B, its I/O APICs"),
    "smp::g_cpus":
        ("KCONFIG_MAX_CPUS", "the CPU table: KCONFIG_MAX_CPUS entries of 32 B"),
    "debug::(anonymous namespace)::g_panic_stack":
        (None, "the panic and kstop> shells' own stack, 24 KiB (debug/panic.cpp)"),
    "monitor::(anonymous namespace)::loop(char const*)::editor":
        (None, "the kmon> line editor: 32 lines of history x 257 B (monitor::kHistorySize, kMaxLine)"),
    "monitor::stop_shell(debug::StopInfo const&)::editor":
        (None, "the kstop> line editor, the same size"),
    "debug::gdb::(anonymous namespace)::g_session":
        (None, "the gdb stub's session: received packet, last frame sent, reply, memory scratch and monitor "
               "line, each about gdbstub::kMaxPacketSize (4096, gdbstub/protocol.hpp)"),
    "arch::(anonymous namespace)::g_idt":
        (None, "the IDT: 256 vectors x 16 B (fixed by the architecture)"),
    # boot/entry.asm's .bss (NASM labels: sized here by the distance to the next symbol)
    "boot_pml4": (None, "the 32-bit entry's PML4 (one page; boot only, unused once the final tables are live)"),
    "boot_pdpt_low": (None, "the entry's identity PDPT, 0-4 GiB (one page; boot only)"),
    "boot_pdpt_high": (None, "the entry's higher-half PDPT (one page; boot only)"),
    "boot_pd": (None, "the entry's identity PDs: BOOT_IDENTITY_PDS (4) pages, 2 MiB pages over 0-4 GiB (boot only)"),
    "boot_stack_bottom": (None, "the BSP's stack until its slot is live: BOOT_STACK_SIZE (16 KiB, boot/entry.asm)"),
}


class FootprintError(Exception):
    pass


def _tool(*names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    raise FootprintError(f"none of {', '.join(names)} found (apt-get install llvm)")


def config_values(root: str, build_dir: str) -> dict[str, int]:
    """KCONFIG_* as this build has them: src/config.hpp's defaults, overridden by the build's
    CMakeCache.txt (what `cmake -DKCONFIG_...=` or the preset set)."""
    raw: dict[str, str] = {}
    with open(os.path.join(root, "src", "config.hpp")) as f:
        for line in f:
            m = re.match(r"#define (KCONFIG_\w+) (.+?)\s*$", line)
            if m:
                raw[m.group(1)] = m.group(2)
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if os.path.isfile(cache):
        with open(cache) as f:
            for line in f:
                m = re.match(r"(KCONFIG_\w+):\w+=(.+?)\s*$", line)
                if m:
                    raw[m.group(1)] = m.group(2)
    vals: dict[str, int] = {}

    def ev(name, depth=0):
        if name in vals:
            return vals[name]
        expr = raw[name]
        if depth > 8:
            raise FootprintError(f"{name}: circular definition")
        expr = re.sub(r"KCONFIG_\w+", lambda m: str(ev(m.group(0), depth + 1)), expr)
        if not re.fullmatch(r"[\d\s()+*/-]+", expr):
            raise FootprintError(f"{name}: cannot evaluate '{raw[name]}'")
        vals[name] = int(eval(expr, {"__builtins__": {}}))  # digits and + - * / ( ) only
        return vals[name]

    for k in raw:
        ev(k)
    return vals


def footprint(elf: str, root: str, build_dir: str) -> dict:
    """Text, rodata and each .bss object of BIG_BYTES or more (largest first) with the
    setting that sizes it; raises FootprintError naming every big object OWNERS lacks."""
    # llvm-objdump -t: address, flags, section, size, name.
    # NASM's labels come without a useful size (0, or 1 for local ones): such a label's
    # extent is the distance to the next symbol, which is what its `resb` reserved.
    objdump = _tool("llvm-objdump", "llvm-objdump-14")
    out = subprocess.run([objdump, "-t", "-C", elf], capture_output=True, text=True, check=True).stdout
    sections = subprocess.run([_tool("llvm-size", "llvm-size-14"), "-A", elf], capture_output=True, text=True,
                              check=True).stdout
    sec, sec_addr = {}, {}
    for line in sections.splitlines():
        m = re.match(r"^(\.\S+)\s+(\d+)\s+(\d+)\s*$", line)
        if m:
            sec[m.group(1)] = int(m.group(2))
            sec_addr[m.group(1)] = int(m.group(3))
    bss_end = sec_addr.get(".bss", 0) + sec.get(".bss", 0)
    syms = []
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]{16}) (.{7}) (\S+)\s+([0-9a-f]{16}) (.*)$", line)
        if m and m.group(3) == ".bss" and m.group(5) not in ("__bss_start", "__bss_end"):
            syms.append((int(m.group(1), 16), int(m.group(4), 16), m.group(5).strip()))
    syms.sort()
    cfg = config_values(root, build_dir)
    big, unknown, small_bytes, small_count = [], [], 0, 0
    for i, (addr, size, name) in enumerate(syms):
        if size <= 1:
            if any(a == addr and s > 1 for a, s, _ in syms):
                continue  # a label on a sized object: counted there
            size = next((a for a, _, _ in syms[i + 1:] if a > addr), bss_end) - addr
        if size < BIG_BYTES:
            small_bytes += size
            small_count += 1
            continue
        if name not in OWNERS:
            unknown.append(f"{name} ({size} B)")
            continue
        setting, how = OWNERS[name]
        big.append({"name": name, "bytes": size, "setting": setting,
                    "value": cfg.get(setting) if setting else None, "how": how})
    if unknown:
        raise FootprintError(
            "footprint: .bss objects of 4 KiB or more with no entry in test/bench/footprint.py OWNERS (say which "
            "KCONFIG setting or constant sizes each): " + "; ".join(unknown))
    stale = [k for k in OWNERS if k not in {b["name"] for b in big}]
    big.sort(key=lambda b: -b["bytes"])
    return {
        "elf": os.path.relpath(elf, root),
        "text": sec.get(".text", 0) + sec.get(".text.boot", 0) + sec.get(".boot", 0),
        "text_boot": sec.get(".text.boot", 0) + sec.get(".boot", 0),
        "rodata": sec.get(".rodata", 0),
        "data": sec.get(".data", 0),
        "bss": sec.get(".bss", 0),
        "bss_big": big,
        "bss_small": {"count": small_count, "bytes": small_bytes},
        # .bss beyond the objects counted: alignment padding
        "bss_unnamed": sec.get(".bss", 0) - small_bytes - sum(b["bytes"] for b in big),
        "stale_entries": stale,  # in OWNERS, below BIG_BYTES or gone: worth a look, not an error
        "config": cfg,
    }
