"""`kdmesg` (gdb, from guest memory) against the monitor's `dmesg` in the same boot
(issue 13.6). dmesg prints the log up to its own line; its output goes into the log too,
so afterwards the log holds those lines twice (what was there, then the same printed
again) around dmesg's own line, and then whatever came next."""
import uuid

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
    # dmesg's output holds earlier prompts, where Machine.cmd would stop: an unknown
    # command no log can hold yet follows it, and dmesg's output is what comes before it.
    marker = "nosuch" + uuid.uuid4().hex[:8]
    s.m.send("dmesg\r")
    s.m.child.expect_exact("dmesg\r\n", timeout=60)
    s.m.send(marker + "\r")
    s.m.child.expect_exact(f"kmon> {marker}\r\n", timeout=60)
    ours = s.m.child.before.split("\r\n")[:-1]
    s.m.child.expect_exact("kmon> ", timeout=60)
    assert any(ln.startswith("kmon: x86-64 SMP kernel") for ln in ours)
    assert ours[-1] == "kmon> cpus" or ours[-1].startswith("3 ") or ours[-1].startswith("1 "), ours[-3:]
    s.gdb.interrupt()
    try:
        full = s.gdb.cmd("kdmesg")
        last = s.gdb.cmd("kdmesg 3")
        bad = [s.gdb.cmd(c) for c in ("kdmesg 0", "kdmesg x", "kdmesg 1 2")]
    finally:
        s.gdb.resume()
    after = [f"kmon> {marker}", f"error: unknown command '{marker}' (try help)", "kmon> "]
    assert full == ours + ["kmon> dmesg"] + ours + after
    assert last == after
    for b in bad:
        assert len(b) == 1 and b[0].startswith("error: "), b
