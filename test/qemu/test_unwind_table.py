"""The kernel's unwind table (scripts/gen_unwind.py, linked into .ksyms) against the ELF's
call-frame information as llvm-dwarfdump reads it: every row llvm-dwarfdump computes from
.debug_frame must be the row the kernel's unwinder uses at that address (CFA rule, where
the return address, rbp and rsp are), and trap frames (CIE augmentation "S") must be
marked as such. No QEMU: the oracle is LLVM's own CFI interpreter."""
import re
import subprocess
import sys

from machine import ELF, ROOT

CFA_RBP, RBP_SAVED, RSP_SAVED, SIGNAL, END, NO_INFO = 1, 2, 4, 8, 16, 32


def dwarfdump_rows():
    """[(address, cfa_reg, cfa_off, {reg: rule}, signal)] for every row llvm-dwarfdump prints."""
    out = subprocess.run(["llvm-dwarfdump", "--debug-frame", str(ELF)], capture_output=True, text=True,
                         check=True).stdout
    cies, rows, cie_of = {}, [], None
    for block in out.split("\n\n"):
        m = re.match(r"\s*([0-9a-f]{8}) [0-9a-f]{8} ffffffff CIE", block)
        if m:
            aug = re.search(r'Augmentation:\s+"([^"]*)"', block)
            cies[m.group(1)] = aug.group(1) if aug else ""
            continue
        m = re.match(r"\s*[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} FDE cie=([0-9a-f]{8})", block)
        if m:
            cie_of = m.group(1)
            continue
        for ln in block.splitlines():
            r = re.match(r"\s*0x([0-9a-f]+): CFA=(RSP|RBP)([+-]\d+)(?:: (.*))?$", ln)
            if not r:
                continue
            rules = {}
            for part in (r.group(4) or "").split(", "):
                mm = re.match(r"(\w+)=(?:\[CFA([+-]\d+)?\]|(same|undefined))$", part)
                if mm:
                    rules[mm.group(1)] = int(mm.group(2) or 0) if mm.group(2) is not None or not mm.group(3) \
                        else mm.group(3)
            rows.append((int(r.group(1), 16), r.group(2), int(r.group(3)), rules, "S" in cies.get(cie_of, "")))
    return rows


def kernel_rows():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_unwind.py"), str(ELF), "/dev/null", "--dump"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for ln in out.splitlines():
        m = re.match(r"([0-9a-f]{16}) cfa=(rsp|rbp)\+(-?\d+) ra=(-?\d+) rbp=(-?\d+) rsp8=(-?\d+) flags=0x([0-9a-f]+)", ln)
        rows.append((int(m.group(1), 16), m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                     int(m.group(6)), int(m.group(7), 16)))
    return rows


def covering(rows, addr):
    lo, hi = 0, len(rows)
    while lo < hi:
        mid = (lo + hi) // 2
        if rows[mid][0] <= addr:
            lo = mid + 1
        else:
            hi = mid
    return rows[lo - 1] if lo else None


def test_every_cfi_row_is_the_kernels_row():
    ours = kernel_rows()
    theirs = [r for r in dwarfdump_rows() if r[0] >= 0xFFFFFFFF80000000]
    assert len(theirs) > 1000, "llvm-dwarfdump printed few rows: is .debug_frame there?"
    wrong = []
    for addr, reg, off, rules, signal in theirs:
        k = covering(ours, addr)
        if k is None:
            wrong.append(f"0x{addr:x}: no row")
            continue
        _, kreg, koff, ra, rbp, rsp8, flags = k
        rip = rules.get("RIP")
        if rip == "undefined":
            if not flags & END:
                wrong.append(f"0x{addr:x}: RIP undefined but no END flag")
            continue
        exp = []
        if kreg != reg.lower() or koff != off:
            exp.append(f"CFA {reg}{off:+} vs {kreg}{koff:+}")
        if rip != ra:
            exp.append(f"RIP at CFA{rip:+} vs {ra:+}")
        rbp_rule = rules.get("RBP", "same")
        if isinstance(rbp_rule, int) != bool(flags & RBP_SAVED) or (isinstance(rbp_rule, int) and rbp_rule != rbp):
            exp.append(f"RBP {rbp_rule} vs flags {flags:#x} off {rbp}")
        rsp_rule = rules.get("RSP")
        if isinstance(rsp_rule, int) != bool(flags & RSP_SAVED) or (isinstance(rsp_rule, int) and rsp_rule != rsp8 * 8):
            exp.append(f"RSP {rsp_rule} vs flags {flags:#x} off {rsp8 * 8}")
        if signal != bool(flags & SIGNAL):
            exp.append(f"signal frame {signal} vs flags {flags:#x}")
        if exp:
            wrong.append(f"0x{addr:x}: " + "; ".join(exp))
    assert not wrong, "\n".join(wrong[:40])


def test_the_interrupt_stubs_and_entry_points_are_described():
    """The NASM code has CFI (arch/cfi.inc): isr_common and every stub are trap frames, the
    entry points end the chain, and no kernel text address lacks a row."""
    ours = kernel_rows()
    syms = {}
    for ln in subprocess.run(["llvm-nm", str(ELF)], capture_output=True, text=True, check=True).stdout.splitlines():
        p = ln.split()
        if len(p) == 3:
            syms[p[2]] = int(p[0], 16)
    for name in ("isr_common", "isr_stub_2", "isr_stub_14", "call_with_frame_on_frame"):
        assert covering(ours, syms[name] + 1)[6] & SIGNAL, name
    for name in ("ap_long_entry", "higher_half", "start_on_stack"):
        assert covering(ours, syms[name] + 1)[6] & END, name
    assert not covering(ours, syms["guarded_call"] + 1)[6] & NO_INFO
