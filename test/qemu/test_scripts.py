"""scripts/test itself: every option it documents reaches every suite it runs and works
there, and a run that executes no test fails instead of passing."""
import os
import re
import subprocess
import sys

from machine import ROOT

SUITES = ["test/qemu", "test/gdb"]


def documented_options():
    out = subprocess.run([str(ROOT / "scripts" / "test"), "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"^\s+(--?[a-z][a-z-]*)", out, re.M))


def test_help_documents_the_options_this_test_covers():
    out = subprocess.run([str(ROOT / "scripts" / "test"), "--help"], capture_output=True, text=True, check=True).stdout
    assert {"--full", "-k", "--skip-"} <= documented_options()
    assert re.search(r"--skip-X .*\(host, fuzz, qemu, gdb\)", out), out


def test_every_pytest_suite_takes_every_option_scripts_test_passes():
    # scripts/test hands --full and -k to each pytest suite: each must accept both (a
    # suite that does not know --full fails with "unrecognized arguments").
    for suite in SUITES:
        r = subprocess.run([sys.executable, "-m", "pytest", suite, "--collect-only", "-q", "-p", "no:cacheprovider",
                            "--full", "-k", "test_"], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, f"{suite}: rc {r.returncode}\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}"
        assert "unrecognized arguments" not in r.stderr
        assert re.search(r"\d+ tests? collected|^\S+::\S+", r.stdout, re.M), r.stdout[-500:]
        # --full collects more than the default run.
        d = subprocess.run([sys.executable, "-m", "pytest", suite, "--collect-only", "-q", "-p", "no:cacheprovider"],
                           cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "KMON_FULL": "0"})  # scripts/test --full sets it
        n_full = len([ln for ln in r.stdout.splitlines() if "::" in ln])
        n_default = len([ln for ln in d.stdout.splitlines() if "::" in ln])
        assert n_full > n_default, f"{suite}: --full collects {n_full}, default {n_default}"


def test_a_run_that_executes_no_test_fails(tmp_path):
    # -k that matches nothing, host suites left out: nothing runs, and that must fail.
    r = subprocess.run([str(ROOT / "scripts" / "test"), "--skip-host", "-k", "zzz_matches_no_test_zzz"],
                       cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
                       env={**os.environ, "KMON_FULL": "0", "KMON_TEST_RESULTS": str(tmp_path)})
    last = r.stdout.strip().splitlines()[-1]
    assert r.returncode != 0, r.stdout[-1000:]
    assert re.fullmatch(r"0 passed, [1-9]\d* failed, 0 skipped", last), last
    assert "no test ran" in r.stdout


def test_scripts_run_append_reaches_the_kernel():
    """`scripts/run --append '<options>'` (QEMU): the kernel's boot report shows them as
    its command line; Ctrl-A x quits."""
    import pexpect
    c = pexpect.spawn(str(ROOT / "scripts" / "run"), ["--no-build", "--smp", "1", "--mem", "64M", "--append",
                                                      "smp.timeout_ms=900 debug.gdb=off"],
                      encoding="utf-8", codec_errors="replace", timeout=120, dimensions=(40, 160))
    try:
        c.expect_exact("kmon> ", timeout=120)
        assert 'cmdline "smp.timeout_ms=900 debug.gdb=off"' in c.before, c.before[-800:]
        c.send("\x01x")
        c.expect(pexpect.EOF, timeout=30)
    finally:
        c.close(force=True)


def test_check_layers_fails_on_an_upward_include(tmp_path):
    """scripts/check_layers.py passes on the tree and names an include that points up."""
    script = ROOT / "scripts" / "check_layers.py"
    ok = subprocess.run(["/usr/bin/python3", str(script), str(ROOT / "src")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for rel, text in {"mm/a.hpp": '#include "lib/types.hpp"\n#include "smp/percpu.hpp"\n',
                      "smp/percpu.hpp": "", "lib/types.hpp": "", "disasm/d.cpp": '#include "arch/cpu.hpp"\n',
                      "arch/cpu.hpp": "", "bench/f.cpp": '#include "smp/percpu.hpp"\n',
                      "boot/m.cpp": '#include "bench/f.hpp"\n#include "gdbstub/p.hpp"\n'}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    bad = subprocess.run(["/usr/bin/python3", str(script), str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 1
    lines = [ln for ln in bad.stdout.splitlines() if ": " in ln and "includes" in ln]
    assert sorted(ln.split(":")[0] for ln in lines) == ["disasm/d.cpp", "mm/a.hpp"], bad.stdout
    assert "mm/a.hpp:2: mm includes smp/percpu.hpp (smp): up the layer list" in bad.stdout
