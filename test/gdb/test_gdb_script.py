"""scripts/debug as a user runs it from a terminal (no tmux): QEMU in the background with
the console in build/debug/console.log, gdb in the foreground. Ctrl-C in gdb must stop
the guest and leave QEMU running (it used to kill QEMU: "terminating on signal 2"), and
the k-commands must say when there is no live target rather than print empty tables."""
import os
import re
import time

import pexpect

from test_gdb import GDB, ROOT, SCALE, free_port

PROMPT = "(gdb) "


def test_ctrl_c_stops_the_guest_and_qemu_keeps_running():
    port = free_port()
    env = dict(os.environ, QEMU_GDB_PORT=str(port), TERM="dumb", KMON_DEBUG_CONSOLE="background")
    env.pop("TMUX", None)
    child = pexpect.spawn(str(ROOT / "scripts" / "debug"), ["--no-build", "--smp", "2", "--mem", "256M",
                                                           "--ex", "set pagination off"],
                          cwd=str(ROOT), env=env, encoding="utf-8", codec_errors="replace", timeout=60 * SCALE,
                          dimensions=(200, 300))
    log = ROOT / "build" / "debug" / "console.log"
    try:
        child.expect_exact(PROMPT)
        child.sendline("continue")
        child.expect_exact("Continuing.")
        deadline = time.monotonic() + 120 * SCALE
        while "kmon> " not in (log.read_text(errors="replace") if log.exists() else ""):
            assert time.monotonic() < deadline, "no kmon> in " + str(log)
            time.sleep(0.5)
        child.sendintr()  # what Ctrl-C at the terminal does: SIGINT to the foreground group
        child.expect(r"received signal SIGINT|stopped")
        child.expect_exact(PROMPT)
        text = log.read_text(errors="replace")
        assert "terminating on signal" not in text, text[-500:]
        child.sendline("kcpus")
        child.expect_exact(PROMPT)
        rows = [ln for ln in child.before.splitlines() if re.match(r"\d+\s+\d+\s+online", ln)]
        assert len(rows) == 2, child.before  # QEMU still there, the guest stopped: both CPUs read
        child.sendline("continue")
        child.expect_exact("Continuing.")
        child.sendintr()
        child.expect_exact(PROMPT)
    finally:
        child.sendline("quit")
        child.expect(pexpect.EOF, timeout=30)
        child.close()


def test_k_commands_without_a_target_say_so():
    env = dict(os.environ, KMON_GDB_NO_CONNECT="1", TERM="dumb")
    child = pexpect.spawn(GDB, ["-q", "-nx", "-x", "gdb/kernel.gdb"], cwd=str(ROOT), env=env, encoding="utf-8",
                          codec_errors="replace", timeout=60)
    try:
        child.expect_exact(PROMPT)
        for cmd in ("kcpus", "kpercpu 1", "kpml4", "kbt 0"):
            child.sendline(cmd)
            child.expect_exact(PROMPT)
            out = child.before
            assert "error: not connected" in out, (cmd, out)
            assert "no cpu" not in out and "index apic" not in out, (cmd, out)
    finally:
        child.sendline("quit")
        child.expect(pexpect.EOF, timeout=10)
        child.close()


def test_scripts_debug_stub_attaches_through_the_kernels_own_stub():
    """scripts/debug --stub: the guest boots normally with COM2 on a socket and gdb (with
    gdb/kernel.gdb) attaches to the kernel's stub there; the threads are the kernel's own
    (qThreadExtraInfo names the CPU), and the k-commands work over it."""
    env = dict(os.environ, KMON_STUB_PORT=str(free_port()), QEMU_GDB_PORT=str(free_port()), TERM="dumb",
               KMON_DEBUG_CONSOLE="background")
    env.pop("TMUX", None)
    child = pexpect.spawn(str(ROOT / "scripts" / "debug"), ["--stub", "--no-build", "--smp", "2", "--mem", "256M",
                                                           "--ex", "set pagination off"],
                          cwd=str(ROOT), env=env, encoding="utf-8", codec_errors="replace", timeout=120 * SCALE,
                          dimensions=(200, 300))
    try:
        child.expect_exact(PROMPT)
        child.sendline("info threads")
        child.expect_exact(PROMPT)
        assert re.search(r"Thread 2 \(cpu 1 apic 1 stopped\)", child.before), child.before
        child.sendline("kcpus")
        child.expect_exact(PROMPT)
        rows = [ln for ln in child.before.splitlines() if re.match(r"\d+\s+\d+\s+(kstop|stopped)", ln)]
        assert len(rows) == 2, child.before
    finally:
        child.sendline("detach")
        child.sendline("quit")
        child.expect(pexpect.EOF, timeout=30)
        child.close()
