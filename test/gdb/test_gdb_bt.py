"""`bt <n>` against gdb's own backtrace of the same vCPU through QEMU's gdb stub
(issue 13.1): CPU 2 spins with interrupts off in `wedge`, the monitor's `bt 2` reaches it
by NMI and walks its frame chain there; then gdb stops the machine and unwinds that vCPU
with the ELF's DWARF call-frame information. The return addresses must be the same."""
import re

from test_gdb import Session  # noqa: F401  (the fixture module sets up sys.path)
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
            s.gdb.cmd("kcpu 2")
            bt = s.gdb.cmd("bt 40")
        finally:
            s.gdb.resume()
        # gdb unwinds with DWARF CFI, which the assembly interrupt stubs do not have: past
        # isr_common it may print a bogus "??" frame; the frame chain the kernel walks
        # does not depend on CFI. So: every frame gdb names must be ours, in order, and
        # gdb's frames up to its first "??" must be ours exactly.
        named, exact = [], True
        for ln in bt:
            m = re.match(r"^#(\d+)\s+0x([0-9a-f]+) in (\S+)", ln)
            if not m:
                continue  # frame #0 is printed without its pc
            pc, name = int(m.group(2), 16), m.group(3)
            if name == "??":
                exact = False
                continue
            named.append((pc, exact))
        assert named, bt
        prefix = [pc for pc, ex in named if ex]
        # Our #0 is where the NMI interrupted the spin loop; gdb's #0 is where the vCPU is
        # now (the same loop, a few instructions on): compare the callers, #1 onwards.
        assert pcs[1:1 + len(prefix)] == prefix, f"monitor:\n{ours}\ngdb:\n{bt}"
        later = [pc for pc, ex in named if not ex]
        assert all(pc in pcs for pc in later), f"monitor:\n{ours}\ngdb:\n{bt}"
        assert len(prefix) >= 3
    finally:
        s.m.cmd("wedge release")
