#!/usr/bin/env python3
"""Emit the kernel's unwind table (debug::UnwindEntry rows, src/debug/backtrace.hpp) as a
NASM file for the .ksyms section, from the call-frame information in the first-stage
kernel ELF's .debug_frame: clang's CFI for the C++ and the hand-written CFI of the NASM
code (src/arch/cfi.inc).

Each FDE's program is run (DWARF 4, 6.4.2) to the rows of its table; a row keeps what
the kernel's unwinder needs: the CFA rule (rsp or rbp plus an offset) and the rules of
the return-address column, rbp and rsp. Anything this format cannot hold (a CFA register
other than rsp or rbp, an expression, offsets out of range) stops the build with the
function's address, rather than leaving a wrong row. Ranges no FDE covers get a no-info
row. Usage: gen_unwind.py <kernel.stage1.elf> <out.asm> [--dump]
"""
import struct
import sys

KERNEL_BASE = 0xFFFFFFFF80000000
RSP, RBP, RA = 7, 6, 16
# debug::UnwindEntry flags (src/debug/backtrace.hpp).
CFA_RBP, RBP_SAVED, RSP_SAVED, SIGNAL, END, NO_INFO = 1, 2, 4, 8, 16, 32


class CfiError(Exception):
    pass


def sections(data):
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx]
    names = data[strtab[4]:strtab[4] + strtab[5]]
    out = {}
    for h in hdrs:
        name = names[h[0]:names.index(b"\0", h[0])].decode()
        out[name] = data[h[4]:h[4] + h[5]]
    return out


def uleb(b, i):
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return v, i


def sleb(b, i):
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            if x & 0x40:
                v -= 1 << shift
            return v, i


class State:
    def __init__(self):
        self.cfa_reg, self.cfa_off = RSP, 8
        self.rules = {}  # reg -> ("offset", n) | ("same",) | ("undefined",)

    def copy(self):
        s = State()
        s.cfa_reg, s.cfa_off, s.rules = self.cfa_reg, self.cfa_off, dict(self.rules)
        return s

    def key(self):
        return (self.cfa_reg, self.cfa_off, self.rules.get(RA), self.rules.get(RBP), self.rules.get(RSP))


def run(prog, state, loc, caf, daf, initial, rows, where):
    """Runs a CFA program from `loc`; appends (address, State) rows."""
    i, stack = 0, []
    while i < len(prog):
        op = prog[i]
        i += 1
        hi, lo = op & 0xC0, op & 0x3F
        new_loc = None
        if hi == 0x40:
            new_loc = loc + lo * caf
        elif hi == 0x80:
            off, i = uleb(prog, i)
            state.rules[lo] = ("offset", off * daf)
        elif hi == 0xC0:
            state.rules.pop(lo, None)
            if lo in initial.rules:
                state.rules[lo] = initial.rules[lo]
        elif op == 0x00:
            pass
        elif op == 0x01:
            (new_loc,) = struct.unpack_from("<Q", prog, i)
            i += 8
        elif op in (0x02, 0x03, 0x04):
            n = {0x02: 1, 0x03: 2, 0x04: 4}[op]
            new_loc = loc + int.from_bytes(prog[i:i + n], "little") * caf
            i += n
        elif op in (0x05, 0x11):  # offset_extended(_sf)
            reg, i = uleb(prog, i)
            off, i = (uleb if op == 0x05 else sleb)(prog, i)
            state.rules[reg] = ("offset", off * daf)
        elif op == 0x06:  # restore_extended
            reg, i = uleb(prog, i)
            state.rules.pop(reg, None)
            if reg in initial.rules:
                state.rules[reg] = initial.rules[reg]
        elif op == 0x07:
            reg, i = uleb(prog, i)
            state.rules[reg] = ("undefined",)
        elif op == 0x08:
            reg, i = uleb(prog, i)
            state.rules[reg] = ("same",)
        elif op == 0x09:  # register: reg2 holds reg's value
            reg, i = uleb(prog, i)
            reg2, i = uleb(prog, i)
            state.rules[reg] = ("register", reg2)
        elif op == 0x0A:
            stack.append(state.copy())
        elif op == 0x0B:
            if not stack:
                raise CfiError(f"{where}: DW_CFA_restore_state without remember_state")
            r = stack.pop()
            state.cfa_reg, state.cfa_off, state.rules = r.cfa_reg, r.cfa_off, r.rules
        elif op in (0x0C, 0x12):  # def_cfa(_sf)
            state.cfa_reg, i = uleb(prog, i)
            if op == 0x0C:
                state.cfa_off, i = uleb(prog, i)
            else:
                off, i = sleb(prog, i)
                state.cfa_off = off * daf
        elif op == 0x0D:
            state.cfa_reg, i = uleb(prog, i)
        elif op in (0x0E, 0x13):
            if op == 0x0E:
                state.cfa_off, i = uleb(prog, i)
            else:
                off, i = sleb(prog, i)
                state.cfa_off = off * daf
        elif op in (0x0F, 0x10, 0x16):  # def_cfa_expression, expression, val_expression
            reg = None
            if op != 0x0F:
                reg, i = uleb(prog, i)
            n, i = uleb(prog, i)
            i += n
            if op == 0x0F:
                state.cfa_reg = None
            else:
                state.rules[reg] = ("expression",)
        elif op in (0x14, 0x15):  # val_offset(_sf)
            reg, i = uleb(prog, i)
            off, i = (uleb if op == 0x14 else sleb)(prog, i)
            state.rules[reg] = ("val_offset", off * daf)
        elif op == 0x2E:  # GNU_args_size
            _, i = uleb(prog, i)
        else:
            raise CfiError(f"{where}: unknown call-frame instruction 0x{op:02x}")
        if new_loc is not None:
            if new_loc <= loc and rows and rows[-1][0] == loc:
                raise CfiError(f"{where}: a row at 0x{new_loc:x} does not follow 0x{loc:x}")
            rows.append((loc, state.copy()))
            loc = new_loc
    return loc


def parse(debug_frame):
    b = debug_frame
    cies, fdes = {}, []
    off = 0
    while off < len(b):
        (length,) = struct.unpack_from("<I", b, off)
        if length == 0xFFFFFFFF:
            raise CfiError("64-bit DWARF .debug_frame is not supported")
        if length == 0:
            off += 4
            continue
        body, end = off + 4, off + 4 + length
        (cie_id,) = struct.unpack_from("<I", b, body)
        if cie_id == 0xFFFFFFFF:
            i = body + 4
            version = b[i]
            i += 1
            aug_end = b.index(b"\0", i)
            aug = b[i:aug_end].decode()
            i = aug_end + 1
            if version >= 4:
                i += 2  # address size, segment selector size
            caf, i = uleb(b, i)
            daf, i = sleb(b, i)
            if version == 1:
                ra = b[i]
                i += 1
            else:
                ra, i = uleb(b, i)
            if ra != RA:
                raise CfiError(f"CIE at 0x{off:x}: return address column {ra}, not {RA}")
            if aug not in ("", "S"):
                raise CfiError(f"CIE at 0x{off:x}: augmentation {aug!r} not supported")
            cies[off] = dict(caf=caf, daf=daf, signal="S" in aug, prog=b[i:end])
        else:
            pc, rng = struct.unpack_from("<QQ", b, body + 4)
            fdes.append(dict(cie=cie_id, pc=pc, end=pc + rng, prog=b[body + 20:end]))
        off = end
    return cies, fdes


def fde_rows(cie, fde):
    where = f"FDE for 0x{fde['pc']:x}"
    init = State()
    init.cfa_reg, init.cfa_off = None, 0
    scratch = []
    run(cie["prog"], init, fde["pc"], cie["caf"], cie["daf"], State(), scratch, where)
    state = init.copy()
    rows = []
    loc = run(fde["prog"], state, fde["pc"], cie["caf"], cie["daf"], init, rows, where)
    rows.append((loc, state.copy()))
    return [(a, s) for a, s in rows if a < fde["end"]]


def encode(addr, s, signal, where):
    ra = s.rules.get(RA, ("undefined",) if signal else None)
    flags = SIGNAL if signal else 0
    if ra == ("undefined",):
        return (addr, 0, 0, 0, 0, flags | END)
    if s.cfa_reg not in (RSP, RBP):
        raise CfiError(f"{where}: CFA register {s.cfa_reg} (only rsp and rbp)")
    if ra is None or ra[0] != "offset":
        raise CfiError(f"{where}: return address rule {ra}")
    if s.cfa_reg == RBP:
        flags |= CFA_RBP
    rbp_off = 0
    rbp = s.rules.get(RBP, ("same",))
    if rbp[0] == "offset":
        flags |= RBP_SAVED
        rbp_off = rbp[1]
    elif rbp[0] not in ("same", "undefined"):
        raise CfiError(f"{where}: rbp rule {rbp}")
    rsp8 = 0
    rsp = s.rules.get(RSP)
    if rsp is not None:
        if rsp[0] != "offset" or rsp[1] % 8:
            raise CfiError(f"{where}: rsp rule {rsp}")
        flags |= RSP_SAVED
        rsp8 = rsp[1] // 8
    for v, lim in ((s.cfa_off, 1 << 15), (ra[1], 1 << 15), (rbp_off, 1 << 15), (rsp8, 1 << 7)):
        if not -lim <= v < lim:
            raise CfiError(f"{where}: offset {v} out of range")
    return (addr, s.cfa_off, ra[1], rbp_off, rsp8, flags)


def build(elf_path):
    data = open(elf_path, "rb").read()
    secs = sections(data)
    if ".debug_frame" not in secs:
        raise CfiError(f"{elf_path} has no .debug_frame (is -g given?)")
    cies, fdes = parse(secs[".debug_frame"])
    fdes.sort(key=lambda f: f["pc"])
    rows = []
    for fde in fdes:
        if fde["pc"] == fde["end"]:
            continue
        if fde["pc"] < KERNEL_BASE:
            continue  # the 32-bit boot code at its load address: never unwound through
        if fde["cie"] not in cies:
            raise CfiError(f"FDE for 0x{fde['pc']:x}: no CIE at 0x{fde['cie']:x}")
        cie = cies[fde["cie"]]
        if rows and rows[-1][0] > fde["pc"]:
            raise CfiError(f"FDEs overlap at 0x{fde['pc']:x}")
        if rows and rows[-1][-1] is not None and rows[-1][-1] < fde["pc"]:
            rows.append((rows[-1][-1], 0, 0, 0, 0, NO_INFO, None))  # a gap between two FDEs
        for addr, s in fde_rows(cie, fde):
            rows.append(encode(addr, s, cie["signal"], f"0x{addr:x}") + (None,))
        rows[-1] = rows[-1][:-1] + (fde["end"],)
    if rows:
        rows.append((rows[-1][-1], 0, 0, 0, 0, NO_INFO, None))
    # Consecutive rows with the same rules are one row.
    out = []
    for r in rows:
        if out and out[-1][1:6] == r[1:6]:
            continue
        out.append(r[:6])
    return out


def main():
    elf, dst = sys.argv[1], sys.argv[2]
    try:
        rows = build(elf)
    except CfiError as e:
        sys.exit(f"gen_unwind.py: {elf}: {e}")
    with open(dst, "w") as f:
        f.write("; generated by scripts/gen_unwind.py: debug::UnwindEntry rows (src/debug/backtrace.hpp)\n")
        f.write("section .ksyms progbits alloc noexec nowrite align=8\n")
        f.write("global kunwind_count, kunwind_table\n")
        f.write(f"kunwind_count: dq {len(rows)}\n")
        f.write("kunwind_table:\n")
        for addr, cfa, ra, rbp, rsp8, flags in rows:
            f.write(f"    dd 0x{addr - KERNEL_BASE:x}\n    dw {cfa}, {ra}, {rbp}\n    db {rsp8}, {flags}\n")
    if "--dump" in sys.argv:
        for addr, cfa, ra, rbp, rsp8, flags in rows:
            print(f"{addr:016x} cfa={'rbp' if flags & CFA_RBP else 'rsp'}+{cfa} ra={ra} rbp={rbp} rsp8={rsp8} flags={flags:#x}")


if __name__ == "__main__":
    main()
