"""The -j views of the CPU and debugger commands (percpu, regs, ipi, bt, breaks): each one's
JSON agrees member by member with its text form in the same boot, has the contract's types
(addresses as 18-character "0x" strings, numbers as ints), and a bad argument gives exactly
one {"error": ...} line carrying the text form's message. Where it is cheap, the JSON is also
checked against something other than the kernel: QEMU's registers (HMP), the ELF's symbols
(llvm-nm). The views are also compared at kstop> and kpanic> (what each CPU saved) and for
CPUs without a slot (members null), each in a boot of its own. And the one CPU-argument
parser (monitor/cpu_arg) keeps each mode's messages."""
import json
import re

import pytest

import kmon
from machine import PANIC_PROMPT, PROMPT, STOP_PROMPT, Config, Machine, hmp_cpu_registers
from test_debugger import symbols

CFG = Config(smp="4", mem="256M")
NCPUS = 4
APS = range(1, NCPUS)  # idle in ap_main's halt loop: their registers and frames hold still
ADDR = re.compile(r"^0x[0-9a-f]{16}$")


@pytest.fixture(scope="module")
def m():
    with Machine(CFG, name="json-cpus") as mach:
        mach.boot()
        yield mach


def is_addr(v):
    return isinstance(v, str) and ADDR.match(v) is not None


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def one_json_line(m, line):
    """The raw output of `line` with -j: exactly one line, parsed."""
    out = m.cmd(kmon.json_line(line))
    assert len(out) == 1, (line, out)
    return json.loads(out[0]), out[0]


def check_error(m, line):
    """`line` fails: the text form prints its error line(s), the JSON form exactly
    {"error": <the text's last message>}."""
    text = m.cmd(line)
    assert text and all(t.startswith("error: ") for t in text), (line, text)
    doc, _ = one_json_line(m, line)
    assert set(doc) == {"error"}, (line, doc)
    assert doc["error"] == text[-1][len("error: "):], (line, doc, text)
    with pytest.raises(kmon.KmonError):
        m.json(line)


def sym_plus(text):
    """'name+0x1a' -> (name, 0x1a); '?' -> (None, None)."""
    if text == "?":
        return None, None
    name, _, off = text.rpartition("+0x")
    return name, int(off, 16)


# -- percpu --------------------------------------------------------------------------------

PERCPU_LINE = re.compile(r"^(\w+): (.*)$")
RANGE = re.compile(r"^0x([0-9a-f]{16})-0x([0-9a-f]{16})(?: (\S+))?$")


def percpu_text(lines):
    """One CPU's block of `percpu` as {key: value text}."""
    d = {}
    for ln in lines:
        mm = PERCPU_LINE.match(ln)
        assert mm, ln
        d[mm.group(1)] = mm.group(2)
    return d


def check_percpu(t, j):
    """Text block t (a dict) against JSON object j. ipis grows between the two calls
    (percpu reads gs_base by a cross-CPU call, which is an IPI to that CPU) and stack_used
    is a high-water mark: those two may only grow from text to JSON."""
    assert j["cpu"] == int(t["cpu"]) and j["apic"] == int(t["apic"]) and j["state"] == t["state"]
    assert j["base"] == t["base"] and is_addr(j["base"])
    gs = re.match(r"^(0x[0-9a-f]{16}|unavailable|none)(?: \((.*)\))?$", t["gs_base"])
    assert gs, t["gs_base"]
    value, note = gs.groups()
    assert j["gs_base"] == (value if value.startswith("0x") else None) and j["gs_base_note"] == note
    assert j["self"] == t["self"] and is_addr(j["self"])
    lo, hi, _ = RANGE.match(t["stack"]).groups()
    assert j["stack"] == {"lo": f"0x{lo}", "hi": f"0x{hi}"}
    used, size = re.match(r"^(\d+) of (\d+) bytes \(high-water mark\)$", t["stack_used"]).groups()
    assert is_int(j["stack_used"]) and int(used) <= j["stack_used"] <= j["stack_size"] == int(size)
    for k in ("ist1", "ist2", "ist3"):
        lo, hi, use = RANGE.match(t[k]).groups()
        assert j[k] == {"lo": f"0x{lo}", "hi": f"0x{hi}", "for": use}, (k, j[k], t[k])
    assert j["arrival_us"] == int(t["arrival_us"]) and is_int(j["arrival_us"])
    assert is_int(j["ipis"]) and j["ipis"] >= int(t["ipis"])
    assert j["nmis"] == int(t["nmis"]) and j["exceptions"] == int(t["exceptions"])
    # Every text key has its member (stack_used's "of N" is stack_size).
    assert set(t) <= set(j), set(t) - set(j)


def test_percpu_json_agrees_with_text(m):
    for i in range(NCPUS):
        t = percpu_text(m.cmd(f"percpu {i}"))
        j = m.json(f"percpu {i}")
        check_percpu(t, j)
        assert j["gs_base"] == j["base"] and j["gs_base_note"] is None  # read on that CPU now: its slot
        assert j["base"] == f"{0xffffff8000000000 + i * (16 << 20):#018x}"  # the seed's slot layout


def test_percpu_all_json_agrees_with_text(m):
    blocks = "\n".join(m.cmd("percpu all")).split("\n\n")
    doc = m.json("percpu all")
    assert set(doc) == {"cpus"} and len(doc["cpus"]) == len(blocks) == NCPUS
    for text, j in zip(blocks, doc["cpus"]):
        check_percpu(percpu_text(text.split("\n")), j)


def test_percpu_json_errors(m):
    check_error(m, "percpu x")
    check_error(m, "percpu 99")


# -- regs ----------------------------------------------------------------------------------

REG = re.compile(r"\b(\w+)=0x([0-9a-f]+)")


def regs_text(lines):
    """`regs n`: (cpu, apic, source), {name: (value, digits)}, rip's 'sym+0xoff'."""
    head = re.match(r"^cpu (\d+) apic (\d+) \((.*)\)$", lines[0])
    assert head, lines
    regs = {name: (int(v, 16), len(v)) for name, v in REG.findall("\n".join(lines[1:]))}
    rip_sym = re.match(r"^rip=0x[0-9a-f]{16} (.*)$", lines[1]).group(1)
    return (int(head.group(1)), int(head.group(2)), head.group(3)), regs, rip_sym


def check_regs(lines, j):
    (cpu, apic, source), regs, rip_sym = regs_text(lines)
    assert (j["cpu"], j["apic"], j["source"]) == (cpu, apic, source)
    assert len(regs) == 26, regs  # rip ... gs_base, as the text prints them
    for name, (value, digits) in regs.items():
        v = j[name]
        assert isinstance(v, str) and v.startswith("0x"), (name, v)
        assert int(v, 16) == value and len(v) - 2 == digits, (name, v, value, digits)  # same width as the text
    name, off = sym_plus(rip_sym)
    assert (j["rip_symbol"], j["rip_offset"]) == (name, off)
    extra = set(j) - set(regs) - {"cpu", "apic", "source", "rip_symbol", "rip_offset"}
    assert not extra, extra


def test_regs_json_agrees_with_text(m):
    for i in APS:
        check_regs(m.cmd(f"regs {i}"), m.json(f"regs {i}"))
    # The monitor's own CPU: taken "this cpu"; its registers move from call to call
    # (it runs the command), so only the stable ones are compared.
    j = m.json("regs 0")
    _, regs, _ = regs_text(m.cmd("regs 0"))
    assert j["source"] == "this cpu"
    for name in ("cs", "ss", "cr0", "cr3", "cr4", "efer", "gs_base"):
        assert int(j[name], 16) == regs[name][0], name


def test_regs_json_agrees_with_qemu(m):
    """The control registers and EFER of every vCPU as QEMU holds them (HMP)."""
    hmp = hmp_cpu_registers(m.hmp("info registers -a"))
    assert len(hmp) == NCPUS
    for i in range(NCPUS):
        j = m.json(f"regs {i}")
        for name in ("CR0", "CR3", "CR4", "EFER"):
            assert int(j[name.lower()], 16) == hmp[i][name], (i, name, j[name.lower()], hex(hmp[i][name]))


def test_regs_json_errors(m):
    check_error(m, "regs 99")
    check_error(m, "regs a")


# -- ipi -----------------------------------------------------------------------------------

IPI = re.compile(r"^cpu (\d+) \(apic (\d+)\): (\d+) round trips, min (\d+\.\d{3}) us, avg (\d+\.\d{3}) us, "
                 r"max (\d+\.\d{3}) us$")


def test_ipi_json_agrees_with_text(m):
    """The timings differ from run to run: cpu, apic and round_trips are compared, the
    times only for their form (microseconds with three decimals, min <= avg <= max)."""
    for i in APS:
        t = m.cmd(f"ipi {i} 8")
        assert len(t) == 1 and IPI.match(t[0]), t
        cpu, apic, n = (int(x) for x in IPI.match(t[0]).groups()[:3])
        doc, raw = one_json_line(m, f"ipi {i} 8")
        assert (doc["cpu"], doc["apic"], doc["round_trips"]) == (cpu, apic, n) == (i, i, 8)
        assert set(doc) == {"cpu", "apic", "round_trips", "min_us", "avg_us", "max_us"}
        for k in ("min_us", "avg_us", "max_us"):
            assert re.search(rf'"{k}":\d+\.\d{{3}}[,}}]', raw), (k, raw)  # fixed(): ns digits
        assert 0 < doc["min_us"] <= doc["avg_us"] <= doc["max_us"] < 1e6


def test_ipi_json_errors(m):
    check_error(m, "ipi 0")  # this cpu
    check_error(m, "ipi 99")
    check_error(m, "ipi 1 0")
    # The text form says what was wrong with the number, then the range; -j the range only.
    assert m.cmd("ipi 1 abc") == ["error: invalid number 'abc'", "error: count must be 1-10000"]
    doc, _ = one_json_line(m, "ipi 1 abc")
    assert doc == {"error": "count must be 1-10000"}


# -- bt ------------------------------------------------------------------------------------

FRAME = re.compile(r"^#(\d+) 0x([0-9a-f]{16}) (.*)$")


def bt_text(lines):
    """One CPU's `bt`: (cpu, apic, source), [(index, pc, symbol, offset)], end reason."""
    head = re.match(r"^cpu (\d+) apic (\d+) \((.*)\)$", lines[0])
    assert head, lines
    frames = []
    for ln in lines[1:-1]:
        mm = FRAME.match(ln)
        assert mm, ln
        frames.append((int(mm.group(1)), int(mm.group(2), 16), *sym_plus(mm.group(3))))
    end = re.match(r"^\((.*)\)$", lines[-1])
    assert end, lines
    return (int(head.group(1)), int(head.group(2)), head.group(3)), frames, end.group(1)


def check_bt(lines, j):
    (cpu, apic, source), frames, end = bt_text(lines)
    assert (j["cpu"], j["apic"], j["source"], j["end"]) == (cpu, apic, source, end)
    assert len(j["frames"]) == len(frames) > 0
    for f, (index, pc, name, off) in zip(j["frames"], frames):
        assert set(f) == {"index", "pc", "symbol", "offset", "exact"}, f
        assert is_addr(f["pc"]) and is_int(f["index"]) and isinstance(f["exact"], bool)
        assert (f["index"], int(f["pc"], 16), f["symbol"], f["offset"]) == (index, pc, name, off)
    assert j["frames"][0]["exact"]  # frame 0 is where the CPU was


def test_bt_json_agrees_with_text(m):
    for i in APS:
        check_bt(m.cmd(f"bt {i}"), m.json(f"bt {i}"))


def test_bt_json_agrees_with_the_elf(m):
    """Each frame's symbol + offset is its pc by llvm-nm's addresses (the names are
    demangled the same way: llvm-nm -C)."""
    syms = symbols()
    for i in APS:
        for f in m.json(f"bt {i}")["frames"]:
            if f["symbol"] in syms:
                assert syms[f["symbol"]][0] + f["offset"] == int(f["pc"], 16), f
    assert m.json("bt 1")["frames"][0]["symbol"] == "ap_main"  # an idle AP


def test_bt_without_argument_and_all(m):
    j = m.json("bt")
    assert j["cpu"] == 0 and j["source"] == "this cpu" and j["frames"]
    text = m.cmd("bt all")
    blocks = "\n".join(text).split("\n\n")
    doc = m.json("bt all")
    assert set(doc) == {"cpus"} and len(doc["cpus"]) == len(blocks) == NCPUS
    assert [c["cpu"] for c in doc["cpus"]] == list(range(NCPUS))
    # CPU 0 runs bt itself: its inner frames are the command's own and differ between the
    # two forms; the APs' are compared whole.
    for block, j in zip(blocks[1:], doc["cpus"][1:]):
        check_bt(block.split("\n"), j)


def test_bt_json_errors(m):
    check_error(m, "bt 9")
    check_error(m, "bt x")


# -- breaks --------------------------------------------------------------------------------

SLOT = re.compile(r"^(\d+) (break|watch) +0x([0-9a-f]{16}) (\S+)(?: len (\d+) (w|rw))? hits (\d+)$")


def test_breaks_json_agrees_with_text(m):
    # None is hit while the machine idles: ap_main's entry ran at bring-up, the online
    # count is written only there (not rw: `watch` itself reads it for its message).
    m.cmd("delete all")
    try:
        assert m.cmd("breaks") == ["no breakpoints or watchpoints"]
        assert m.json("breaks") == {"breaks": []}
        m.cmd("break ap_main")
        m.cmd("watch smp::g_online_count")
        m.cmd("watch smp::g_online_count len 4 w")
        text = m.cmd("breaks")
        doc = m.json("breaks")
        assert set(doc) == {"breaks"} and len(doc["breaks"]) == len(text) == 3
        for ln, j in zip(text, doc["breaks"]):
            slot, kind, addr, sym, length, access, hits = SLOT.match(ln).groups()
            name, off = sym_plus(sym)
            assert (j["slot"], j["kind"], j["addr"], j["symbol"], j["offset"], j["hits"]) == (
                int(slot), kind, f"0x{addr}", name, off, int(hits))
            assert is_addr(j["addr"]) and is_int(j["hits"])
            if kind == "break":
                assert j["len"] is None and j["access"] is None
            else:
                assert (j["len"], j["access"]) == (int(length), access)
        assert [b["kind"] for b in doc["breaks"]] == ["break", "watch", "watch"]
        assert [(b["len"], b["access"]) for b in doc["breaks"][1:]] == [(8, "w"), (4, "w")]
        assert doc["breaks"][0]["addr"] == f"{symbols()['ap_main'][0]:#018x}"  # the ELF's address
    finally:
        m.cmd("delete all")
    assert m.json("breaks") == {"breaks": []}
    check_error(m, "breaks extra")


# -- stopped (kstop>): the views read what each CPU saved ----------------------------------

def json_any(m, line):
    out, prompt = m.cmd_any(kmon.json_line(line))
    assert prompt == STOP_PROMPT, out
    return kmon.parse_view(line, out)


def test_views_at_kstop_agree_with_text(m):
    """A breakpoint in the cross-call handler stops the machine with CPU 3 at kstop>:
    regs and bt of the stopped CPUs come from their saved frames in both forms."""
    m.cmd("delete all")
    m.cmd("break (anonymous namespace)::ping")
    m.send("ipi 3 1\r")
    m.child.expect_exact(STOP_PROMPT, timeout=60)
    try:
        for i in range(NCPUS):
            text, prompt = m.cmd_any(f"regs {i}")
            assert prompt == STOP_PROMPT
            check_regs(text, json_any(m, f"regs {i}"))
            text, _ = m.cmd_any(f"bt {i}")
            check_bt(text, json_any(m, f"bt {i}"))
        hit = json_any(m, "bt 3")["frames"][0]
        assert hit["symbol"] == "(anonymous namespace)::ping(void*, arch::TrapFrame const*)" and hit["offset"] == 0
        doc = json_any(m, "breaks")
        assert [b["hits"] for b in doc["breaks"]] == [1]
        # percpu: the stopped CPUs' gs_base is their slot, said so; the shell's CPU reads its own.
        for i in range(NCPUS):
            text, _ = m.cmd_any(f"percpu {i}")
            j = json_any(m, f"percpu {i}")
            check_percpu(percpu_text(text), j)
            assert (j["gs_base"], j["gs_base_note"]) == (j["base"], None if i == 3 else "stopped; its slot")
        # The running-CPU mode refuses the other CPUs while they are stopped.
        out, _ = m.cmd_any("lapic 1")
        assert len(out) == 1 and out[0].startswith("error: cpu 1 is stopped"), out
        # A command the stop shell refuses: refused in one JSON line too.
        out, _ = m.cmd_any("ipi -j 1")
        assert len(out) == 1 and json.loads(out[0]) == {
            "error": "'ipi' is not available while the other CPUs are stopped (read-only commands only)"}, out
    finally:
        m.cmd_any("delete all")
        out, prompt = m.cmd_any("continue")
    assert prompt == PROMPT and re.match(r"cpu 3 \(apic 3\): 1 round trips", out[-1]), out


# -- a CPU with interrupts off: answered by NMI ---------------------------------------------

def test_views_of_a_wedged_cpu(m):
    """CPU 2 spins with interrupts off (`wedge`): regs and bt are taken by NMI, said in
    `source` as in the text; ipi fails with one error line."""
    assert "interrupts off" in m.cmd("wedge 2")[0]
    try:
        j = m.json("regs 2")
        assert j["source"] == "taken on that cpu: nmi" and j["rip_symbol"] is not None
        text = m.cmd("bt 2")
        j = m.json("bt 2")
        assert j["source"] == "taken on that cpu: nmi" == bt_text(text)[0][2]
        assert j["frames"] and j["frames"][0]["exact"]
        check_error(m, "ipi 2 1")
    finally:
        m.cmd("wedge release")
    assert m.json("ipi 2 1")["round_trips"] == 1


# -- the CPU argument: one parser, each mode's messages as before ---------------------------

@pytest.mark.parametrize("line, message", [
    # listed (percpu, regs, ipi, wedge): any index the firmware listed
    ("regs x", "invalid cpu 'x' (a decimal index; see cpus)"),
    ("percpu 4", "no cpu 4 (there are 4)"),
    ("ipi 12", "no cpu 12 (there are 4)"),
    # stopped (bt): a CPU with a slot
    ("bt 4", "no cpu '4' (a decimal index below 4; see cpus)"),
    ("bt -1", "no cpu '-1' (a decimal index below 4; see cpus)"),
    # running (lapic, rdmsr, wrmsr): an online CPU
    ("lapic 4", "no cpu '4' (a decimal index below 4; see cpus)"),
    ("rdmsr z 0x10", "no cpu 'z' (a decimal index below 4; see cpus)"),
])
def test_cpu_argument_messages(m, line, message):
    assert m.cmd(line) == [f"error: {message}"]


# -- CPUs without a slot: the parts the text leaves out are null ----------------------------

def test_cpus_without_a_slot():
    """-smp 2,maxcpus=4: the MADT lists CPUs 2 and 3 disabled; they get no slot backed.
    percpu's text stops at gs_base for them, its JSON has the same members as for a live
    CPU with null; regs and bt refuse them with the text's messages; bt all skips them."""
    with Machine(Config(smp="2,maxcpus=4", mem="256M"), name="json-cpus-absent") as mach:
        mach.boot()
        t = mach.cmd("percpu 3")
        assert t[-1] == "gs_base: none (no slot backed)", t
        j = mach.json("percpu 3")
        live = mach.json("percpu 1")
        assert list(j) == list(live)  # the same members, in the same order
        assert (j["cpu"], j["state"], j["gs_base"], j["gs_base_note"]) == (3, "offline", None, "no slot backed")
        assert j["base"] == percpu_text(t)["base"] and is_addr(j["base"])
        assert all(j[k] is None for k in list(j)[list(j).index("self"):]), j
        doc = mach.json("percpu all")
        assert [c["cpu"] for c in doc["cpus"]] == [0, 1, 2, 3]
        assert [c["gs_base"] is None for c in doc["cpus"]] == [False, False, True, True]
        check_error(mach, "regs 3")
        check_error(mach, "bt 3")
        assert mach.cmd("bt 3") == ["error: cpu 3 has no slot (offline)"]
        assert [c["cpu"] for c in mach.json("bt all")["cpus"]] == [0, 1]


# -- the panic shell: every CPU's saved state ----------------------------------------------

def test_views_in_the_panic_shell():
    """`crash ud 1`: CPU 1 panics in a cross-call handler and serves kpanic>, CPU 0 is
    stopped by the panic NMI. regs, bt and percpu of both read what they saved, in both
    forms; CPU 1's chain crosses the trap frame, whose interrupted pc is exact."""
    with Machine(Config(smp="2", mem="256M"), name="json-cpus-panic") as mach:
        mach.boot()
        _, prompt = mach.cmd_any("crash ud 1")
        assert prompt == PANIC_PROMPT

        def both(line):
            text, p = mach.cmd_any(line)
            out, p2 = mach.cmd_any(kmon.json_line(line))
            assert p == p2 == PANIC_PROMPT, (line, text, out)
            return text, kmon.parse_view(line, out)

        sources = {}
        for i in range(2):
            text, j = both(f"regs {i}")
            check_regs(text, j)
            sources[i] = j["source"]
            text, j = both(f"bt {i}")
            check_bt(text, j)
            assert j["source"] == sources[i]
            text, j = both(f"percpu {i}")
            check_percpu(percpu_text(text), j)
            assert j["gs_base_note"] == (None if i == 1 else "stopped; its slot")
        assert sources == {0: "saved when stopped by the panic NMI", 1: "saved by this cpu when it took the exception"}
        frames = both("bt 1")[1]["frames"]
        assert frames[0]["symbol"].startswith("(anonymous namespace)::do_crash(")
        interrupted = [f for f in frames[1:] if f["exact"]]
        assert [f["symbol"] for f in interrupted] == ["ap_main"], frames  # where the IPI came in
        text, doc = both("bt all")
        assert len(doc["cpus"]) == len("\n".join(text).split("\n\n")) == 2
