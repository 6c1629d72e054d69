# Portable sources: plain C++ with no hardware access, compiled into the kernel and
# into the host unit tests. Everything else under src/ is kernel-only.
list(APPEND PORTABLE_SOURCES
  src/lib/fmt.cpp
  src/lib/string.cpp
  src/lib/assert.cpp
  src/lib/log_ring.cpp
  src/lib/calibration.cpp
  src/lib/json.cpp
  src/boot/multiboot2.cpp
  src/mm/memmap.cpp
  src/mm/frame_alloc.cpp
  src/mm/pt_build.cpp
  src/mm/pt_walk.cpp
  src/acpi/tables.cpp
  src/acpi/mptable.cpp
  src/smp/slot_plan.cpp
  src/arch/cache_config.cpp
  src/monitor/line_editor.cpp
  src/monitor/parse.cpp
  src/monitor/examine.cpp
  src/disasm/x86_decode.cpp
  src/disasm/format.cpp
  src/debug/backtrace.cpp
  src/kernel/ksyms.cpp
  src/gdbstub/hex.cpp
  src/gdbstub/packet.cpp
  src/gdbstub/regs.cpp
  src/gdbstub/resume.cpp
  src/gdbstub/target_xml.cpp
  src/gdbstub/session.cpp
)
