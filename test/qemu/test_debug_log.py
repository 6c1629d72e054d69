"""The kernel log (issue 13.6): `dmesg` against the serial port of the same boot.

The oracle is what pexpect read from the serial port (ONLCR off, so exactly the bytes
the kernel sent): the log must hold the same text from the banner on, with "\\r\\n" line
ends turned into "\\n". The ring's wrap-around is checked by the host test
(test/host/log_ring_test.cpp); a wrap here would need a build with a small
KCONFIG_LOG_BYTES.
"""

import pytest

from machine import PANIC_PROMPT, Config, Machine

BANNER = "kmon: x86-64 SMP kernel"


@pytest.fixture(scope="module")
def m():
    with Machine(Config(machine="q35", cpu="max", mem="512M", smp="4"), name="debug-log") as mach:
        mach.boot()
        yield mach


def norm(text: str) -> str:
    return text.replace("\r\n", "\n")


def dmesg(m: Machine, args: str = "") -> str:
    """Runs dmesg; its raw output (Machine.cmd_raw: the log holds earlier prompts)."""
    return m.cmd_raw(f"dmesg {args}".strip())


def test_dmesg_equals_boot_serial(m):
    boot = norm(m.boot_text)
    assert BANNER in boot
    want = boot[boot.index(BANNER):]
    assert want.endswith("type 'help'\n"), want[-200:]
    raw = dmesg(m)
    got = norm(raw)
    assert BANNER in got
    got = got[got.index(BANNER):]
    # Up to the boot report's last line: dmesg leaves out its own line (the prompt and echo).
    assert got == want
    # Every line of dmesg's output went out with \r\n, like every other line.
    assert "\n" not in raw.replace("\r\n", "")


def test_dmesg_last_lines_equal_serial(m):
    for c in ("cpus", "percpu 1", "help dmesg", "cpus"):
        m.cmd(c)
    before = m.last_raw  # the output of the last `cpus`, as sent
    raw = dmesg(m, "5")
    want = before.split("\r\n")[:-1][-5:]  # the 5 lines before `dmesg 5`'s own
    assert len(want) == 5
    assert raw == "".join(ln + "\r\n" for ln in want)
    # The line before `dmesg 1`: the error line of dmesg()'s marker command above.
    one = dmesg(m, "1")
    assert one.startswith("error: unknown command 'nosuch") and one.count("\r\n") == 1, one
    # More lines asked than the log holds: all of them, up to this command.
    full = dmesg(m, "100000").split("\r\n")
    # ... dmesg 1, its output, the helper's unknown command and its error.
    assert full[-1] == "" and full[-5] == "kmon> dmesg 1" and full[-4] + "\r\n" == one
    assert full[-3].startswith("kmon> nosuch") and full[-2].startswith("error: unknown command")
    assert any(ln.startswith(BANNER) for ln in full)


def test_dmesg_after_wrap_is_the_serial_tail(m):
    """More than KCONFIG_LOG_BYTES (64 KiB by default) printed: dmesg is the newest part
    of what went out, in whole lines, as much as fits."""
    transcript = ""
    for _ in range(6):  # `idt all`: 256 lines, about 14 KB
        m.cmd("idt all")
        transcript += "kmon> idt all\n" + norm(m.last_raw)
    got = norm(dmesg(m))
    assert transcript.endswith(got)  # the newest output, from a line start
    longest = max(len(ln) + 1 for ln in transcript.split("\n"))
    size = len(got) + len("kmon> dmesg\n")
    assert 64 * 1024 - 2 * longest <= size <= 64 * 1024, size


@pytest.mark.parametrize("args", ["0", "x", "-1", "1 2", "0x"])
def test_dmesg_bad_arguments(m, args):
    lines = m.cmd(f"dmesg {args}")
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_help_lists_dmesg(m):
    assert any(ln.split()[0] == "dmesg" for ln in m.cmd("help") if ln.strip())
    assert any("dmesg 20" in ln for ln in m.cmd("help dmesg"))


def test_dmesg_in_panic_shell(m):
    """Last in this file: the machine ends in the panic shell. The report is in the log."""
    m.send("crash ud 1\r")
    m.child.expect_exact(PANIC_PROMPT, timeout=60)
    m.panicked = True
    m.child.send("dmesg 60\r")
    m.child.expect_exact("dmesg 60\r\n", timeout=60)  # the echo (the prompt was read above)
    # The 60 lines before this command hold no kpanic> prompt: the next one ends them.
    m.child.expect_exact("kpanic> ", timeout=60)
    text = norm(m.child.before)
    assert "error:" not in text, text
    assert "kmon> crash ud 1\n" in text
    assert "PANIC: #UD invalid opcode\n" in text
    assert "exception on cpu 1 " in text
