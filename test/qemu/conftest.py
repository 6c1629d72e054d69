"""pytest plumbing for the QEMU tests.

Each test that takes the `vm` fixture runs once per boot configuration: the default
slice, or with --full (or KMON_FULL=1) the whole matrix. A booted machine is shared by
all tests of one configuration (at most one QEMU runs at a time) and rebooted if a test
left it dead or panicked. Serial logs: build/test-logs/<config>.log, with a `### test`
marker line before each test's traffic.
"""

import itertools
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import Config, Machine, BootError, KernelPanic, ISO  # noqa: E402

DEFAULT_CONFIGS = [
    Config(machine="q35", cpu="max", mem="512M", smp="4"),
    Config(machine="pc", cpu="qemu64", mem="128M", smp="2"),
    Config(machine="q35", cpu="max", mem="8G", smp="2"),
    Config(machine="q35", cpu="max", mem="512M", smp="2", uefi=True),
]


# The --full matrix (issue 7): every value of every factor, and every pair of values of
# any two factors, appears in at least one configuration (an all-pairs covering design;
# the full cross product would be 432 boots, several hours under TCG).
FULL_FACTORS = {
    "smp": ["1", "2", "4", "8", "16", "64", "255", "6,sockets=2,cores=3,threads=1",
            "12,sockets=2,cores=3,threads=2"],
    "mem": ["64M", "512M", "8G", "64G"],
    "cpu": ["max", "qemu64", "EPYC"],
    "machine": ["q35", "pc"],
    "uefi": [False, True],
}


def all_pairs(factors):
    """Greedy all-pairs: repeatedly pick the combination covering the most uncovered
    pairs. Deterministic, so --full runs the same list every time."""
    names = list(factors)
    uncovered = set()
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for va in factors[a]:
                for vb in factors[b]:
                    uncovered.add((a, va, b, vb))
    rows = []
    candidates = [dict(zip(names, combo)) for combo in itertools.product(*(factors[n] for n in names))]
    while uncovered:
        def gain(row):
            return sum(1 for i, a in enumerate(names) for b in names[i + 1:]
                       if (a, row[a], b, row[b]) in uncovered)
        best = max(candidates, key=gain)
        rows.append(best)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                uncovered.discard((a, best[a], b, best[b]))
    return rows


def full_configs():
    out = list(DEFAULT_CONFIGS)
    for machine, cpu, uefi, mem in itertools.product(
            ("q35", "pc"), ("max", "qemu64"), (False, True), ("128M", "8G")):
        c = Config(machine=machine, cpu=cpu, mem=mem, smp="2", uefi=uefi)
        if c not in out:
            out.append(c)
    for row in all_pairs(FULL_FACTORS):
        c = Config(machine=row["machine"], cpu=row["cpu"], mem=row["mem"], smp=row["smp"], uefi=row["uefi"])
        if c not in out:
            out.append(c)
    return out


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", default=False,
                     help="run the long configuration matrices (also KMON_FULL=1)")


def is_full(config) -> bool:
    return bool(config.getoption("--full")) or os.environ.get("KMON_FULL", "") not in ("", "0")


def pytest_configure(config):
    config.addinivalue_line("markers", "full: only with --full")


def pytest_collection_modifyitems(config, items):
    if is_full(config):
        return
    # Not skipped but left out: the default run reports no skips, only what it ran.
    keep = [item for item in items if "full" not in item.keywords]
    dropped = [item for item in items if "full" in item.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_generate_tests(metafunc):
    if "boot_config" not in metafunc.fixturenames:
        return
    configs = full_configs() if is_full(metafunc.config) else DEFAULT_CONFIGS
    m = metafunc.definition.get_closest_marker("configs")
    if m:
        wanted = set(m.args)
        if "default" in wanted:
            wanted.add(DEFAULT_CONFIGS[0].id)
        configs = [c for c in configs if c.id in wanted]
    metafunc.parametrize("boot_config", configs, ids=[c.id for c in configs], scope="module")


class Pool:
    """One live QEMU at a time, reused across tests of the same configuration."""

    def __init__(self):
        self.current = None  # Machine
        self.boot_failed = {}  # Config -> message: don't retry a boot that failed

    def get(self, cfg: Config) -> Machine:
        m = self.current
        if m is not None and (m.config != cfg or not m.alive()):
            m.close()
            self.current = m = None
        if m is None:
            if cfg in self.boot_failed:
                pytest.fail(f"{cfg.id}: boot failed earlier: {self.boot_failed[cfg]}")
            if not ISO.exists():
                pytest.fail(f"{ISO} missing: run scripts/build first")
            m = Machine(cfg)
            self.current = m
            try:
                m.boot()
            except (BootError, KernelPanic) as e:
                m.close()
                self.current = None
                self.boot_failed[cfg] = str(e).splitlines()[0]
                pytest.fail(f"{cfg.id}: boot failed: {e}")
        return m

    def close(self):
        if self.current is not None:
            self.current.close()
            self.current = None


@pytest.fixture(scope="session")
def pool():
    p = Pool()
    yield p
    p.close()


@pytest.fixture
def vm(request, pool, boot_config) -> Machine:
    """A booted machine at `kmon> ` for this test's configuration."""
    m = pool.get(boot_config)
    m.mark(request.node.nodeid)
    yield m
    if not m.alive():
        pool.close()


@pytest.fixture
def fresh_vm(request, boot_config):
    """A machine of its own (for tests that may break it); closed afterwards."""
    m = Machine(boot_config, name=f"{boot_config.id}-{request.node.name}"[:150])
    try:
        yield m
    finally:
        m.close()
