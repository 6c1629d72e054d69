"""Architectural state the kernel promises, read from QEMU (not from the kernel)."""
import re

import pexpect

from machine import Config, Machine, BootError


def test_wp_nxe_pge_on_every_cpu():
    with Machine(Config(smp="4", mem="256M"), name="arch-cr") as m:
        m.boot()
        for i in range(4):
            m.hmp(f"cpu {i}")
            regs = m.hmp("info registers")
            cr0 = int(re.search(r"CR0=([0-9a-f]+)", regs).group(1), 16)
            cr4 = int(re.search(r"CR4=([0-9a-f]+)", regs).group(1), 16)
            efer = int(re.search(r"EFER=([0-9a-f]+)", regs).group(1), 16)
            assert cr0 & (1 << 16), f"cpu {i}: CR0.WP off"
            assert cr0 & (1 << 31), f"cpu {i}: paging off"
            assert efer & (1 << 11), f"cpu {i}: EFER.NXE off"
            assert efer & (1 << 10), f"cpu {i}: not in long mode"
            assert cr4 & (1 << 7), f"cpu {i}: CR4.PGE off"
            # Its own TSS and GDT live in its per-CPU slot.
            tr = int(re.search(r"^TR =\w+ ([0-9a-f]{16})", regs, re.M).group(1), 16)
            assert 0xFFFFFF8000000000 + i * (16 << 20) <= tr < 0xFFFFFF8000000000 + (i + 1) * (16 << 20)


def test_cpu_without_long_mode_is_told_so_on_serial():
    """A 32-bit CPU model: the entry stub must say why it stops instead of hanging."""
    with Machine(Config(cpu="qemu32", smp="1", mem="128M"), name="arch-qemu32") as m:
        m.start()
        m.child.expect_exact("error: this CPU has no long mode", timeout=60)


def test_boot_only_code_is_not_executable_after_boot():
    """BOOT_CODE (.text.boot) pages lose execute permission once the monitor runs;
    resident text keeps it (QEMU's `info tlb`: X means NX)."""
    import subprocess
    from machine import ELF, parse_info_tlb
    syms = {}
    for ln in subprocess.run(["llvm-nm", str(ELF)], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = ln.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    lo, hi = syms["__boot_text_start"], syms["__boot_text_end"]
    assert lo < syms["kernel_main"] < hi and not lo <= syms["ap_main"] < hi
    with Machine(Config(smp="2", mem="256M"), name="arch-boot-nx") as m:
        m.boot()
        ptes = {p.va: p for p in parse_info_tlb(m.hmp("info tlb"))}
        boot_pages = range(lo, hi, 4096)
        assert all(ptes[va].nx for va in boot_pages), "boot-only text still executable"
        assert not ptes[syms["ap_main"] & ~0xfff].nx
        assert not ptes[syms["trap_dispatch"] & ~0xfff].nx
        # Resident code still runs: a cross-CPU call and a guarded fault report.
        assert "taken on that cpu: ipi" in m.cmd("regs 1")[0]
