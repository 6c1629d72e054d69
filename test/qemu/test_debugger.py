"""Breakpoints, watchpoints, single-step and backtraces (issue 13 points 1 and 8), checked
against QEMU's own registers (DR0-DR7 and RIP of every vCPU from HMP `info registers`),
the kernel ELF (symbol addresses and instruction lengths from llvm-nm / llvm-objdump,
structure offsets from its DWARF through gdb), never against the kernel's own word alone.
"""
import re
import subprocess

from machine import ELF, PANIC_PROMPT, PROMPT, Config, Machine, elf_symbols
from test_smp import iso_with_cmdline

STOP_PROMPT = "kstop> "


def symbols():
    syms = {}
    for e in elf_symbols():
        if e.sized:
            syms.setdefault(e.name, (e.addr, e.size))
    return syms


def sym(name_prefix):
    return next(v for k, v in symbols().items() if k == name_prefix or k.startswith(name_prefix + "("))


def symbol_at(addr):
    for k, (a, s) in symbols().items():
        if a <= addr < a + s:
            return k
    return None


def next_insn(addr):
    """Address of the instruction after the one at addr, from llvm-objdump of the ELF."""
    dis = subprocess.run(["llvm-objdump", "-d", f"--start-address={addr:#x}", f"--stop-address={addr + 32:#x}",
                          str(ELF)], capture_output=True, text=True, check=True).stdout
    addrs = [int(m.group(1), 16) for m in re.finditer(r"^([0-9a-f]+):", dis, re.M)]
    assert addrs[0] == addr, dis
    return addrs[1]


def offsetof(expr):
    out = subprocess.run(["gdb", "-batch", "-nx", "-ex", f"print/d (unsigned long)&(('smp::PerCpu'*)0)->{expr}",
                          str(ELF)], capture_output=True, text=True).stdout
    return int(re.search(r"= (\d+)", out).group(1))


def vcpu_regs(m, i):
    m.hmp(f"cpu {i}")
    r = m.hmp("info registers")
    m.hmp("cpu 0")
    return r


def reg(text, name):
    return int(re.search(rf"\b{name}=([0-9a-f]+)", text).group(1), 16)


def stopped_at(m, expect):
    m.child.expect_exact(STOP_PROMPT, timeout=60)
    text = m.child.before
    mm = re.search(expect, text)
    assert mm, text[-1500:]
    return mm, text


def kstop(m, line):
    m.send(line + "\r")
    m.child.expect_exact(STOP_PROMPT, timeout=60)
    return m.child.before


def saved_rip(m, cpu):
    out = kstop(m, f"regs {cpu}")
    assert "(saved by this cpu at the debug exception)" in out, out
    return int(re.search(r"rip=0x([0-9a-f]{16})", out).group(1), 16)


def test_breakpoint_on_the_cross_call_handler_stops_cpu3_then_step_and_continue():
    handler, _ = sym("smp::xcall_handle")
    with Machine(Config(smp="4", mem="256M"), name="dbg-break") as m:
        m.boot()
        out = m.cmd("break smp::xcall_handle")  # by name, as a user types it
        assert out[0].startswith("0 break 0x%016x" % handler), out
        # QEMU's view: every vCPU has DR0 = the handler and DR7.L0 set, execute, length 1.
        for i in range(4):
            r = vcpu_regs(m, i)
            assert reg(r, "DR0") == handler, r
            dr7 = reg(r, "DR7")
            assert dr7 & 1 and (dr7 >> 16) & 0xf == 0, hex(dr7)
        m.send("ipi 3 1\r")
        mm, _ = stopped_at(m, r"break: cpu (\d+) hit breakpoint 0 at 0x([0-9a-f]{16})")
        assert int(mm.group(1)) == 3 and int(mm.group(2), 16) == handler
        assert saved_rip(m, 3) == handler
        # Every other CPU is held in the NMI handler's stop loop (QEMU's RIP of each vCPU:
        # the hold loop or the panicking() check it calls).
        for i in (0, 1, 2):
            where = symbol_at(reg(vcpu_regs(m, i), "RIP"))
            assert where is not None and ("::hold(" in where or "debug::panicking" in where), (i, where)
        # A read-only view works while stopped; a command that needs the others is refused.
        assert "cpu 1 apic 1 (saved when stopped by the debugger's NMI)" in kstop(m, "bt 1")
        assert "error: " in kstop(m, "ipi 1")
        # step: one instruction on CPU 3, as llvm-objdump sizes it.
        out = kstop(m, "step")
        mm = re.search(r"step: cpu 3 at 0x([0-9a-f]{16})", out)
        assert mm and int(mm.group(1), 16) == next_insn(handler), out
        assert saved_rip(m, 3) == next_insn(handler)
        kstop(m, "delete 0")
        m.send("continue\r")
        m.child.expect_exact(PROMPT, timeout=60)
        # The machine answers on every CPU, and no vCPU keeps a breakpoint.
        for i in (1, 2, 3):
            assert re.match(rf"cpu {i} \(apic {i}\): 4 round trips", m.cmd(f"ipi {i} 4")[0])
        for i in range(4):
            assert reg(vcpu_regs(m, i), "DR7") & 0xff == 0


def test_watchpoint_on_a_per_cpu_counter_stops_the_cpu_that_writes_it():
    ipis = offsetof("ipis")
    with Machine(Config(smp="4", mem="256M"), name="dbg-watch") as m:
        m.boot()
        base = int(re.search(r"^base: 0x([0-9a-f]{16})", "\n".join(m.cmd("percpu 2")), re.M).group(1), 16)
        out = m.cmd(f"watch {base + ipis:x} len 8 w")
        assert out[0].startswith("0 watch 0x%016x" % (base + ipis)) and "len 8 w" in out[0], out
        m.send("ipi 2 1\r")
        mm, text = stopped_at(m, r"watch: cpu (\d+) hit watchpoint 0 \(write 0x([0-9a-f]{16}), 8 bytes\) at "
                                 r"0x([0-9a-f]{16})")
        assert int(mm.group(1)) == 2 and int(mm.group(2), 16) == base + ipis
        # A data breakpoint traps after the write: rip follows the instruction that wrote.
        assert symbol_at(int(mm.group(3), 16)) is not None
        assert "hits 1" in kstop(m, "breaks")
        kstop(m, "delete all")
        m.send("continue\r")
        m.child.expect_exact(PROMPT, timeout=60)
        assert "no breakpoints" in m.cmd("breaks")[0]
        assert re.match(r"cpu 2 \(apic 2\): 3 round trips", m.cmd("ipi 2 3")[0])


def test_breakpoint_on_code_the_monitor_runs_does_not_garble_it():
    """lib::vformat formats every line the monitor prints, on the CPU that runs it: a stop
    there would cut the command's own output in two, and the stop shell's every line would
    hit it again. Such hits on the monitor's CPU are counted, not stopped (the command says
    so when the breakpoint is set); the output stays whole."""
    vformat, _ = sym("lib::vformat")
    with Machine(Config(smp="2", mem="256M"), name="dbg-self") as m:
        m.boot()
        out, prompt = m.cmd_any("break lib::vformat")
        assert prompt == PROMPT, out
        assert out[0].startswith("0 break 0x%016x lib::vformat" % vformat), out
        assert any(ln.startswith("note: the monitor's own input/output runs this code") for ln in out), out
        cpus, prompt = m.cmd_any("cpus")
        assert prompt == PROMPT and len(cpus) == 3 and cpus[0].startswith("index apic state"), cpus
        assert all(re.match(r"\d+\s+\d+\s+online ", ln) for ln in cpus[1:]), cpus
        hits = int(re.search(r"hits (\d+)", m.cmd("breaks")[0]).group(1))
        assert hits >= 3, hits  # every line above went through vformat
        m.cmd("delete 0")
        assert any(ln.startswith("cpus") for ln in m.cmd("help"))


def test_debug_wait_then_break_on_ap_main_debugs_bring_up():
    ap_main, _ = sym("ap_main")
    iso = iso_with_cmdline("debug.wait")
    with Machine(Config(smp="4", mem="256M"), name="dbg-wait", iso=iso) as m:
        m.start()
        stopped_at(m, r"stop: cpu 0, debug.wait")
        assert "smp: " not in m.child.before  # before AP bring-up
        kstop(m, f"break {ap_main:x}")
        m.send("continue\r")
        mm, _ = stopped_at(m, r"break: cpu (\d+) hit breakpoint 0 at 0x([0-9a-f]{16})")
        assert int(mm.group(1)) != 0 and int(mm.group(2), 16) == ap_main
        kstop(m, "delete 0")
        m.send("continue\r")
        m.child.expect_exact(PROMPT, timeout=120)
        assert re.search(r"smp: 4 of 4 enabled CPUs online \(0 failed\)", m.child.before)


def test_debug_break_on_the_command_line():
    """debug.break=ap_main (a symbol, as a user would write it): every AP loads the
    breakpoint before ap_main runs, so the first AP to get there stops at its entry."""
    ap_main, _ = sym("ap_main")
    iso = iso_with_cmdline("debug.break=ap_main")
    with Machine(Config(smp="2", mem="256M"), name="dbg-cmdline", iso=iso) as m:
        m.start()
        mm, text = stopped_at(m, r"break: cpu (\d+) hit breakpoint 0 at 0x([0-9a-f]{16})")
        assert "debug.break: breakpoint 0 at 0x%016x" % ap_main in text
        assert int(mm.group(1)) == 1 and int(mm.group(2), 16) == ap_main
        kstop(m, "delete 0")
        m.send("continue\r")
        m.child.expect_exact(PROMPT, timeout=120)
        assert re.search(r"smp: 2 of 2 enabled CPUs online \(0 failed\)", m.child.before)


def test_bt_in_the_panic_shell_uses_the_saved_frames():
    with Machine(Config(smp="4", mem="256M"), name="dbg-panic-bt") as m:
        m.boot()
        m.send("crash ud 1\r")
        m.child.expect_exact(PANIC_PROMPT, timeout=60)
        m.send("bt all\r")
        m.child.expect_exact(PANIC_PROMPT, timeout=60)
        out = m.child.before
        blocks = [b for b in out.split("\r\n\r\n") if re.search(r"^cpu \d+ apic \d+ \(saved ", b, re.M)]
        assert len(blocks) == 4, out
        for b in blocks:
            pcs = [int(x, 16) for x in re.findall(r"^#\d+ 0x([0-9a-f]{16})", b, re.M)]
            assert pcs and all(symbol_at(p) for p in pcs[:1]), b
        # The CPU that faulted: #0 is the ud2 in do_crash.
        b1 = next(b for b in blocks if re.search(r"^cpu 1 ", b, re.M))
        first = int(re.search(r"^#0 0x([0-9a-f]{16})", b1, re.M).group(1), 16)
        assert "do_crash" in symbol_at(first)


BAD = ["break", "break zz", "break 0x0000800000000000", "watch", "watch 1000 len 3", "watch 1004 len 8",
       "watch 1000 len", "watch 1000 sideways", "delete", "delete 7", "delete x", "breaks now", "continue", "step",
       "bt 99", "bt x", "bt 1 2", "break trap_dispatch", "break isr_common", "break debug::on_debug_exception"]


def test_debugger_commands_reject_bad_arguments():
    with Machine(Config(smp="2", mem="256M"), name="dbg-bad") as m:
        m.boot()
        for bad in BAD:
            out = m.cmd(bad)
            assert len(out) == 1 and out[0].startswith("error: "), (bad, out)
        assert any(ln.startswith("cpus") for ln in m.cmd("help"))
