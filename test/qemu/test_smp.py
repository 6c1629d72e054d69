"""SMP bring-up checked against QEMU's own view of the machine.

For each topology: every CPU QEMU has comes online with the APIC ID QEMU gave it (from
HMP `info hotpluggable-cpus` and QEMU's documented APIC ID packing), each with its own
per-CPU slot, and each vCPU's GS base (HMP `info registers`, read by QEMU, not by the
kernel) points at the slot the kernel says is that CPU's. The failure path (a core that
never answers) and the NMI path (a core that ignores IPIs) are exercised too.
"""
import re

import pytest

from machine import Config, Machine, PERCPU_BASE, KERNEL_BASE, iso_with_cmdline

SLOT = 16 << 20

# (smp string, machine, cpu, uefi). 256 and more CPUs, and APIC IDs above 255, are in
# test_x2apic.py (QEMU 10 takes them under TCG).
TOPOLOGIES = [
    ("1", "q35", "max", False),
    ("2", "pc", "qemu64", False),
    ("8", "q35", "max", False),
    ("16", "q35", "qemu64", False),
    ("6,sockets=2,cores=3,threads=1", "q35", "max", False),
    ("12,sockets=2,cores=3,threads=2", "q35", "max", False),
    ("255", "q35", "max", False),
    ("4", "q35", "max", True),
]
FULL_TOPOLOGIES = [
    ("4", "pc", "max", False),
    ("64", "q35", "max", False),
    ("128", "q35", "qemu64", False),
    ("4", "pc", "qemu64", True),
    ("6,sockets=2,cores=3,threads=1", "q35", "qemu64", True),
]


def bits(n: int) -> int:
    return (n - 1).bit_length() if n > 1 else 0


def expected_apic_ids(smp: str, hotpluggable: str):
    """APIC IDs QEMU assigns: socket, core and thread ids packed into fields each
    rounded up to a power of two (QEMU-NOTES, 'Topology and APIC IDs')."""
    parts = smp.split(",")
    n = int(parts[0])
    kv = dict(p.split("=") for p in parts[1:])
    threads = int(kv.get("threads", 1))
    cores = int(kv.get("cores", n // (int(kv.get("sockets", 1)) * threads) if "sockets" in kv else n))
    ids = []
    for m in re.finditer(r'socket-id: "(\d+)"\s+core-id: "(\d+)"\s+thread-id: "(\d+)"', hotpluggable):
        s, c, t = (int(x) for x in m.groups())
        ids.append((s << (bits(cores) + bits(threads))) | (c << bits(threads)) | t)
    return sorted(ids)


def parse_cpus(lines):
    rows = []
    for ln in lines:
        m = re.match(r"(\d+)\s+(\d+)\s+(\w+)\s+0x([0-9a-f]{16})\s+(\d+)", ln)
        if m:
            rows.append(dict(index=int(m.group(1)), apic=int(m.group(2)), state=m.group(3),
                             slot=int(m.group(4), 16), arrival_us=int(m.group(5))))
    return rows


def vcpu_registers(m: Machine, i: int) -> str:
    m.hmp(f"cpu {i}")
    return m.hmp("info registers")


def check_topology(m: Machine, smp: str):
    cpus = parse_cpus(m.cmd("cpus"))
    assert cpus, "cpus printed no rows"
    assert [c["index"] for c in cpus] == list(range(len(cpus)))
    want = expected_apic_ids(smp, m.hmp("info hotpluggable-cpus"))
    assert len(want) == int(smp.split(",")[0])
    assert sorted(c["apic"] for c in cpus) == want, "APIC IDs differ from QEMU's"
    assert all(c["state"] == "online" for c in cpus), [c for c in cpus if c["state"] != "online"]
    assert cpus[0]["apic"] == want[0], "the bootstrap CPU is index 0"
    for c in cpus:
        assert c["slot"] == PERCPU_BASE + c["index"] * SLOT
    by_slot = {c["slot"]: c for c in cpus}
    # QEMU's own registers of every vCPU: GS base is that CPU's slot, RIP in kernel text.
    for i, apic in enumerate(want):
        regs = vcpu_registers(m, i)
        gs = int(re.search(r"^GS =\w+ ([0-9a-f]{16})", regs, re.M).group(1), 16)
        rip = int(re.search(r"RIP=([0-9a-f]{16})", regs).group(1), 16)
        assert gs in by_slot, f"vCPU {i}: GS base {gs:#x} is no CPU's slot"
        assert by_slot[gs]["apic"] == apic, f"vCPU {i} (apic {apic}) runs on the slot of apic {by_slot[gs]['apic']}"
        assert KERNEL_BASE <= rip < KERNEL_BASE + (512 << 20), f"vCPU {i}: rip {rip:#x} outside kernel text"
    m.hmp("cpu 0")
    return cpus


def boot_line(text: str, pattern: str):
    mm = re.search(pattern, text)
    assert mm, f"boot report lacks {pattern!r}"
    return mm


@pytest.mark.parametrize("smp,machine,cpu,uefi", TOPOLOGIES, ids=[f"{t[1]}-{t[2]}-{'uefi' if t[3] else 'bios'}-smp{t[0]}" for t in TOPOLOGIES])
def test_every_cpu_online_with_qemus_apic_id(smp, machine, cpu, uefi):
    with Machine(Config(machine=machine, cpu=cpu, mem="256M", smp=smp, uefi=uefi),
                 name=f"smp-{machine}-{cpu}-{smp}-{uefi}".replace(",", "_").replace("=", "")) as m:
        m.boot()
        n = int(smp.split(",")[0])
        mm = boot_line(m.boot_text, r"smp: (\d+) of (\d+) enabled CPUs online \((\d+) failed\)")
        assert (int(mm.group(1)), int(mm.group(2)), int(mm.group(3))) == (n, n, 0)
        cpus = check_topology(m, smp)
        if n > 1:
            us = int(boot_line(m.boot_text, r"smp: bring-up (\d+) us from first INIT").group(1))
            assert max(c["arrival_us"] for c in cpus) <= us
            timing = m.cmd("timing")
            assert sum(1 for ln in timing if re.search(r"cpu \d+ \(apic \d+\) online", ln)) == n - 1
        # percpu all: each CPU reads its own GS base, and it is its slot.
        blocks = "\n".join(m.cmd("percpu all")).split("\n\n")
        assert len(blocks) == n
        for b in blocks:
            kv = dict(ln.split(": ", 1) for ln in b.strip().splitlines() if ": " in ln)
            assert int(kv["gs_base"].split()[0], 16) == int(kv["base"], 16), b
            lo, hi = (int(x, 16) for x in kv["stack"].split("-"))
            assert hi - lo == 16 << 10 and lo > int(kv["base"], 16)


@pytest.mark.full
@pytest.mark.parametrize("smp,machine,cpu,uefi", FULL_TOPOLOGIES, ids=[f"{t[1]}-{t[2]}-{'uefi' if t[3] else 'bios'}-smp{t[0]}" for t in FULL_TOPOLOGIES])
def test_every_cpu_online_full_matrix(smp, machine, cpu, uefi):
    test_every_cpu_online_with_qemus_apic_id(smp, machine, cpu, uefi)


def test_absent_cpus_are_offline_not_started():
    """-smp 2,maxcpus=8: the MADT lists 8, six with flags 0; they must not be started."""
    with Machine(Config(smp="2,maxcpus=8", mem="256M"), name="smp-maxcpus") as m:
        m.boot()
        cpus = parse_cpus(m.cmd("cpus"))
        assert len(cpus) == 8
        assert [c["state"] for c in cpus].count("online") == 2
        assert [c["state"] for c in cpus].count("offline") == 6
        assert m.cpu_count_hmp() == 2


def test_core_that_never_answers_is_failed_and_boot_goes_on():
    iso = iso_with_cmdline("smp.skip_apic=2 smp.timeout_ms=300")
    with Machine(Config(smp="4", mem="256M"), name="smp-dead-core", iso=iso) as m:
        m.boot()
        assert re.search(r"smp: 3 of 4 enabled CPUs online \(1 failed\)", m.boot_text)
        cpus = {c["apic"]: c for c in parse_cpus(m.cmd("cpus"))}
        assert cpus[2]["state"] == "failed"
        assert all(cpus[a]["state"] == "online" for a in (0, 1, 3))
        out = m.cmd("regs %d" % cpus[2]["index"])
        assert out[0].startswith("error: ")
        # The live CPUs still answer cross-CPU calls.
        assert "taken on that cpu: ipi" in m.cmd("regs %d" % cpus[3]["index"])[0]
        # The dead core sits in QEMU's wait-for-SIPI state, outside the kernel: QEMU
        # reports it halted in real mode, never in kernel code.
        regs = vcpu_registers(m, 2)
        # It never ran kernel code: halted, not in long mode, its instruction pointer in
        # neither the kernel nor the trampoline page, no per-CPU GS base. (Under TCG the
        # kernel's INIT to a core given up on does not move a CPU parked in HLT by
        # SeaBIOS, so it stays in SeaBIOS's 32-bit park loop rather than at the reset
        # vector; either way it is outside the kernel.)
        assert "HLT=1" in regs, regs[:600]
        assert "CS64" not in regs and not re.search(r"^RIP=", regs, re.M), regs[:600]
        ip = int(re.search(r"^EIP=([0-9a-f]+)", regs, re.M).group(1), 16)
        tramp = int(re.search(r"trampoline at 0x([0-9a-f]+)", m.boot_text).group(1), 16)
        assert not tramp <= ip < tramp + 0x1000, f"the dead core is in the trampoline at {ip:#x}"
        assert not re.search(r"^GS =\w+ ffffff80", regs, re.M), "the dead core has a per-CPU GS base"
        pc = "\n".join(m.cmd("percpu %d" % cpus[2]["index"]))
        assert re.search(r"^state: failed$", pc, re.M), pc
        # The live APs, by contrast, run in long mode in kernel code on their own slots.
        for v in (1, 3):
            live = vcpu_registers(m, v)
            assert "CS64" in live and re.search(r"^GS =\w+ ffffff80", live, re.M), live[:600]
        m.hmp("cpu 0")


def test_unresponsive_core_is_reached_by_nmi():
    with Machine(Config(smp="4", mem="256M"), name="smp-nmi") as m:
        m.boot()
        assert "interrupts off" in m.cmd("wedge 2")[0]
        out = m.cmd("regs 2")
        assert "taken on that cpu: nmi" in out[0], out
        rip = int(re.search(r"rip=0x([0-9a-f]{16})", "\n".join(out)).group(1), 16)
        assert KERNEL_BASE <= rip < KERNEL_BASE + (512 << 20)
        m.cmd("wedge release")
        assert "taken on that cpu: ipi" in m.cmd("regs 2")[0]


def test_topology_matches_qemu_in_every_boot_config(vm):
    """The boot configurations of test_boot (the full matrix with --full): every CPU
    online with QEMU's APIC ID, on its own slot, GS base as QEMU reads it."""
    check_topology(vm, str(vm.config.smp))
