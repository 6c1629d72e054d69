# gdb setup for the kernel: run from the repository root as
#     gdb -q -x gdb/kernel.gdb          (or scripts/debug, which also starts QEMU)
# Loads build/kernel.elf (higher-half symbols; override with KMON_ELF), sources
# gdb/kernel.py (kcpus, kpercpu, kpml4, kwalk, kphysmap, kbt, kcpu, kthreads, ktramp,
# kdis16/kdis32, $percpu(n), $cpu_index()) and connects to localhost:$QEMU_GDB_PORT
# (default 1234: QEMU's stub), or to $KMON_GDB_TARGET (the kernel's own stub: /dev/ttyS0
# at 115200 baud on a real board, 127.0.0.1:<port> for QEMU's COM2 on a socket).
# KMON_GDB_NO_CONNECT=1 skips the connection.
#
# 32-bit entry vs. long mode ("Remote 'g' packet reply is too long"):
#   That error comes from gdb expecting i386 registers while the stub sends x86-64 ones
#   (a 32-bit ELF loaded first, or `set architecture i386` before connecting). QEMU 7.2's
#   qemu-system-x86_64 sends a target description (i386:x86-64) from reset on and always
#   answers 'g' with the 64-bit register set, in real, protected and long mode alike;
#   gdb 13 adopts it, so with this 64-bit ELF there is nothing to switch and no reconnect
#   trick is needed: connect at reset (QEMU -S), `hbreak *_start`, continue, and keep
#   going into long mode in the same session. The only cost: gdb decodes instructions as
#   x86-64 everywhere (it refuses `set architecture i386` against this target), so use
#   kdis16/kdis32 <addr> for real-mode / 32-bit code (trampoline, _start).
#
# Breakpoints that work from the first instruction (QEMU started with -S):
#   hbreak *0x200020     or  hbreak _start       32-bit multiboot2 entry (physical; paging off)
#   hbreak kernel_main                            first C++ code, higher half
#   ktramp break                                  AP trampoline pm32/lm64 (page from g_bringup,
#                                                 0x1000 before it is chosen)
#   hbreak ap_long_entry / break ap_main          each AP's first higher-half code
#   break monitor::run                            the monitor loop (then Ctrl-C at kmon>)
# Use hbreak (not break) for anything reached before the kernel's own page tables are
# loaded: software breakpoints write int3 through the current page tables.

set pagination off
set confirm off
set print pretty on
set print static-members off
set disassembly-flavor intel
set architecture i386:x86-64
# Instruction bytes from the ELF, not the wire: .text is mapped r-x and never written (W^X),
# so the file holds the same bytes, and gdb reads the instruction at a CPU's pc for every
# frame it shows (twice per CPU in `info threads`: 15 KB, 1.3 s at 255 CPUs on the
# kernel's 115200-baud stub). Breakpoints are unaffected (gdb keeps their shadows). Turn it
# off to see the machine's own bytes: before GRUB has loaded the kernel (QEMU -S), or the
# lower-half .boot code once booted (unmapped then: with this on gdb still shows the file).
set trust-readonly-sections on

source gdb/kernel.py
python kmon_setup()
