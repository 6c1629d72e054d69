"""`kdmesg` (gdb, from guest memory) against the monitor's `dmesg` in the same boot
(issue 13.6). dmesg's own output goes into the log, so after it ran the log holds its
lines twice (what was there, then the same printed again) and then the next prompt."""
from test_gdb import Session  # noqa: F401  (the fixture module sets up sys.path)
import pytest


@pytest.fixture(scope="module")
def lsess():
    s = Session("2")
    try:
        s.boot()
        yield s
    finally:
        s.close()


def test_kdmesg_equals_dmesg(lsess):
    s = lsess
    s.m.cmd("cpus")
    # Machine.cmd stops at the first `kmon> `, which dmesg's output holds: wait for the
    # end instead (its own line, then the real prompt).
    s.m.send("dmesg\r")
    s.m.child.expect_exact("kmon> dmesg\r\nkmon> ", timeout=60)
    raw = s.m.child.before + "kmon> dmesg\r\n"
    ours = raw.split("\r\n")[1:-1]  # without the echo and the empty string after the last line
    assert any(ln.startswith("kmon: x86-64 SMP kernel") for ln in ours)
    assert ours[-1] == "kmon> dmesg"
    s.gdb.interrupt()
    try:
        full = s.gdb.cmd("kdmesg")
        last = s.gdb.cmd("kdmesg 3")
        bad = [s.gdb.cmd(c) for c in ("kdmesg 0", "kdmesg x", "kdmesg 1 2")]
    finally:
        s.gdb.resume()
    assert full == ours + ours + ["kmon> "]
    assert last == ours[-2:] + ["kmon> "]
    for b in bad:
        assert len(b) == 1 and b[0].startswith("error: "), b
