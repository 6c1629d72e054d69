"""Boot the kernel and compare its address space with QEMU's own view of it (HMP
`info mem`, `info tlb`, `info mtree`, `info registers`), per boot configuration."""

import random
import re

import pytest

from machine import (
    DEVICE_BASE, DIRECT_MAP_BASE, DIRECT_MAP_END, ELF, KERNEL_BASE, KERNEL_END,
    PERCPU_BASE, PERCPU_END, TOP, covered, elf_load_segments, expected_ram_regions,
    parse_info_mem, parse_info_tlb,
)

PAGE = 4096


def hx(v: int) -> str:
    return f"0x{v:016x}"


def fmt_runs(runs, limit=40):
    lines = [f"  {hx(r.start)}-{hx(r.end)} {'u' if r.user else '-'}r{'w' if r.write else '-'}"
             for r in runs[:limit]]
    if len(runs) > limit:
        lines.append(f"  ... {len(runs) - limit} more")
    return "\n".join(lines)


def per_cpu(vm, command):
    """Runs an HMP command on every vCPU; returns [(cpu, output)]."""
    out = []
    try:
        for cpu in range(vm.config.ncpus):
            vm.hmp(f"cpu {cpu}")
            out.append((cpu, vm.hmp(command)))
    finally:
        vm.hmp("cpu 0")
    return out


def tlb_by_cr3(vm):
    """`info tlb` once per distinct CR3 among the vCPUs: {cr3: (cpus, [Pte])}."""
    seen = {}
    for cpu in range(vm.config.ncpus):
        cr3 = vm.cr3(cpu) & ~0xFFF
        if cr3 in seen:
            seen[cr3][0].append(cpu)
            continue
        vm.hmp(f"cpu {cpu}")
        try:
            text = vm.hmp("info tlb", timeout=300)
        finally:
            vm.hmp("cpu 0")
        if text.strip() == "PG disabled":
            continue
        seen[cr3] = ([cpu], parse_info_tlb(text))
    return seen


# --------------------------------------------------------------------------------------


def test_boots_to_prompt(vm):
    assert vm.boot_text, "no boot output before the prompt"
    # The prompt is printed at the start of a line.
    assert vm.boot_text.endswith("\n"), f"prompt not at line start: {vm.boot_text[-80:]!r}"
    assert "kpanic" not in vm.boot_text
    # The boot report, line by line in its order, with what QEMU was told.
    want = [r"^kmon: x86-64 SMP kernel", r"^boot: (BIOS|UEFI), loader", r"^memory: \d+ MiB usable",
            r"^image: text", r"^tsc: [\d.]+ MHz .*; lapic: (x2apic|xapic) ", r"^smp: (\d+) of (\d+) enabled CPUs online",
            r"^boot: \d+ us from multiboot handoff to prompt"]
    pos = 0
    for pat in want:
        mm = re.compile(pat, re.M).search(vm.boot_text, pos)
        assert mm, f"boot report lacks {pat!r} (after offset {pos}):\n{vm.boot_text[-1500:]}"
        pos = mm.end()
    assert re.search(r"^boot: %s," % ("UEFI" if vm.config.uefi else "BIOS"), vm.boot_text, re.M)
    n = vm.config.ncpus
    assert re.search(r"^smp: %d of %d enabled CPUs online \(0 failed\)" % (n, n), vm.boot_text, re.M)
    # qemu64 offers no x2APIC; max does (QEMU 10), and the kernel then uses it.
    mode = re.search(r"lapic: (x2apic|xapic) ", vm.boot_text).group(1)
    if vm.config.cpu in ("qemu64", "max"):
        assert mode == ("xapic" if vm.config.cpu == "qemu64" else "x2apic"), mode


def test_every_vcpu_in_long_mode_with_paging(vm):
    """Each vCPU QEMU has must have been brought up: CR0.PG and EFER.LMA set."""
    bad = []
    for cpu, regs in per_cpu(vm, "info registers"):
        cr0 = re.search(r"CR0=([0-9a-f]+)", regs)
        efer = re.search(r"EFER=([0-9a-f]+)", regs)
        assert cr0 and efer, f"cpu {cpu}: cannot parse info registers:\n{regs[:600]}"
        if not (int(cr0.group(1), 16) >> 31) & 1 or not (int(efer.group(1), 16) >> 10) & 1:
            bad.append(f"cpu {cpu}: CR0={cr0.group(1)} EFER={efer.group(1)}")
    assert not bad, "vCPUs not in 64-bit paging mode:\n" + "\n".join(bad)


def test_nothing_mapped_below_direct_map(vm):
    for cpu, text in per_cpu(vm, "info mem"):
        assert text.strip() != "PG disabled", f"cpu {cpu}: paging off"
        runs = parse_info_mem(text)
        assert runs, f"cpu {cpu}: info mem shows no mappings at all"
        low = [r for r in runs if r.start < DIRECT_MAP_BASE]
        assert not low, f"cpu {cpu}: mappings below {hx(DIRECT_MAP_BASE)}:\n{fmt_runs(low)}"
        user = [r for r in runs if r.user]
        assert not user, f"cpu {cpu}: user-accessible mappings:\n{fmt_runs(user)}"


def test_ram_layout_matches_qemu(vm):
    """Harness self-check: RAM regions from `info mtree` agree with the documented rule."""
    got = vm.ram_regions()
    assert got, "no RAM regions found in info mtree"
    assert got == expected_ram_regions(vm.config), \
        f"info mtree RAM {[(hex(s), hex(e)) for s, e in got]}"


def test_direct_map_covers_all_ram(vm):
    ram = vm.ram_regions()
    runs = parse_info_mem(vm.hmp("info mem"))
    dm = [(r.start - DIRECT_MAP_BASE, r.end - DIRECT_MAP_BASE) for r in runs
          if DIRECT_MAP_BASE <= r.start < DIRECT_MAP_END]
    holes = []
    for s, e in ram:
        holes += covered(dm, s, e)
    assert not holes, (
        "RAM not reachable through the direct map (physical ranges):\n"
        + "\n".join(f"  {hx(s)}-{hx(e)}" for s, e in holes[:20])
        + f"\nRAM per info mtree: {[(hex(s), hex(e)) for s, e in ram]}")
    # And nothing of the direct map may spill out of its region.
    spill = [r for r in runs if r.start < DIRECT_MAP_END < r.end and r.start >= DIRECT_MAP_BASE]
    assert not spill, f"direct map run crosses {hx(DIRECT_MAP_END)}:\n{fmt_runs(spill)}"


def test_direct_map_is_offset_by_base(vm):
    """Every leaf in the direct map region maps va to pa = va - 0xffff800000000000."""
    ptes = parse_info_tlb(vm.hmp("info tlb", timeout=300))
    dm = [p for p in ptes if DIRECT_MAP_BASE <= p.va < DIRECT_MAP_END]
    assert dm, "no leaves in the direct map region"
    wrong = [p for p in dm if p.pa != p.va - DIRECT_MAP_BASE]
    assert not wrong, "direct map leaves at the wrong physical address:\n" + "\n".join(
        f"  {hx(p.va)} -> {hx(p.pa)} (expected {hx(p.va - DIRECT_MAP_BASE)})" for p in wrong[:20])


def test_kernel_image_split_read_only_and_writable(vm):
    runs = [r for r in parse_info_mem(vm.hmp("info mem"))
            if r.start < KERNEL_END and r.end > KERNEL_BASE]
    assert runs, f"nothing mapped in the kernel image region {hx(KERNEL_BASE)}-{hx(KERNEL_END)}"
    assert any(not r.write for r in runs), f"no read-only run in the kernel image:\n{fmt_runs(runs)}"
    assert any(r.write for r in runs), f"no writable run in the kernel image:\n{fmt_runs(runs)}"
    inside = [r for r in runs if r.start < KERNEL_BASE or r.end > KERNEL_END]
    assert not inside, f"kernel image runs leave their region:\n{fmt_runs(inside)}"


def test_kernel_image_permissions_match_elf(vm):
    """Each page wholly inside a PT_LOAD segment of build/kernel.elf is mapped with the
    segment's permissions: W only if the segment is writable, executable only if it is
    executable, except the boot-only text (__boot_text_start..__boot_text_end), which the
    kernel makes non-executable once it is at the prompt. (Needs the ELF of the same
    build as the ISO.)"""
    import subprocess
    nm = subprocess.run(["llvm-nm", str(ELF)], capture_output=True, text=True, check=True).stdout
    syms = {p[2]: int(p[0], 16) for p in (ln.split() for ln in nm.splitlines()) if len(p) == 3}
    boot_lo, boot_hi = syms["__boot_text_start"], syms["__boot_text_end"]
    segs = [s for s in elf_load_segments(ELF) if KERNEL_BASE <= s.vaddr < KERNEL_END]
    assert segs, f"{ELF}: no PT_LOAD segments in the kernel image region"
    ptes = parse_info_tlb(vm.hmp("info tlb", timeout=300))
    kptes = sorted((p for p in ptes if KERNEL_BASE <= p.va < KERNEL_END), key=lambda p: p.va)
    assert kptes, "no leaves in the kernel image region"

    def leaf_for(va):
        best = None
        for p in kptes:
            if p.va <= va:
                best = p
            else:
                break
        if best is None:
            return None
        size = (1 << 21) if best.ps else PAGE
        return best if va < best.va + size else None

    problems = []
    for s in segs:
        lo = (s.vaddr + PAGE - 1) & ~(PAGE - 1)
        hi = (s.vaddr + s.memsz) & ~(PAGE - 1)
        perm = f"{'r' if s.read else '-'}{'w' if s.write else '-'}{'x' if s.execute else '-'}"
        for va in range(lo, hi, PAGE):
            p = leaf_for(va)
            if p is None:
                problems.append(f"{hx(va)} ({perm} segment at {hx(s.vaddr)}): not mapped")
            elif p.write != s.write or p.executable != (s.execute and not boot_lo <= va < boot_hi):
                problems.append(
                    f"{hx(va)} ({perm} segment at {hx(s.vaddr)}): mapped "
                    f"{'w' if p.write else '-'}{'x' if p.executable else '-'}")
            if len(problems) > 20:
                break
    assert not problems, "kernel pages disagree with kernel.elf:\n" + "\n".join(problems)


def test_no_page_writable_and_executable(vm):
    """W^X by the leaf entries QEMU reports (`info tlb`: W set and X, i.e. NX, clear),
    for every distinct CR3 among the vCPUs."""
    tables = tlb_by_cr3(vm)
    assert tables, "no vCPU with paging on"
    for cr3, (cpus, ptes) in tables.items():
        wx = [p for p in ptes if p.write and not p.nx]
        assert not wx, (f"CR3 {hx(cr3)} (cpus {cpus}): writable and executable pages:\n"
                        + "\n".join(f"  {hx(p.va)} -> {hx(p.pa)}" for p in wx[:30])
                        + (f"\n  ... {len(wx) - 30} more" if len(wx) > 30 else ""))


def test_device_window_not_executable(vm):
    ptes = parse_info_tlb(vm.hmp("info tlb", timeout=300))
    dev = [p for p in ptes if p.va >= DEVICE_BASE]
    bad = [p for p in dev if not p.nx]
    assert not bad, "executable device mappings:\n" + "\n".join(
        f"  {hx(p.va)} -> {hx(p.pa)}" for p in bad[:20])


def test_per_cpu_region_not_executable(vm):
    ptes = parse_info_tlb(vm.hmp("info tlb", timeout=300))
    bad = [p for p in ptes if PERCPU_BASE <= p.va < PERCPU_END and not p.nx]
    assert not bad, "executable per-CPU mappings:\n" + "\n".join(
        f"  {hx(p.va)} -> {hx(p.pa)}" for p in bad[:20])


def test_maps_matches_info_mem(vm):
    """The monitor's `maps` merges runs exactly like `info mem`: compare them."""
    out = vm.cmd("maps")
    assert not any(l.startswith("error: ") for l in out), f"maps failed: {out[:5]}"
    mine = []
    for line in out:
        if not re.match(r"[0-9a-f]{16}-", line):
            continue  # a header or trailing note
        m = re.match(r"([0-9a-f]{16})-([0-9a-f]{16}) ([0-9a-f]{16}) ([u-])r([w-])(?:\s|$)", line)
        assert m, f"bad maps line: {line!r}"
        s, e = int(m.group(1), 16), int(m.group(2), 16)
        if e == 0:
            e = TOP
        mine.append((s, e, m.group(4) == "u", m.group(5) == "w"))
    qemu = [(r.start, r.end, r.user, r.write) for r in parse_info_mem(vm.hmp("info mem"))]

    def show(rs):
        return "\n".join(f"  {hx(s)}-{hx(e)} {'u' if u else '-'}r{'w' if w else '-'}"
                         for s, e, u, w in rs[:40])
    assert mine == qemu, f"kernel `maps`:\n{show(mine)}\nQEMU `info mem`:\n{show(qemu)}"


def test_unknown_command_gives_error_line(vm):
    out = vm.cmd("no-such-command-xyzzy")
    assert out, "no output for an unknown command"
    assert out[0].startswith("error: "), f"unknown command answered {out!r}"
    assert len(out) == 1, f"an error must be one line: {out!r}"


@pytest.mark.configs("default")
def test_lines_end_in_crlf(vm):
    """Every line the kernel sends ends in exactly \r\n: the echo of the command line,
    the output and the error line (the pty passes the kernel's bytes unchanged)."""
    for line in ("no-such-command-xyzzy", "help"):
        vm.cmd(line)
        for what, raw in (("echo", vm.last_echo), ("output", vm.last_raw)):
            assert raw.endswith("\r\n"), f"{line!r}: {what} does not end in \\r\\n: {raw[-80:]!r}"
            bad = re.search(r"\r\r+\n|(?<!\r)\n", raw)
            assert not bad, (f"{line!r}: {what} has a line ending other than \\r\\n "
                             f"({bad.group(0)!r}) near {raw[max(0, bad.start() - 60):bad.end()]!r}")


def test_empty_line_gives_prompt(vm):
    out = vm.cmd("")  # returns once the prompt is back
    assert out == [], f"an empty line gave {out!r}"
    # and the prompt really is a fresh one: the next command runs normally.
    assert any(ln.startswith("cpus") for ln in vm.cmd("help"))


@pytest.mark.configs("default")
def test_long_and_malformed_lines_do_not_hang(vm):
    rng = random.Random(1234)
    long_line = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 -_x") for _ in range(3000))
    out = vm.cmd(long_line, timeout=120)
    assert len(out) >= 1 and out[-1].startswith("error: "), out[-3:]
    assert sum(1 for ln in out if ln.startswith("error: ")) == 1, out
    junk = "".join(chr(rng.choice(list(range(0x20, 0x7f)) + [0x08, 0x09, 0x7f, 0x1b, 0x5b]))
                   for _ in range(500))
    vm.cmd(junk, timeout=120)  # may be anything, even a valid command: only the prompt counts
    out = vm.cmd("walk", timeout=60)
    assert out == ["error: usage: walk <va>"] or (len(out) == 1 and out[0].startswith("error: ")), out
    out = vm.cmd("x zz 99999999999999999999999", timeout=60)
    assert len(out) == 1 and out[0].startswith("error: "), out
    out = vm.cmd("no-such-command-after-junk")
    assert out == ["error: unknown command 'no-such-command-after-junk' (try help)"] or \
        (len(out) == 1 and out[0].startswith("error: ") and "no-such-command-after-junk" in out[0]), out
    # The machine is intact: the same answer as before the junk.
    assert any(ln.startswith("cpus") for ln in vm.cmd("help"))


# The bits of CR0, CR4 and EFER whose names the failure message spells out (SDM Vol. 3A
# 2.5, 2.2.1): a difference shows as e.g. "CR0.CD", not as two hex numbers.
CR_BITS = {
    "CR0": {0: "PE", 1: "MP", 2: "EM", 3: "TS", 4: "ET", 5: "NE", 16: "WP", 18: "AM", 29: "NW", 30: "CD", 31: "PG"},
    "CR4": {0: "VME", 1: "PVI", 2: "TSD", 3: "DE", 4: "PSE", 5: "PAE", 6: "MCE", 7: "PGE", 8: "PCE", 9: "OSFXSR",
            10: "OSXMMEXCPT", 11: "UMIP", 12: "LA57", 16: "FSGSBASE", 17: "PCIDE", 18: "OSXSAVE", 20: "SMEP",
            21: "SMAP", 22: "PKE"},
    "EFER": {0: "SCE", 8: "LME", 10: "LMA", 11: "NXE"},
}


def bit_names(reg, mask):
    return ",".join(f"{reg}.{CR_BITS[reg].get(b, b)}" for b in range(64) if mask >> b & 1)


def test_control_registers_are_what_the_kernel_means(vm):
    """Every vCPU's CR0, CR4 and EFER (HMP `info registers -a`, QEMU's view) equal the values
    the kernel means (arch::cr0::kKernel, cr4::kKernel, efer::kKernel, read from the ELF),
    and so each other, bit by bit: no CPU runs uncached (CR0.CD/NW, which INIT sets) or with
    a bit firmware left behind. TCG models no caches, so only this comparison shows it."""
    from machine import hmp_cpu_registers, kernel_consts
    want = kernel_consts()
    means = {"CR0": want["cr0_kernel"], "CR4": want["cr4_kernel"], "EFER": want["efer_kernel"]}
    assert means["CR0"] & (1 << 30) == 0 and means["CR0"] & (1 << 29) == 0, "the kernel's CR0 has caches off"
    regs = hmp_cpu_registers(vm.hmp("info registers -a"))
    assert sorted(regs) == list(range(vm.config.ncpus)), f"HMP showed cpus {sorted(regs)}"
    wrong = []
    for cpu, r in sorted(regs.items()):
        for name, value in means.items():
            diff = r[name] ^ value
            if diff:
                wrong.append(f"cpu {cpu} {name}=0x{r[name]:x}, meant 0x{value:x}: {bit_names(name, diff)}")
    assert not wrong, "\n".join(wrong)


def test_mtrrs_and_pat_identical_on_every_cpu(vm):
    """SDM Vol. 3A 11.11.8: the boot report says the MTRRs and PAT are the same on every
    CPU (each AP compared its own with the BSP's, and loaded the BSP's where they were not)."""
    line = next((ln for ln in vm.boot_text.splitlines() if ln.startswith("cache: MTRRs and PAT identical")), None)
    assert line is not None, [ln for ln in vm.boot_text.splitlines() if ln.startswith("cache:")]
    assert f"on all {vm.config.ncpus} CPUs" in line
