"""x2APIC on QEMU 10 (issue 10): the kernel switches to x2APIC itself, keeps firmware's
x2APIC, runs xAPIC when CPUID has none, and handles APIC IDs above 255, exactly 256 CPUs
and more CPUs than slots.

Oracles, none of them the kernel: QEMU's `info hotpluggable-cpus` (which CPUs exist, and
from their socket/core/thread the APIC IDs), each vCPU's `info registers` (GS base is the
slot of the CPU with that APIC ID, rip in kernel text) and each vCPU's `info lapic`
(QEMU prints the ICR destination as "(X2APIC ID)" when that vCPU's IA32_APIC_BASE has
EXTD set, "(APIC ID)" otherwise: QEMU's own view of the mode).
"""
import re
import subprocess

import pytest

from machine import BUILD, ROOT, Config, Machine, PERCPU_BASE, KERNEL_BASE, kernel_layout
from machine import PANIC_PROMPT
from test_monitor import check_stopped_regs
from test_smp import expected_apic_ids, boot_line

SLOT = 16 << 20


def cpus_rows(m: Machine):
    """Every line of `cpus` that starts with an index (slotted and noslot alike)."""
    rows = []
    for ln in m.cmd("cpus", timeout=120):
        f = ln.split()
        if not f or not f[0].isdigit():
            continue
        slot = int(f[3], 16) if f[3].startswith("0x") else None
        rows.append(dict(index=int(f[0]), apic=int(f[1]), state=f[2], slot=slot, lapic=f[5], line=ln))
    return rows


def qemu_lapic_mode(m: Machine, vcpu: int, apic_id: int) -> str:
    """QEMU's view of a vCPU's APIC mode, from `info lapic`: QEMU prints the ICR's
    destination as "(X2APIC ID)" or "(APIC ID)" according to that vCPU's IA32_APIC_BASE
    EXTD bit, whenever the last ICR value had no shorthand (an AP never sends, so its ICR
    is 0; the caller makes the BSP's last IPI a directed one). A non-zero LDR is a second
    witness: in x2APIC mode QEMU derives it from the ID (SDM Vol. 3A 11.12.10.2: cluster
    << 16 | 1 << (ID & 0xf)); this kernel never writes it in xAPIC mode."""
    m.hmp(f"cpu {vcpu}")
    out = m.hmp("info lapic")
    icr2 = re.search(r"^ICR2\s+0x[0-9a-f]+ .*\((X2APIC|APIC) ID\)", out, re.M)
    assert icr2, f"vCPU {vcpu}: info lapic shows no destination mode:\n{out}"
    mode = "x2apic" if icr2.group(1) == "X2APIC" else "xapic"
    mm = re.search(r"\bLDR 0x([0-9a-f]+)", out)
    assert mm, f"vCPU {vcpu}: no LDR in info lapic:\n{out}"
    ldr = int(mm.group(1), 16)
    if ldr != 0:
        assert mode == "x2apic" and ldr == ((apic_id >> 4) << 16) | (1 << (apic_id & 0xF)), \
            f"vCPU {vcpu} (apic {apic_id}): LDR {ldr:#x} in {mode} mode"
    return mode


def vcpu_gs_rip(m: Machine, vcpu: int):
    m.hmp(f"cpu {vcpu}")
    regs = m.hmp("info registers")
    # Long mode prints 64-bit bases and RIP; a CPU still in real mode (never started)
    # 32-bit ones and EIP.
    gs = int(re.search(r"^GS =\w+ ([0-9a-f]+)", regs, re.M).group(1), 16)
    rip = int(re.search(r"[RE]IP=([0-9a-f]+)", regs).group(1), 16)
    return gs, rip


def check_machine(m: Machine, smp: str, want_mode: str, slots: int = 256):
    """cpus against info hotpluggable-cpus, and every vCPU's slot and APIC mode against
    QEMU's registers and LAPIC state."""
    rows = cpus_rows(m)
    want_ids = expected_apic_ids(smp, m.hmp("info hotpluggable-cpus"))
    n = int(smp.split(",")[0])
    assert len(want_ids) == n
    assert [r["index"] for r in rows] == list(range(len(rows))), "indices are not 0..N-1"
    assert sorted(r["apic"] for r in rows) == want_ids, "APIC IDs differ from QEMU's"
    slotted = [r for r in rows if r["slot"] is not None]
    noslot = [r for r in rows if r["state"] == "noslot"]
    assert len(slotted) == min(n, slots)
    assert len(noslot) == max(0, n - slots)
    assert all(r["state"] == "online" for r in slotted), [r["line"] for r in slotted if r["state"] != "online"]
    assert all(r["slot"] == PERCPU_BASE + r["index"] * SLOT for r in slotted)
    # want_mode: one mode, or a tuple of acceptable ones (then all CPUs share one of them).
    modes = {r["lapic"] for r in slotted}
    assert len(modes) == 1 and modes <= set(want_mode if isinstance(want_mode, tuple) else (want_mode,)), modes
    want_mode = modes.pop()
    assert all(r["lapic"] == "-" and r["index"] >= slots for r in noslot)
    by_slot = {r["slot"]: r for r in slotted}
    if len(slotted) > 1:
        m.cmd("regs 1")  # the BSP's last IPI now has a destination (see qemu_lapic_mode)
    online_apics = {r["apic"] for r in slotted}
    # QEMU's cpu index i has the i-th APIC ID in QEMU's order (socket, core, thread).
    for i, apic in enumerate(want_ids):
        gs, rip = vcpu_gs_rip(m, i)
        mode = qemu_lapic_mode(m, i, apic) if apic in online_apics else None
        if apic in online_apics:
            assert gs in by_slot and by_slot[gs]["apic"] == apic, f"vCPU {i} (apic {apic}): GS base {gs:#x}"
            assert KERNEL_BASE <= rip < KERNEL_BASE + (512 << 20), f"vCPU {i}: rip {rip:#x}"
            assert mode == want_mode.split("(")[0], f"vCPU {i} (apic {apic}): QEMU says {mode}"
        else:
            # A CPU without a slot was never touched: no GS base, not in kernel code.
            assert gs == 0, f"vCPU {i} (apic {apic}, no slot) has GS base {gs:#x}"
            assert not (KERNEL_BASE <= rip < KERNEL_BASE + (512 << 20)), f"vCPU {i} (no slot) runs kernel code"
    m.hmp("cpu 0")
    return rows


def check_ipi_paths(m: Machine, rows):
    """Fixed IPI (regs via cross-CPU call), NMI (wedge), to the CPU with the highest APIC
    ID: in x2APIC mode this exercises 32-bit destinations."""
    target = max((r for r in rows if r["state"] == "online"), key=lambda r: r["apic"])
    i = target["index"]
    out = m.cmd(f"regs {i}")
    assert out[0].startswith(f"cpu {i} apic {target['apic']} (taken on that cpu: ipi)"), out[0]
    pc = "\n".join(m.cmd(f"percpu {i}"))
    assert f"apic: {target['apic']}" in pc
    assert re.search(r"gs_base: 0x%016x$" % target["slot"], pc, re.M), pc
    assert "interrupts off" in m.cmd(f"wedge {i}")[0]
    out = m.cmd(f"regs {i}")
    assert "taken on that cpu: nmi" in out[0], out
    m.cmd("wedge release")
    assert "taken on that cpu: ipi" in m.cmd(f"regs {i}")[0]
    out = m.cmd(f"ipi {i} 4")
    assert re.match(rf"cpu {i} \(apic {target['apic']}\): 4 round trips", out[0]), out
    # The broadcast TLB flushes of the boot (identity map gone, boot code made NX) were
    # acknowledged by every CPU: the kernel warns otherwise.
    assert "acknowledged the TLB flush" not in m.boot_text


def test_kernel_enables_x2apic():
    """-cpu max -smp 4: SeaBIOS leaves xAPIC (fewer than 256 CPUs); the kernel switches."""
    with Machine(Config(cpu="max", smp="4", mem="256M"), name="x2apic-by-kernel") as m:
        m.boot()
        boot_line(m.boot_text, r"lapic: x2apic \(enabled by the kernel\)")
        rows = check_machine(m, "4", "x2apic")
        check_ipi_paths(m, rows)


def test_xapic_without_x2apic_in_cpuid():
    with Machine(Config(cpu="max,-x2apic", smp="4", mem="256M"), name="xapic") as m:
        m.boot()
        boot_line(m.boot_text, r"lapic: xapic \(no x2apic in cpuid\)")
        rows = check_machine(m, "4", "xapic")
        check_ipi_paths(m, rows)


def test_firmware_x2apic_with_ids_above_255():
    smp = "195,sockets=3,cores=65"
    with Machine(Config(cpu="max", smp=smp, mem="256M"), name="x2apic-3s65c") as m:
        m.boot()
        boot_line(m.boot_text, r"lapic: x2apic \(enabled by firmware\)")
        mm = boot_line(m.boot_text, r"smp: (\d+) of (\d+) enabled CPUs online \((\d+) failed\), (\d+) listed")
        assert tuple(int(x) for x in mm.groups()) == (195, 195, 0, 195)
        rows = check_machine(m, smp, "x2apic(fw)")
        assert max(r["apic"] for r in rows) == 320
        check_ipi_paths(m, rows)
        # The panic path: a crash on the CPU with the highest APIC ID stops every other
        # CPU by NMI (x2APIC broadcast); a stopped CPU above 255 shows its saved frame.
        top = max(rows, key=lambda r: r["apic"])
        other = next(r for r in rows if r["apic"] > 255 and r["index"] != top["index"])
        m.send(f"crash ud {top['index']}\r")
        m.child.expect_exact(PANIC_PROMPT, timeout=120)
        assert f"exception on cpu {top['index']} (apic {top['apic']})" in m.child.before
        m.send("cpus\r")
        m.child.expect_exact(PANIC_PROMPT, timeout=60)
        states = re.findall(r"^\d+\s+\d+\s+(\w+)", m.child.before, re.M)
        assert states.count("stopped") == 194, states
        check_stopped_regs(m, other["index"])


def test_exactly_256_cpus():
    with Machine(Config(cpu="max", smp="256", mem="256M"), name="x2apic-256") as m:
        m.boot()
        mm = boot_line(m.boot_text, r"smp: (\d+) of (\d+) enabled CPUs online \((\d+) failed\), (\d+) listed")
        assert tuple(int(x) for x in mm.groups()) == (256, 256, 0, 256)
        assert "without a slot" not in m.boot_text
        rows = check_machine(m, "256", "x2apic(fw)")
        assert any(r["apic"] == 255 for r in rows)  # the xAPIC broadcast ID is a real CPU here


def test_more_cpus_than_slots():
    with Machine(Config(cpu="max", smp="288", mem="256M"), name="x2apic-288") as m:
        m.boot()
        mm = boot_line(m.boot_text, r"smp: (\d+) of (\d+) enabled CPUs online \((\d+) failed\), (\d+) listed "
                                    r"in the MADT, (\d+) without a slot")
        assert tuple(int(x) for x in mm.groups()) == (256, 288, 0, 288, 32)
        rows = check_machine(m, "288", "x2apic(fw)")
        noslot = [r for r in rows if r["state"] == "noslot"]
        assert [r["apic"] for r in noslot] == list(range(256, 288))
        # A CPU without a slot is refused by every per-CPU command with a clear error.
        out = m.cmd(f"regs {noslot[0]['index']}")
        assert out[0].startswith("error: ") and "no slot" in out[0], out
        check_ipi_paths(m, rows)


CPU512 = BUILD / "cpu512"


def build_cpu512():
    r = subprocess.run([str(ROOT / "scripts" / "build"), "--cpu512"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return CPU512 / "kernel.iso", CPU512 / "kernel.elf"


@pytest.mark.full
def test_512_cpu_build_at_the_largest_count():
    """The seed's other size: KCONFIG_MAX_CPUS=512 in an 8 GiB per-CPU region (PML4 511,
    PDPT 0-7). -smp 512 on q35 under TCG (QEMU 10's limit for q35 is higher; 512 is the
    build's slot count)."""
    iso, elf = build_cpu512()
    lay = kernel_layout(elf)
    assert lay["max_cpus"] == 512 and lay["percpu_end"] - lay["percpu_base"] == 8 << 30
    with Machine(Config(cpu="max", smp="512", mem="2G"), name="x2apic-512", iso=iso) as m:
        m.boot(timeout=600)
        mm = boot_line(m.boot_text, r"smp: (\d+) of (\d+) enabled CPUs online \((\d+) failed\), (\d+) listed")
        assert tuple(int(x) for x in mm.groups()) == (512, 512, 0, 512)
        rows = check_machine(m, "512", "x2apic(fw)", slots=512)
        assert max(r["slot"] for r in rows) == lay["percpu_base"] + 511 * SLOT
        # The views follow the setting: `layout` and `pml4` show the 8 GiB region, and
        # QEMU's page tables have slot 511 (PDPT 7) mapped.
        lay_out = "\n".join(m.cmd("layout"))
        assert re.search(r"%016x-%016x" % (lay["percpu_base"], lay["percpu_end"]), lay_out) or \
            re.search(r"0x%016x.*0x%016x" % (lay["percpu_base"], lay["percpu_end"]), lay_out), lay_out
        from machine import parse_info_tlb
        ptes = parse_info_tlb(m.hmp("info tlb"))
        top = lay["percpu_base"] + 511 * SLOT
        assert any(p.va == top for p in ptes), "slot 511's data page is not mapped"
        assert not any(lay["percpu_end"] <= p.va < lay["kernel_base"] for p in ptes)
        # maps and pml4 follow the setting too: maps equals QEMU's info mem, and the
        # PML4 entry 511 is labelled percpu (its region now spans PDPT 0-7).
        assert [ln for ln in m.cmd("maps") if ln.strip()] == \
            [ln.strip() for ln in m.hmp("info mem").splitlines() if ln.strip()]
        pml4 = {int(r.split()[0]): r for r in m.cmd("pml4") if re.match(r"\d", r)}
        assert "percpu" in pml4[511], pml4[511]
        check_ipi_paths(m, rows)


# --full: sparse topologies with threads (IDs above 255 too), pc with x2APIC, UEFI with
# x2APIC (OVMF may or may not switch to x2APIC itself: either is right if all agree).
X2_FULL = [
    ("12,sockets=2,cores=3,threads=2", "q35", False, "x2apic"),
    ("198,sockets=3,cores=33,threads=2", "q35", False, "x2apic(fw)"),
    ("4", "pc", False, "x2apic"),
    ("4", "q35", True, ("x2apic", "x2apic(fw)")),
]


@pytest.mark.full
@pytest.mark.parametrize("smp,machine,uefi,mode", X2_FULL,
                         ids=[f"{t[1]}-{'uefi' if t[2] else 'bios'}-smp{t[0]}" for t in X2_FULL])
def test_x2apic_full_matrix(smp, machine, uefi, mode):
    name = f"x2apic-{machine}-{uefi}-{smp}".replace(",", "_").replace("=", "")
    with Machine(Config(machine=machine, cpu="max", smp=smp, mem="256M", uefi=uefi), name=name) as m:
        m.boot()
        rows = check_machine(m, smp, mode)
        check_ipi_paths(m, rows)
