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
