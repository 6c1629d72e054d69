"""CPU models (--full only): what the boot report says about the processor and the
features the kernel relies on, against QEMU's own account of the vCPU.

The oracle is QMP: `qom-get` on the realized vCPU 0 (the `query-cpus-fast` qom-path), which
is what the guest's CPUID shows after TCG filtered out what it cannot emulate, and
`query-cpu-model-expansion` (type full), which is the model's definition. The two differ
where TCG drops a feature the model asks for (`Skylake-Server,+invtsc`: the expansion says
invtsc, TCG does not provide it), and the kernel must report the realized one.
"""
import json
import os
import re
import shutil
import socket
import tempfile
import time

import pytest

from machine import Config, Machine

MODELS = ["Skylake-Server", "Icelake-Server", "EPYC", "Nehalem", "qemu64", "max", "Skylake-Server,+invtsc"]
FEATURES = {"1g-pages": "pdpe1gb", "nx": "nx", "x2apic": "x2apic", "invariant-tsc": "invtsc"}


class Qmp:
    def __init__(self, path: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name: str, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "error" in r:
                raise RuntimeError(f"QMP {name}: {r['error']}")
            if "return" in r:
                return r["return"]

    def close(self):
        self.sock.close()


@pytest.mark.full
@pytest.mark.parametrize("cpu", MODELS)
def test_boot_report_cpu_line_matches_qemus_cpuid(cpu):
    tmp = tempfile.mkdtemp(prefix="kmon-qmp-")
    path = os.path.join(tmp, "qmp.sock")
    cfg = Config(machine="q35", cpu=cpu, mem="256M", smp="2", extra=("-qmp", f"unix:{path},server=on,wait=off"))
    try:
        with Machine(cfg, name=f"cpu-{cpu}".replace(",", "_").replace("+", "")) as m:
            m.boot()
            mm = re.search(r"^cpu: (\S+) family (\d+) model (\d+) stepping (\d+); (.*?)\r?$", m.boot_text, re.M)
            assert mm, m.boot_text[-1500:]
            said = dict(kv.split(" ") for kv in mm.group(5).split(", "))
            assert set(said) == set(FEATURES), said
            q = Qmp(path)
            try:
                qom = q.cmd("query-cpus-fast")[0]["qom-path"]
                real = {p: q.cmd("qom-get", path=qom, property=p) for p in
                        list(FEATURES.values()) + ["vendor", "family", "model", "stepping"]}
                name, *props = cpu.split(",")
                exp = q.cmd("query-cpu-model-expansion", type="full",
                            model={"name": name, "props": {p[1:]: p[0] == "+" for p in props}})["model"]["props"]
            finally:
                q.close()
            assert (mm.group(1), int(mm.group(2)), int(mm.group(3)), int(mm.group(4))) == \
                (real["vendor"], real["family"], real["model"], real["stepping"])
            for key, prop in FEATURES.items():
                assert said[key] == ("yes" if real[prop] else "no"), f"{key}: kernel {said[key]}, QEMU {real[prop]}"
                # The model's definition agrees except where TCG filtered a feature out.
                if exp.get(prop) != real[prop]:
                    assert exp.get(prop) and not real[prop] and cpu.endswith("+invtsc"), (prop, exp.get(prop), real[prop])
            # What the kernel did with them: the memory line's page sizes, the lapic mode.
            assert ("(1G/2M pages)" in m.boot_text) == real["pdpe1gb"]
            assert re.search(r"lapic: %s " % ("x2apic" if real["x2apic"] else "xapic"), m.boot_text)
            assert len([ln for ln in m.cmd("cpus") if re.match(r"\d", ln)]) == 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
