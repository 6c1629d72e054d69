"""pytest options for the gdb suite: the same as the QEMU suite's (scripts/test passes
every option it documents to every suite it runs; test/qemu/test_scripts.py checks that)."""
import os


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", default=False,
                     help="also the long topologies (also KMON_FULL=1)")


def is_full(config) -> bool:
    return bool(config.getoption("--full")) or os.environ.get("KMON_FULL", "") not in ("", "0")


def pytest_generate_tests(metafunc):
    # test_gdb.py's `sess` fixture is parametrized here so --full can add topologies.
    if "topology" in metafunc.fixturenames:
        from test_gdb import TOPOLOGIES, FULL_TOPOLOGIES
        topos = TOPOLOGIES + (FULL_TOPOLOGIES if is_full(metafunc.config) else [])
        metafunc.parametrize("topology", topos, scope="module",
                             ids=["smp" + s.replace(",", "_").replace("=", "") for s in topos])


def pytest_configure(config):
    config.addinivalue_line("markers", "full: only with --full")


def pytest_collection_modifyitems(config, items):
    if is_full(config):
        return
    # As in test/qemu: left out, not skipped, so the default run reports only what it ran.
    dropped = [item for item in items if "full" in item.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if "full" not in item.keywords]


def pytest_runtest_makereport(item, call):
    # A test that failed may leave a shared machine stopped with its gdb attached: module
    # fixtures read this to start the next test on a fresh boot instead of failing it too.
    if call.when == "call" and call.excinfo is not None:
        item.session.kmon_failed_in = getattr(item.session, "kmon_failed_in", set()) | {item.module.__name__}
