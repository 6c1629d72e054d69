"""`bt` against gdb's own unwinding over QEMU's stub, frame by frame, at every kind of stop
point (issue 17): a function's first instruction, mid-prologue, mid-body, the epilogue,
inside an interrupt handler, a CPU held in its NMI handler at `kstop>`, and the panic
shell. gdb unwinds the same stopped vCPU with the ELF's DWARF call-frame information (the
compiler's for the C++, arch/cfi.inc's for the NASM); the kernel uses the table the build
derives from it. Where the kernel's `bt` starts at the saved frame of a stopped CPU, gdb's
unwinding of that vCPU starts in the shell or NMI handler it sits in now and reaches the
same frame through a trap frame ("<signal handler called>"): from there the two lists of
pcs must be equal. `kbt` (gdb/kernel.py) is gdb's own backtrace and must agree too."""
import re
import subprocess

import pytest

from test_gdb import Session, elf_symbol  # noqa: F401  (the module sets up sys.path)
from machine import STOP_PROMPT, PANIC_PROMPT

# Inlined calls are frames of their own to gdb (INLINE_FRAME, the same pc as the function
# they are inlined into); the kernel's table, like any unwinder of machine frames, has only
# the real frames: gdb's inline frames are left out.
PY_FRAMES = """python
f = gdb.newest_frame()
while f is not None:
    if f.type() != gdb.INLINE_FRAME:
        print("KFRAME 0x%x %d %s" % (f.pc(), int(f.type() == gdb.SIGTRAMP_FRAME), f.name()))
    f = f.older()
end"""


@pytest.fixture(scope="module")
def us():
    s = Session("4")
    try:
        s.boot()
        yield s
    finally:
        s.close()


def ours(s, cpu):
    lines, _ = s.m.cmd_any(f"bt {cpu}")
    pcs = [int(x, 16) for x in re.findall(r"^#\d+ 0x([0-9a-f]{16}) ", "\n".join(lines), re.M)]
    assert pcs and lines[-1].startswith("("), lines
    return pcs, lines


def gdb_frames(s, cpu):
    """[(pc, is_trap_frame, name)] of the vCPU running kernel CPU `cpu` (guest stopped)."""
    s.gdb.cmd(f"kcpu {cpu}")
    out = s.gdb.cmd(PY_FRAMES)
    return [(int(m.group(1), 16), m.group(2) == "1", m.group(3))
            for m in (re.match(r"KFRAME 0x([0-9a-f]+) (\d) (.*)$", ln) for ln in out) if m]


def after_first_trap(frames):
    """gdb's frames past the first trap frame: where the stopped CPU was."""
    for k, (_pc, trap, _n) in enumerate(frames):
        if trap:
            return [pc for pc, _t, _n in frames[k + 1:]]
    raise AssertionError(f"no trap frame in gdb's unwinding: {frames}")


def compare(s, cpus, stop_what):
    """Our `bt n` of each stopped CPU against gdb's unwinding of its vCPU (guest stopped
    by gdb meanwhile); returns our pcs per CPU."""
    mine = {c: ours(s, c) for c in cpus}
    s.gdb.interrupt()
    try:
        for c in cpus:
            frames = gdb_frames(s, c)
            theirs = after_first_trap(frames)
            pcs, lines = mine[c]
            assert pcs == theirs, (f"{stop_what}, cpu {c}:\nkernel:\n" + "\n".join(lines) + "\ngdb:\n" +
                                   "\n".join(f"0x{pc:x} {'(trap) ' if t else ''}{n}" for pc, t, n in frames))
            kbt = s.gdb.cmd(f"kbt {c}")
            assert not any("??" in ln for ln in kbt), kbt
            real = [ln for ln in kbt if re.match(r"#\d+ ", ln)]
            assert len(real) >= len(frames) and "<signal handler called>" in "\n".join(kbt), kbt
    finally:
        s.gdb.resume()
    return {c: mine[c][0] for c in cpus}


def objdump(elf, sym):
    """[(address, mnemonic text)] of a function, from llvm-objdump (not the kernel)."""
    start = elf_symbol(elf, sym)
    out = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", f"--start-address=0x{start:x}",
                          f"--stop-address=0x{start + 0x200:x}", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    insns = []
    for ln in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(.*)$", ln)
        if m:
            insns.append((int(m.group(1), 16), m.group(2).strip()))
            if m.group(2).strip().startswith("ret"):
                break
    return insns


def stop_at(s, where, target=3):
    """A breakpoint at `where`, hit by CPU `target` running a cross-CPU call (ipi)."""
    assert "break" in s.m.cmd_any(f"break {where}")[0][0]
    lines, prompt = s.m.cmd_any(f"ipi {target} 1", timeout=120)
    assert prompt == STOP_PROMPT, lines
    assert any(f"cpu {target} hit breakpoint" in ln for ln in lines), lines


def go_on(s):
    s.m.cmd_any("delete all")
    _, prompt = s.m.cmd_any("continue", timeout=120)
    assert prompt == "kmon> "


def test_bt_equals_gdb_at_every_kind_of_stop_point(us):
    s = us
    insns = objdump(s.elf, "smp::xcall_handle(smp::PerCpu*, arch::TrapFrame const*, bool)")
    entry = insns[0][0]
    assert insns[0][1].startswith("pushq\t%rbp") and insns[1][1].startswith("movq\t%rsp, %rbp"), insns[:2]
    k = next(k for k, (a, t) in enumerate(insns) if t.startswith("callq"))  # the call to the request's function
    body, after_body = insns[k][0], insns[k + 1][0]
    # The epilogue: ipi's own request function, `ping` (xcall_handle's epilogue also runs on
    # the CPUs that `break` itself reaches by cross-call, which would stop there first).
    ping = objdump(s.elf, "(anonymous namespace)::ping(void*, arch::TrapFrame const*)")
    pop_rbp = [a for a, t in ping if t.startswith("popq\t%rbp")][-1]
    ret = [a for a, t in ping if t.startswith("ret")][-1]
    assert entry < body and pop_rbp < ret

    # CPU 2 spins with interrupts off in a cross-call handler: at every stop below it is held
    # in its NMI handler, interrupted inside an interrupt handler.
    assert "interrupts off" in s.m.cmd("wedge 2")[0]
    results = {}
    for what, addr in (("function entry", entry), ("mid-prologue", entry + 1), ("mid-body", body),
                       ("epilogue (pop rbp)", pop_rbp)):
        stop_at(s, f"0x{addr:x}")
        results[what] = compare(s, (3, 2, 0), what)
        assert results[what][3][0] == addr
        go_on(s)
    # The callers are the same wherever in xcall_handle CPU 3 stopped: on_cross_call,
    # trap_dispatch, isr_common, the interrupted ap_main, ap_long_entry.
    callers = results["mid-body"][3][1:]
    assert all(r[3][1:] == callers for w, r in results.items() if "epilogue" not in w), results
    assert len(callers) == 5
    # In ping, called from xcall_handle at `body`: the same chain one frame deeper.
    assert results["epilogue (pop rbp)"][3][1:] == [after_body] + callers
    # CPU 2, held in the NMI handler, unwinds through two trap frames to ap_main.
    assert len(results["mid-body"][2]) == 7

    # At `ret`, gdb reads rbp from a slot the #DB frame has overwritten (below rsp): the
    # kernel knows a popped slot is gone, so its chain stays right; it is checked against
    # the chain at the other stop points rather than against gdb.
    stop_at(s, f"0x{ret:x}")
    pcs, lines = ours(s, 3)
    assert pcs[0] == ret and pcs[1:] == [after_body] + callers, lines
    go_on(s)
    s.m.cmd("wedge release")


def test_bt_equals_gdb_in_the_panic_shell(us):
    s = us
    lines, prompt = s.m.cmd_any("crash pf 1", timeout=120)
    assert prompt == PANIC_PROMPT, lines
    s.m.panicked = False  # the machine is meant to be at kpanic> from here on
    compare(s, (1, 0, 2, 3), "panic shell")
    regs = s.m.cmd_any("regs 1")[0]
    assert "saved by this cpu when it took the exception" in regs[0], regs
