"""`bt <n>` against gdb's own backtrace of the same vCPU through QEMU's gdb stub
(issue 13.1): CPU 2 spins with interrupts off in `wedge`, the monitor's `bt 2` reaches it
by NMI and walks its frame chain there; then gdb stops the machine and unwinds that vCPU
with the ELF's DWARF call-frame information (the NASM stubs' CFI included, arch/cfi.inc).
The return addresses must be the same, frame by frame."""
import re

from test_gdb import Session  # noqa: F401  (the fixture module sets up sys.path)
from test_gdb_unwind import gdb_frames
import pytest


@pytest.fixture(scope="module")
def wsess():
    s = Session("4")
    try:
        s.boot()
        yield s
    finally:
        s.close()


def test_bt_of_a_wedged_cpu_matches_gdb(wsess):
    s = wsess
    assert "interrupts off" in s.m.cmd("wedge 2")[0]
    try:
        ours = s.m.cmd("bt 2")
        assert ours[0].startswith("cpu 2 apic 2 (taken on that cpu: nmi)"), ours
        pcs = [int(x, 16) for x in re.findall(r"^#\d+ 0x([0-9a-f]{16})", "\n".join(ours), re.M)]
        assert len(pcs) >= 3, ours
        s.gdb.interrupt()
        try:
            frames = gdb_frames(s, 2)
            bt = s.gdb.cmd("kbt 2")
        finally:
            s.gdb.resume()
        # Our #0 is where the NMI interrupted the spin loop; gdb's #0 is where the vCPU is
        # now (the same loop, a few instructions on): the callers, #1 onwards, are equal,
        # through isr_common's trap frame to ap_main and ap_long_entry (arch/cfi.inc).
        theirs = [pc for pc, _trap, _name in frames]
        assert pcs[1:] == theirs[1:], f"monitor:\n{ours}\ngdb:\n{frames}"
        assert not any("??" in ln for ln in bt) and "<signal handler called>" in "\n".join(bt), bt
        assert len(pcs) >= 6
    finally:
        s.m.cmd("wedge release")
