# gdb helpers for the kernel (sourced by gdb/kernel.gdb; needs gdb built with Python).
#
# Everything here is computed from guest memory and registers read through gdb, never by
# asking the kernel: the page walk starts at the vCPU's CR3 and reads the tables through
# the direct map (g_kernel_layout.direct_map_base + pa), the same way the monitor reads them.
#
# Commands (same output lines as the monitor commands of the same name, see
# src/monitor/cmd_*.cpp and src/mm/pt_walk.cpp):
#   kcpus                 cpus
#   kpercpu <n>|all       percpu <n>|all   (gs_base: the vCPU's IA32_GS_BASE register)
#   kpml4 [cr3]           pml4 [cr3]
#   kwalk <va>            walk <va>        (va: hex as the monitor takes it, or a gdb expression)
#   kphysmap              physmap
# and:
#   kbt <n> [bt args]     backtrace of kernel CPU n (switches to its vCPU thread and back)
#   kcpu <n>              select the gdb thread (vCPU) of kernel CPU n
#   kthreads              gdb thread <-> kernel CPU index / APIC ID map
#   ktramp [break]        the AP trampoline: page, labels; `break` sets hbreaks in it
#   kdis16/kdis32 <addr> [n]  disassemble real-mode / 32-bit code (objdump; gdb's
#                         architecture is fixed to x86-64 by QEMU's target description)
# Convenience functions:
#   $percpu(n)            CPU n's smp::PerCpu (typed value), like Linux's $lx_per_cpu
#   $percpu()             the selected vCPU's PerCpu (through its gs_base)
#   $cpu_index()          kernel CPU index of the selected vCPU (-1 if not in the kernel yet)

import atexit
import os
import re
import shutil
import struct
import subprocess
import tempfile

import gdb

# --------------------------------------------------------------------------------------
# The kernel's constants, all read from build/kernel.elf (none copied here):
# - the layout: g_kernel_layout (src/mm/layout_export.cpp), KCONFIG settings applied;
# - page-table bits, page sizes, the user half, the trampoline page: g_kernel_consts
#   (src/export/gdb_export.cpp, built from arch/pte.hpp, mm/layout.hpp, smp/trampoline_layout.h);
# - enum names (smp::CpuState, mm::MemType, mm::Purpose, arch::lapic::Mode) and struct offsets
#   (smp::TrampolineData) from DWARF, through gdb.lookup_type;
# - the stack paint: smp::(anonymous namespace)::kStackPaint (smp/percpu.cpp) from DWARF.
# load_constants() fills the globals below once the ELF is loaded (kmon_setup, and again
# before each command if another ELF was loaded).

IST_NAMES = ("#DF", "NMI", "#MC")  # the monitor's labels for IST1-3 (cmd_cpus.cpp)

# The monitor's spelling of an enumerator where it is not the enumerator's name in lower
# case (mm::purpose_name, arch::lapic::mode_name); the names and values come from DWARF.
ENUM_SPELLING = {"PageTable": "page-tables", "Stack": "stacks",
                 "X2apicKernel": "x2apic", "X2apicFirmware": "x2apic(fw)"}

_loaded = None


def kernel_layout(field):
    """A field of g_kernel_layout (src/mm/layout_export.cpp): the layout as the loaded
    build has it, KCONFIG settings applied."""
    return u64(ev("g_kernel_layout.%s" % field))


def kernel_const(field):
    """A field of g_kernel_consts (src/export/gdb_export.cpp)."""
    return u64(ev("g_kernel_consts.%s" % field))


def regions():
    """(label, start, end exclusive; 0 = top), mm::layout::kRegions in order."""
    return (
        ("user", USER_BASE, USER_END),
        ("directmap", kernel_layout("direct_map_base"), kernel_layout("direct_map_end")),
        ("percpu", kernel_layout("percpu_base"), kernel_layout("percpu_end")),
        ("kernel", kernel_layout("kernel_base"), kernel_layout("kernel_end")),
        ("devices", kernel_layout("device_base"), 0),
    )


def enum_names(type_name):
    """{value: the monitor's spelling} for the enumerators of a C++ enum, from DWARF."""
    t = gdb.lookup_type(type_name).strip_typedefs()
    return {int(f.enumval): ENUM_SPELLING.get(f.name.split("::")[-1], f.name.split("::")[-1].lower())
            for f in t.fields()}


def field_offset(type_name, field):
    """Byte offset of a member, from DWARF."""
    for f in gdb.lookup_type(type_name).strip_typedefs().fields():
        if f.name == field:
            return f.bitpos // 8
    raise KError("%s has no member %s" % (type_name, field))


def load_constants(force=False):
    global _loaded, DIRECT_MAP_BASE, DIRECT_MAP_END, PERCPU_BASE, PAGE, PML4_SPAN, LINEAR_TOP, LINEAR_MASK
    global PHYS_TOP, PAGE_SHIFT, INDEX_BITS, SIZE_NAMES, STACK_PAINT, CPU_STATES, MEM_TYPES, PURPOSES
    global LAPIC_MODES, P, W, U, PWT, PCD, A, D, PS, G, NX, ADDR, ADDR_2M, ADDR_1G, RSVD_2M, RSVD_1G
    global USER_BASE, USER_END, TRAMP_SIZE, TRAMP_DATA, TRAMP_PM32_OFF, TRAMP_LM64_OFF
    objfile = gdb.objfiles()[0].filename if gdb.objfiles() else None
    if _loaded == objfile and objfile is not None and not force:
        return
    try:
        DIRECT_MAP_BASE = kernel_layout("direct_map_base")
        DIRECT_MAP_END = kernel_layout("direct_map_end")
        PERCPU_BASE = kernel_layout("percpu_base")
        c = kernel_const
        P, W, U, PWT, PCD = c("pte_present"), c("pte_write"), c("pte_user"), c("pte_pwt"), c("pte_pcd")
        A, D, PS, G, NX = c("pte_accessed"), c("pte_dirty"), c("pte_page_size"), c("pte_global"), c("pte_no_execute")
        ADDR, ADDR_2M, ADDR_1G = c("pte_addr"), c("pte_addr_2m"), c("pte_addr_1g")
        RSVD_2M, RSVD_1G = c("pte_rsvd_2m"), c("pte_rsvd_1g")
        PAGE, PML4_SPAN = c("page_size"), c("pml4_span")
        PAGE_SHIFT = PAGE.bit_length() - 1
        INDEX_BITS = c("pte_entries").bit_length() - 1  # address bits translated per level
        LINEAR_TOP = PML4_SPAN * c("pte_entries")  # 4-level paging: the linear address width
        LINEAR_MASK = LINEAR_TOP - 1
        PHYS_TOP = (ADDR | (PAGE - 1)) + 1  # one past what an entry's address field can hold
        SIZE_NAMES = {c("huge_page_size"): "1G", c("large_page_size"): "2M", PAGE: "4K"}
        USER_BASE, USER_END = c("user_base"), c("user_end")
        TRAMP_SIZE, TRAMP_DATA = c("trampoline_size"), c("trampoline_data")
        TRAMP_PM32_OFF = TRAMP_DATA + field_offset("smp::TrampolineData", "pm32_off_in_page")
        TRAMP_LM64_OFF = TRAMP_DATA + field_offset("smp::TrampolineData", "lm64_off_in_page")
        STACK_PAINT = u64(ev("'smp::(anonymous namespace)::kStackPaint'"))
        CPU_STATES = enum_names("smp::CpuState")
        MEM_TYPES = enum_names("mm::MemType")
        PURPOSES = enum_names("mm::Purpose")
        LAPIC_MODES = enum_names("arch::lapic::Mode")
    except gdb.error as e:
        raise KError("cannot read the kernel's constants: %s (is build/kernel.elf loaded?)" % e)
    _loaded = objfile


class KError(Exception):
    """A one-line error printed as `error: ...`, as the monitor would."""


# --------------------------------------------------------------------------------------
# Reading the guest


def u64(v):
    return int(v) & 0xFFFFFFFFFFFFFFFF


def ev(expr):
    return gdb.parse_and_eval(expr)


def read(addr, n):
    """Bytes at a virtual address, through the selected vCPU's page tables."""
    return bytes(gdb.selected_inferior().read_memory(addr, n))


def read64(addr):
    return struct.unpack("<Q", read(addr, 8))[0]


def phys_read(pa, n):
    """Physical memory through the direct map, as the kernel's mm::kvm::phys() reads it;
    None where it is not readable (not direct-mapped, or an address that overflows)."""
    if pa < 0 or pa + n > PHYS_TOP or DIRECT_MAP_BASE + pa + n > DIRECT_MAP_END:
        return None
    try:
        return read(DIRECT_MAP_BASE + pa, n)
    except gdb.MemoryError:
        return None


def reg(name, thread=None):
    """A register of the selected (or given) thread, as an unsigned 64-bit int."""
    if thread is None or thread == gdb.selected_thread():
        return u64(gdb.selected_frame().read_register(name)) if _has_frame() else u64(ev("$" + name))
    old = gdb.selected_thread()
    try:
        thread.switch()
        return u64(ev("$" + name))
    finally:
        old.switch()


def _has_frame():
    try:
        gdb.selected_frame()
        return True
    except gdb.error:
        return False


def sym_value(*names):
    """The first of several spellings of a variable that gdb can find."""
    last = None
    for n in names:
        try:
            return ev(n)
        except gdb.error as e:
            last = e
    raise KError("cannot read %s: %s (is build/kernel.elf loaded?)" % (names[0], last))


def sym_addr(name):
    return u64(ev("(unsigned long)&%s" % name))


def enum_name(v, names):
    return names.get(int(v), "?")


def cpu_count():
    return int(sym_value("smp::g_cpu_count"))


def cpu_entry(i):
    return sym_value("smp::g_cpus")[i]


def slot_size():
    # mm::layout::percpu_slot(i) = kPerCpuBase + i * kPerCpuSlotSize.
    return kernel_layout("percpu_slot_size")


def percpu_slot(i):
    return (PERCPU_BASE + i * slot_size()) & 0xFFFFFFFFFFFFFFFF


def tsc_hz():
    return u64(sym_value("'arch::tsc::(anonymous namespace)::g_hz'", "arch::tsc::g_hz"))


def ticks_to_us(t):
    hz = tsc_hz()
    # arch::tsc::mul_div, bit for bit (64-bit wrap included).
    return ((t // hz) * 1000000 + ((t % hz) * 1000000 & 0xFFFFFFFFFFFFFFFF) // hz) & 0xFFFFFFFFFFFFFFFF


def arrival_us(e):
    origin = u64(sym_value("smp::g_bringup")["first_init_tsc"])
    a = u64(e["arrival_tsc"])
    if a == 0 or origin == 0 or a < origin:
        return 0
    return ticks_to_us(a - origin)


def atomic(v):
    """The value inside a lib::Atomic<T> (src/lib/atomic.hpp: its member `v`); v itself
    for a plain field."""
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT and any(f.name == "v" for f in t.fields()):
        return v["v"]
    return v


def entry_state(e):
    p = u64(e["percpu"])
    return atomic(e["percpu"].dereference()["state"]) if p else e["state"]


# --------------------------------------------------------------------------------------
# vCPUs (gdb threads) <-> kernel CPUs

def vcpu_threads():
    inf = gdb.selected_inferior()
    return sorted(inf.threads(), key=lambda t: t.num)


def qemu_cpu_index(thread):
    """QEMU's cpu_index: its gdbstub numbers threads cpu_index + 1 (ptid (1, n, 0))."""
    pid, lwp, tid = thread.ptid
    return (lwp or tid or thread.num) - 1


def thread_percpu_index(thread):
    """Kernel CPU index of a vCPU from its IA32_GS_BASE: gs_base points at its PerCpu,
    whose `self` is that same address; None if the vCPU is not on a slot yet."""
    try:
        gs = reg("gs_base", thread)
    except gdb.error:
        return None
    if gs < PERCPU_BASE or gs >= kernel_layout("percpu_end"):
        return None
    try:
        if read64(gs) != gs:
            return None
        idx = read64(gs + 8)
    except gdb.MemoryError:
        return None
    return idx if idx < cpu_count() else None


def cpu_map():
    """{kernel CPU index: gdb thread}. A vCPU on its slot is identified by gs_base ->
    PerCpu.index; any other vCPU by QEMU's numbering: MADT processor UID = cpu_index =
    gdb thread number - 1 (QEMU's build_madt)."""
    out = {}
    threads = vcpu_threads()
    by_uid = {}
    n = cpu_count()
    for i in range(n):
        by_uid[int(cpu_entry(i)["acpi_uid"])] = i
    pending = []
    for t in threads:
        idx = thread_percpu_index(t)
        if idx is not None and idx not in out:
            out[idx] = t
        else:
            pending.append(t)
    for t in pending:
        idx = by_uid.get(qemu_cpu_index(t))
        if idx is not None and idx not in out:
            out[idx] = t
    return out


def thread_of_cpu(n):
    t = cpu_map().get(n)
    if t is None:
        raise KError("no vCPU (gdb thread) found for cpu %d" % n)
    return t


def parse_cpu(arg):
    s = arg.strip()
    try:
        i = int(s, 10)
    except ValueError:
        try:
            i = int(ev(s))
        except gdb.error:
            raise KError("invalid cpu '%s' (a decimal index; see cpus)" % s)
    n = cpu_count()
    if i < 0 or i >= n:
        raise KError("no cpu %d (there are %d)" % (i, n))
    return i


def parse_address(arg):
    """The monitor's parse_address (hex by default, 0x optional, _ and ` separators);
    anything else is evaluated as a gdb expression ($rsp, &smp::g_cpus, ...)."""
    s = arg.strip()
    t = s[2:] if s[:2] in ("0x", "0X") else s
    t = t.replace("_", "").replace("`", "")
    if t and re.fullmatch(r"[0-9a-fA-F]+", t):
        v = int(t, 16)
        if v >= 1 << 64:
            raise KError("invalid address '%s'" % s)
        return v
    try:
        return u64(ev(s))
    except gdb.error:
        raise KError("invalid address '%s'" % s)


# --------------------------------------------------------------------------------------
# Page tables (src/mm/pt_walk.cpp)

LEVEL_NAMES = {4: "pml4", 3: "pdpt", 2: "pd", 1: "pt"}


def raw_flags(e):
    letters = "PWUTCADSGN"
    masks = (P, W, U, PWT, PCD, A, D, PS, G, NX)
    return "".join(c if e & m else "-" for c, m in zip(letters, masks))


def canonical(a):
    return (a | ~LINEAR_MASK) & 0xFFFFFFFFFFFFFFFF if a & (LINEAR_TOP >> 1) else a


def is_canonical(va):
    return canonical(va & LINEAR_MASK) == va


def span_of(level):
    return 1 << (PAGE_SHIFT + INDEX_BITS * (level - 1))


def index_of(va, level):
    return (va >> (PAGE_SHIFT + INDEX_BITS * (level - 1))) & ((1 << INDEX_BITS) - 1)


def labels(start, end):
    out = []
    for name, s, e in regions():
        rs, re_ = s & LINEAR_MASK, e & LINEAR_MASK
        if re_ == 0:
            re_ = LINEAR_TOP
        if rs < end and start < re_:
            out.append(name)
    return ",".join(out) if out else "unused"


def walk_lines(cr3, va):
    """mm::walk + mm::format_walk."""
    lines = []
    if not is_canonical(va):
        return ["error: 0x%016x is not canonical" % va]
    table = cr3 & ADDR
    write = user = exe = True
    last = None
    for level in (4, 3, 2, 1):
        idx = index_of(va, level)
        raw = phys_read(table + idx * 8, 8)
        if raw is None:
            lines.append("error: 0x%016x not mapped (%s table at 0x%016x unreadable)"
                         % (va, LEVEL_NAMES[level], table))
            return lines
        e = struct.unpack("<Q", raw)[0]
        lines.append("%s[%d] 0x%016x %s" % (LEVEL_NAMES[level], idx, e, raw_flags(e)))
        last = (level, idx)
        if not e & P:
            lines.append("error: 0x%016x not mapped (%s[%d] not present)" % (va, LEVEL_NAMES[level], idx))
            return lines
        ps = bool(e & PS)
        if (level == 4 and ps) or (level == 3 and ps and e & RSVD_1G) or (level == 2 and ps and e & RSVD_2M):
            lines.append("error: 0x%016x not mapped (%s[%d] has reserved bits set)"
                         % (va, LEVEL_NAMES[level], idx))
            return lines
        write = write and bool(e & W)
        user = user and bool(e & U)
        exe = exe and not e & NX
        if level == 1 or ps:
            size = span_of(level)
            frame = e & (ADDR_1G if level == 3 else ADDR_2M if level == 2 else ADDR)
            pa = frame | (va & (size - 1))
            sz = SIZE_NAMES[size]
            lines.append("0x%016x -> 0x%016x %s r%s%s%s" % (va, pa, sz, "w" if write else "-",
                                                           "x" if exe else "-", "u" if user else "k"))
            return lines
        table = e & ADDR
    return lines


def translate(cr3, va):
    """(pa, page size) or None: the translation walk_lines prints."""
    for line in walk_lines(cr3, va):
        m = re.match(r"0x[0-9a-f]{16} -> 0x([0-9a-f]{16}) (\w+)", line)
        if m:
            return int(m.group(1), 16), m.group(2)
    return None


def pml4_lines(cr3):
    """mm::format_pml4."""
    pml4 = cr3 & ADDR
    t = phys_read(pml4, PAGE)
    if t is None:
        return ["error: PML4 at 0x%016x unreadable" % pml4]
    lines = ["PML4 at 0x%016x: index va entry flags regions" % pml4]
    for i, e in enumerate(struct.unpack("<%dQ" % (PAGE // 8), t)):
        if not e & P:
            continue
        raw = i * PML4_SPAN
        s = "%d 0x%016x 0x%016x %s %s" % (i, canonical(raw), e, raw_flags(e), labels(raw, raw + PML4_SPAN))
        if e & PS:
            s += " !RSVD"
        lines.append(s)
    return lines


# --------------------------------------------------------------------------------------
# The monitor commands' output


def lapic_column(e, st):
    # As cmd_cpus.cpp: the mode a CPU's APIC was left in, once it ran kernel code.
    if u64(e["percpu"]) == 0 or st in ("offline", "starting", "failed"):
        return "-"
    return enum_name(e["percpu"].dereference()["apic_mode"], LAPIC_MODES)


def cpus_lines():
    """cmd_cpus."""
    lines = ["index apic state   slot               arrival_us  lapic      uid"]
    n = cpu_count()
    for i in range(n):
        e = cpu_entry(i)
        st = enum_name(entry_state(e), CPU_STATES)
        lines.append("%-5d %-4d %-7s 0x%016x %-11d %-10s %d%s" % (
            i, int(e["apic_id"]), st, percpu_slot(i), 0 if i == 0 else arrival_us(e), lapic_column(e, st),
            int(e["acpi_uid"]), " (bootstrap)" if i == 0 else ""))
    noslot = sym_value("smp::g_noslot")
    for k in range(int(sym_value("smp::g_noslot_count"))):
        c = noslot[k]
        lines.append("%-5d %-4d %-7s %-18s %-11s %-10s %d" % (
            n + k, int(c["apic_id"]), "noslot" if bool(c["enabled"]) else "offline", "-", "-", "-",
            int(c["acpi_uid"])))
    return lines


def panic_state():
    """(in the panic shell, index of the CPU running it)."""
    try:
        shell = bool(int(ev("'monitor::(anonymous namespace)::g_panic_shell'")))
    except gdb.error:
        return False, None
    try:
        pc = u64(ev("'arch::(anonymous namespace)::g_panic_cpu'"))
    except gdb.error:
        pc = None
    return shell, pc


def percpu_lines(i, cmap=None):
    """print_percpu. gs_base is the vCPU's IA32_GS_BASE register, read by gdb (the monitor
    has the CPU read its own MSR through a cross-CPU call, which gives the same value)."""
    e = cpu_entry(i)
    p = u64(e["percpu"])
    st = enum_name(entry_state(e), CPU_STATES)
    lines = ["cpu: %d" % i, "apic: %d" % int(e["apic_id"]), "state: %s" % st, "base: 0x%016x" % percpu_slot(i)]
    if not p:
        lines.append("gs_base: none (no slot backed)")
        return lines
    pc = e["percpu"].dereference()
    shell, panic_cpu = panic_state()
    cmap = cpu_map() if cmap is None else cmap
    if shell and i != panic_cpu:
        lines.append("gs_base: 0x%016x (stopped; its slot)" % u64(pc["self"]))
    elif not shell and st != "online":
        lines.append("gs_base: unavailable (no such cpu)")  # xcall refuses a CPU not online
    elif i not in cmap:
        lines.append("gs_base: unavailable (no vcpu)")
    else:
        lines.append("gs_base: 0x%016x" % reg("gs_base", cmap[i]))
    lines.append("self: 0x%016x" % u64(pc["self"]))
    lo, hi = u64(pc["stack_lo"]), u64(pc["stack_hi"])
    lines.append("stack: 0x%016x-0x%016x" % (lo, hi))
    used = 0
    try:
        words = struct.unpack("<%dQ" % ((hi - lo) // 8), read(lo, hi - lo))
        k = 0
        while k < len(words) and words[k] == STACK_PAINT:
            k += 1
        used = (len(words) - k) * 8
    except (gdb.MemoryError, struct.error):
        pass
    lines.append("stack_used: %d of %d bytes (high-water mark)" % (used, hi - lo))
    for k in range(3):
        lines.append("ist%d: 0x%016x-0x%016x %s" % (k + 1, u64(pc["ist_lo"][k]), u64(pc["ist_hi"][k]), IST_NAMES[k]))
    lines.append("arrival_us: %d" % (0 if i == 0 else arrival_us(e)))
    lines.append("ipis: %d" % u64(atomic(pc["ipis"])))
    lines.append("nmis: %d" % u64(atomic(pc["nmis"])))
    lines.append("exceptions: %d" % u64(atomic(pc["exceptions"])))
    return lines


def physmap_lines():
    """cmd_physmap."""
    m = sym_value("boot::g_firmware_map")
    lines = []
    usable = 0
    for k in range(int(m["count_"])):
        r = m["ranges_"][k]
        s, e, t = u64(r["start"]), u64(r["end"]), enum_name(r["type"], MEM_TYPES)
        if t == "usable":
            usable += e - s
        lines.append("0x%016x-0x%016x %s" % (s, e, t))
    lines.append("kernel use of physical memory:")
    ks, ke = sym_addr("__kernel_phys_start"), sym_addr("__kernel_phys_end")
    lines.append("  0x%016x-0x%016x image" % (ks, ke))
    tp = u64(sym_value("smp::g_bringup")["trampoline_phys"])
    if tp:
        lines.append("  0x%016x-0x%016x trampoline" % (tp, tp + TRAMP_SIZE))
    try:
        fr = ev("*'mm::kvm::(anonymous namespace)::g_frames_ptr'")  # mm::kvm::frames()
    except gdb.error:
        fr = sym_value("boot::g_frames")
    for k in range(int(fr["run_count_"])):
        r = fr["runs_"][k]
        lines.append("  0x%016x-0x%016x %s" % (u64(r["start"]), u64(r["end"]), enum_name(r["purpose"], PURPOSES)))
    alloc = [(PURPOSES[k], u64(fr["allocated_"][k])) for k in sorted(PURPOSES)]  # indexed by mm::Purpose
    free = sum(u64(fr["free_"][k]["end"]) - u64(fr["free_"][k]["start"]) for k in range(int(fr["free_count_"])))
    s = "totals: usable %d KiB, kernel image %d KiB, allocated %d KiB" % (usable // 1024, (ke - ks) // 1024,
                                                                         sum(b for _, b in alloc) // 1024)
    for name, b in alloc:
        if b:
            s += " (%s %d KiB)" % (name, b // 1024)
    s += ", free %d KiB" % (free // 1024)
    lines.append(s)
    return lines


# --------------------------------------------------------------------------------------
# gdb commands


def require_target():
    """The k-commands read a live, stopped machine: without one gdb would read the ELF's
    file contents (zeros for .bss) and print an empty table."""
    inf = gdb.selected_inferior()
    if inf.pid == 0 or not inf.threads():
        raise KError("not connected: start QEMU with scripts/debug (or scripts/run --gdb), then "
                     "`target remote localhost:%s`" % os.environ.get("QEMU_GDB_PORT", "1234"))
    t = gdb.selected_thread()
    if t is not None and t.is_running():
        raise KError("the target is running: interrupt it (Ctrl-C) first")


class KCommand(gdb.Command):
    """Base: runs lines(arg) and prints them; a KError prints `error: ...`."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_USER)
        self.dont_repeat_ = True

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        try:
            require_target()
            load_constants()
            out = self.lines(arg)
        except KError as e:
            out = ["error: %s" % e]
        except gdb.MemoryError as e:
            out = ["error: %s" % e]
        if out:
            gdb.write("\n".join(out) + "\n")


class KCpus(KCommand):
    """kcpus: every CPU in the MADT, as the monitor's `cpus`."""

    def __init__(self):
        super().__init__("kcpus")

    def lines(self, arg):
        if arg.strip():
            raise KError("usage: kcpus")
        return cpus_lines()


class KPercpu(KCommand):
    """kpercpu <n>|all: per-CPU data, as the monitor's `percpu`; gs_base read from the vCPU."""

    def __init__(self):
        super().__init__("kpercpu")

    def lines(self, arg):
        a = arg.split()
        if len(a) != 1:
            raise KError("usage: kpercpu <n>|all")
        cmap = cpu_map()
        if a[0] == "all":
            out = []
            for i in range(cpu_count()):
                if i:
                    out.append("")
                out += percpu_lines(i, cmap)
            return out
        return percpu_lines(parse_cpu(a[0]), cmap)


class KPml4(KCommand):
    """kpml4 [cr3]: present PML4 entries of the selected vCPU's CR3, as the monitor's `pml4`."""

    def __init__(self):
        super().__init__("kpml4")

    def lines(self, arg):
        a = arg.split()
        if len(a) > 1:
            raise KError("usage: kpml4 [cr3]")
        if a:
            cr3 = parse_address(a[0])
            if cr3 & (PAGE - 1):
                raise KError("cr3 0x%x is not page-aligned" % cr3)
        else:
            cr3 = reg("cr3")
        return pml4_lines(cr3)


class KWalk(KCommand):
    """kwalk <va>: page walk from the selected vCPU's CR3, as the monitor's `walk`."""

    def __init__(self):
        super().__init__("kwalk")

    def lines(self, arg):
        if not arg.strip():
            raise KError("usage: kwalk <va>")
        va = parse_address(arg)
        return walk_lines(reg("cr3"), va)


class KPhysmap(KCommand):
    """kphysmap: firmware memory map and the kernel's use of RAM, as the monitor's `physmap`."""

    def __init__(self):
        super().__init__("kphysmap")

    def lines(self, arg):
        if arg.strip():
            raise KError("usage: kphysmap")
        return physmap_lines()


class KThreads(KCommand):
    """kthreads: which gdb thread (vCPU) is which kernel CPU."""

    def __init__(self):
        super().__init__("kthreads")

    def lines(self, arg):
        inv = {t.num: i for i, t in cpu_map().items()}
        out = ["thread qemu_cpu cpu apic gs_base            pc"]
        for t in vcpu_threads():
            i = inv.get(t.num)
            apic = str(int(cpu_entry(i)["apic_id"])) if i is not None else "-"
            pc = reg("pc", t)
            sym = gdb.execute("info symbol 0x%x" % pc, to_string=True).strip()
            out.append("%-6d %-8d %-3s %-4s 0x%016x 0x%016x %s" % (
                t.num, qemu_cpu_index(t), "-" if i is None else str(i), apic, reg("gs_base", t), pc,
                sym if not sym.startswith("No symbol") else ""))
        return out


class KCpu(KCommand):
    """kcpu <n>: switch gdb to the thread (vCPU) of kernel CPU n."""

    def __init__(self):
        super().__init__("kcpu")

    def lines(self, arg):
        t = thread_of_cpu(parse_cpu(arg))
        gdb.execute("thread %d" % t.num)
        return []


class KBt(KCommand):
    """kbt <n> [bt options]: backtrace of kernel CPU n (its vCPU's stack)."""

    def __init__(self):
        super().__init__("kbt")

    def lines(self, arg):
        a = arg.split(None, 1)
        if not a:
            raise KError("usage: kbt <n> [bt options]")
        i = parse_cpu(a[0])
        t = thread_of_cpu(i)
        old = gdb.selected_thread()
        try:
            t.switch()
            gdb.write("cpu %d (apic %d, gdb thread %d):\n" % (i, int(cpu_entry(i)["apic_id"]), t.num))
            gdb.execute("bt %s" % (a[1] if len(a) > 1 else ""))
        finally:
            old.switch()
        return []


# --------------------------------------------------------------------------------------
# The AP trampoline: a flat binary copied to a page below 1 MiB (g_bringup.trampoline_phys,
# typically the first page). Labels: start16 at the page (real mode, CS = page >> 4, IP = 0),
# pm32 and lm64 at offsets the trampoline stores in its own data block (smp::TrampolineData,
# whose offsets load_constants reads from DWARF).


def trampoline_info():
    tp = 0
    try:
        tp = u64(sym_value("smp::g_bringup")["trampoline_phys"])
    except (KError, gdb.error, gdb.MemoryError):
        pass
    guessed = tp == 0
    if guessed:
        tp = PAGE  # pick_trampoline_page(): the lowest usable page from the second page on
    # Offsets from the copy embedded in the kernel image (read from the ELF, not the guest).
    start = sym_addr("trampoline_blob_start")
    pm32 = lm64 = None
    try:
        blob = read(start + TRAMP_PM32_OFF, 8)
        pm32, lm64 = struct.unpack("<II", blob)
    except gdb.MemoryError:
        pass
    if pm32 is None:
        objfile = gdb.objfiles()[0].filename if gdb.objfiles() else None
        pm32, lm64 = _offsets_from_elf(objfile, start)
    return tp, guessed, pm32, lm64


def _offsets_from_elf(path, vaddr):
    """The trampoline's own offsets from build/kernel.elf's file (section lookup)."""
    data = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for k in range(shnum):
        o = shoff + k * shentsize
        _, typ, _, addr, off, size = struct.unpack_from("<IIQQQQ", data, o)
        if typ == 1 and addr <= vaddr < addr + size:
            fo = off + (vaddr - addr)
            return struct.unpack_from("<II", data, fo + TRAMP_PM32_OFF)
    raise KError("trampoline_blob_start not in any section of %s" % path)


_tramp_loaded = None


def load_trampoline_symbols(page, pm32, lm64):
    """add-symbol-file of a tiny ELF naming the trampoline's labels at the page (objcopy)."""
    global _tramp_loaded
    if _tramp_loaded == page:
        return True
    objcopy = shutil.which("objcopy") or shutil.which("llvm-objcopy")
    bin_path = os.path.join(BUILD_DIR, "trampoline.bin")
    if not objcopy or not os.path.exists(bin_path):
        return False
    out = os.path.join(tempfile.gettempdir(), "kmon-trampoline-%d.elf" % os.getpid())
    cmd = [objcopy, "-I", "binary", "-O", "elf64-x86-64", "-B", "i386:x86-64",
           "--rename-section", ".data=.text,alloc,load,readonly,code",
           "--add-symbol", "tramp_start16=.text:0,global,function",
           "--add-symbol", "tramp_pm32=.text:0x%x,global,function" % pm32,
           "--add-symbol", "tramp_lm64=.text:0x%x,global,function" % lm64,
           "--add-symbol", "tramp_data=.text:0x%x,global,object" % TRAMP_DATA,
           bin_path, out]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return False
    atexit.register(lambda: os.path.exists(out) and os.unlink(out))
    if _tramp_loaded is not None:
        gdb.execute("remove-symbol-file -a 0x%x" % _tramp_loaded, to_string=True)
    gdb.execute("add-symbol-file %s -s .text 0x%x" % (out, page), to_string=True)
    _tramp_loaded = page
    return True


class KTramp(KCommand):
    """ktramp [break]: the AP trampoline's page and labels (tramp_start16/pm32/lm64 are
    added as symbols at the page); `ktramp break` sets hardware breakpoints on pm32 and
    lm64 (each AP stops there; the real-mode start is at CS:IP = page>>4:0)."""

    def __init__(self):
        super().__init__("ktramp")

    def lines(self, arg):
        tp, guessed, pm32, lm64 = trampoline_info()
        syms = load_trampoline_symbols(tp, pm32, lm64)
        out = ["trampoline page 0x%x%s" % (tp, " (not chosen yet: the kernel's usual pick)" if guessed else ""),
               "  tramp_start16 0x%x  real mode, CS:IP = 0x%x:0 (SIPI vector 0x%x)" % (tp, tp >> 4, tp >> 12),
               "  tramp_pm32    0x%x  32-bit protected mode (kdis32 0x%x)" % (tp + pm32, tp + pm32),
               "  tramp_lm64    0x%x  64-bit, jumps to ap_long_entry" % (tp + lm64),
               "  data block    0x%x  (cr3, entry64, gdt)" % (tp + TRAMP_DATA),
               "  symbols %s" % ("added (add-symbol-file)" if syms else "not added (objcopy or build/trampoline.bin missing)")]
        if arg.strip() == "break":
            for a in (tp + pm32, tp + lm64):
                gdb.execute("hbreak *0x%x" % a)
        elif arg.strip():
            raise KError("usage: ktramp [break]")
        return out


class KDis(KCommand):
    """kdis16/kdis32 <addr> [count]: disassemble `count` instructions (default 16) of 16- or
    32-bit code with objdump (gdb itself decodes as x86-64 here: QEMU's target description
    fixes the architecture), as the monitor's x/i16 and x/i32 count them."""

    def __init__(self, bits):
        super().__init__("kdis%d" % bits)
        self.machine = "i8086" if bits == 16 else "i386"

    def lines(self, arg):
        a = arg.split()
        if not a or len(a) > 2:
            raise KError("usage: kdis%s <addr> [count]" % ("16" if self.machine == "i8086" else "32"))
        addr = parse_address(a[0])
        try:
            count = int(a[1], 0) if len(a) > 1 else 16
        except ValueError:
            raise KError("invalid count '%s'" % a[1])
        if not 1 <= count <= 4096:
            raise KError("count %d out of range (1-4096)" % count)
        n = count * 15  # the longest x86 instruction is 15 bytes
        data = None
        while n > 0 and data is None:  # as much as is readable, virtually or physically
            try:
                data = read(addr, n)
            except gdb.MemoryError:
                data = phys_read(addr, n)  # before/after paging: low code is physical
            if data is None:
                n //= 2
        if data is None:
            raise KError("cannot read 0x%x virtually or through the direct map" % addr)
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(data)
            f.flush()
            r = subprocess.run(["objdump", "-D", "-b", "binary", "-m", self.machine,
                                "--adjust-vma=0x%x" % addr, f.name], capture_output=True, text=True)
        insns = [ln for ln in r.stdout.splitlines() if re.match(r"\s+[0-9a-f]+:\t", ln)]
        # objdump prints an instruction's bytes beyond 7 on continuation lines (no mnemonic).
        insns = [ln for ln in insns if len(ln.split("\t")) > 2]
        return insns[:count]


# --------------------------------------------------------------------------------------
# Convenience functions


class PercpuFn(gdb.Function):
    """$percpu(n): CPU n's smp::PerCpu as a typed value; $percpu(): the selected vCPU's
    (through its gs_base). E.g. p $percpu(1).ipis, p/x $percpu(2).stack_hi, ptype $percpu(0)."""

    def __init__(self):
        super().__init__("percpu")

    def invoke(self, n=None):
        load_constants()
        t = gdb.lookup_type("smp::PerCpu")
        if n is None:
            gs = reg("gs_base")
            if not gs:
                raise gdb.GdbError("this vCPU has no gs_base yet (not on a per-CPU slot)")
            return gdb.Value(gs).cast(t.pointer()).dereference()
        i = int(n)
        if i < 0 or i >= cpu_count():
            raise gdb.GdbError("no cpu %d (there are %d)" % (i, cpu_count()))
        p = cpu_entry(i)["percpu"]
        if u64(p) == 0:
            raise gdb.GdbError("cpu %d has no per-CPU slot (offline)" % i)
        return p.dereference()


class CpuIndexFn(gdb.Function):
    """$cpu_index(): kernel CPU index of the selected vCPU, -1 if it is not on a slot."""

    def __init__(self):
        super().__init__("cpu_index")

    def invoke(self):
        load_constants()
        i = thread_percpu_index(gdb.selected_thread())
        return gdb.Value(-1 if i is None else i)


# --------------------------------------------------------------------------------------
# kdmesg: the kernel log (kernel::console::g_log, a lib::LogRing) read from guest memory


def dmesg_lines(last=0):
    """The lines the monitor's `dmesg [n]` prints, from the ring in guest memory: the
    committed bytes still in the ring, without the oldest line once it has wrapped (its
    start may be gone), split after each "\\n"."""
    ring = sym_value("kernel::console::g_log", "'kernel::console::g_log'")
    cap = u64(ring["mask_"]) + 1
    buf = u64(ring["buf_"])
    head = u64(ring["head_"]["v"])
    end = u64(ring["committed_"]["v"])
    start = head - cap if head > cap else 0
    if start >= end:
        return []
    data = read(buf, cap)
    text = bytes(data[p % cap] for p in range(start, end))
    if start > 0:
        nl = text.find(b"\n")
        text = text[nl + 1:] if nl >= 0 else b""
    lines = text.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the log ends with a whole line
    return lines[-last:] if last else lines


class KDmesg(KCommand):
    """kdmesg [n]: the kernel log (or its last n lines), as the monitor's `dmesg`."""

    def __init__(self):
        super().__init__("kdmesg")

    def lines(self, arg):
        a = arg.split()
        if len(a) > 1:
            raise KError("usage: kdmesg [n]")
        n = 0
        if a:
            try:
                n = int(a[0], 0)
            except ValueError:
                n = 0
            if n <= 0:
                raise KError("invalid line count '%s' (a positive number)" % a[0])
        return dmesg_lines(n)


# --------------------------------------------------------------------------------------
# Setup: load the ELF, connect (used by gdb/kernel.gdb)

HERE = os.path.dirname(os.path.abspath(globals().get("__file__", "gdb/kernel.py")))
ROOT = os.path.dirname(HERE)
BUILD_DIR = os.environ.get("KMON_BUILD_DIR", os.path.join(ROOT, "build"))


def kmon_setup(connect=True):
    elf = os.environ.get("KMON_ELF", os.path.join(BUILD_DIR, "kernel.elf"))
    if not os.path.exists(elf):
        gdb.write("kernel.gdb: %s missing: run scripts/build\n" % elf, gdb.STDERR)
    else:
        # The ELF is x86-64 and QEMU's target description says i386:x86-64 from reset on,
        # so the 'g' packet is always the 64-bit one (see gdb/kernel.gdb).
        gdb.execute("file %s" % elf, to_string=True)
        try:
            load_constants(force=True)
        except KError as e:
            gdb.write("kernel.gdb: %s\n" % e, gdb.STDERR)
    if not connect or os.environ.get("KMON_GDB_NO_CONNECT"):
        return
    # KMON_GDB_TARGET: where the kernel's own stub is (a serial device such as /dev/ttyS0 on
    # a real board, or host:port for QEMU's COM2 on a socket, scripts/debug --stub); else
    # QEMU's stub on localhost:$QEMU_GDB_PORT.
    target = os.environ.get("KMON_GDB_TARGET", "")
    if not target:
        port = os.environ.get("QEMU_GDB_PORT", "1234")
        target = port if ":" in port else "localhost:%s" % port
    if target.startswith("/dev/"):
        gdb.execute("set serial baud 115200")  # the stub's line: 115200 8N1
    try:
        gdb.execute("target remote %s" % target)
    except gdb.error as e:
        gdb.write("kernel.gdb: cannot connect to %s (%s); start QEMU with scripts/debug or "
                  "scripts/run --gdb, then `target remote %s`\n" % (target, e, target), gdb.STDERR)


KCpus()
KPercpu()
KPml4()
KWalk()
KPhysmap()
KThreads()
KCpu()
KBt()
KTramp()
KDis(16)
KDis(32)
PercpuFn()
CpuIndexFn()
KDmesg()
