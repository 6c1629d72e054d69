# The kernel: freestanding C++20, NASM for the entry, interrupt stubs and AP trampoline,
# linked by ld.lld at 0xffffffff80000000 + load address (src/linker.ld).
enable_language(ASM_NASM)
set(CMAKE_ASM_NASM_OBJECT_FORMAT elf64)
set(CMAKE_ASM_NASM_FLAGS "-Werror -g -F dwarf")

set(KERNEL_CXX_FLAGS
  -ffreestanding -fno-exceptions -fno-rtti -mno-red-zone -mcmodel=kernel
  -mgeneral-regs-only -fno-pic -fno-pie -fno-threadsafe-statics -nostdlib
  -fno-stack-protector -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
  -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-use-cxa-atexit
  -Wall -Wextra -Werror -Wno-unused-parameter -g)
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  list(APPEND KERNEL_CXX_FLAGS -O2)
else()
  list(APPEND KERNEL_CXX_FLAGS -O1 -DKERNEL_DEBUG)
endif()

file(GLOB_RECURSE KERNEL_CXX CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*.cpp)
# asm_offsets.cpp is compiled to assembly text only (below), never linked.
list(FILTER KERNEL_CXX EXCLUDE REGEX "/src/export/asm_offsets\\.cpp$")
file(GLOB_RECURSE KERNEL_ASM CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*.asm)
# The trampoline is a flat binary of its own (below), embedded by trampoline_blob.asm.
list(FILTER KERNEL_ASM EXCLUDE REGEX "/src/smp/trampoline\\.asm$")
# src/bench/ is scripts/bench's floor of AP bring-up: built only with KCONFIG_BENCH_FLOOR=1
# (preset `floor`, below), so nothing of it is ever in the normal image.
list(FILTER KERNEL_CXX EXCLUDE REGEX "/src/bench/")
list(FILTER KERNEL_ASM EXCLUDE REGEX "/src/bench/")

# Compile-time settings (src/config.hpp): -DKCONFIG_<NAME>=<value> at configure time, e.g.
# the cpu512 preset's KCONFIG_MAX_CPUS=512 and KCONFIG_PERCPU_REGION_GIB=8.
set(KCONFIG_DEFS "")
foreach(opt MAX_CPUS MAX_MADT_CPUS MAX_MEMMAP_RANGES MAX_DIRECT_RANGES PERCPU_SLOT_MIB PERCPU_REGION_GIB KERNEL_STACK_KIB IST_STACK_KIB AP_TIMEOUT_MS LOG_BYTES BENCH_FLOOR)
  if(DEFINED KCONFIG_${opt})
    list(APPEND KCONFIG_DEFS KCONFIG_${opt}=${KCONFIG_${opt}})
  endif()
endforeach()

# Constants for the assembly, the way Linux builds asm-offsets.h: asm_offsets.cpp, compiled
# with the kernel's flags and settings to assembly (-S), leaves `->NAME value` markers that
# gen_asm_offsets.py turns into `%define NAME value` lines. Every .asm (and the trampoline)
# includes the result and is reassembled when it changes; the depfile covers the headers.
set(GEN_DIR ${CMAKE_BINARY_DIR}/generated)
set(ASM_OFFSETS_S ${GEN_DIR}/asm_offsets.s)
set(ASM_OFFSETS_INC ${GEN_DIR}/asm_offsets.inc)
list(TRANSFORM KCONFIG_DEFS PREPEND -D OUTPUT_VARIABLE _kconfig_flags)
add_custom_command(OUTPUT ${ASM_OFFSETS_INC}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${GEN_DIR}
  COMMAND ${CMAKE_CXX_COMPILER} --target=${CMAKE_CXX_COMPILER_TARGET} -std=c++20 ${KERNEL_CXX_FLAGS}
          -DKERNEL ${_kconfig_flags} -I${CMAKE_SOURCE_DIR}/src
          -MD -MT ${ASM_OFFSETS_INC} -MF ${GEN_DIR}/asm_offsets.d
          -S ${CMAKE_SOURCE_DIR}/src/export/asm_offsets.cpp -o ${ASM_OFFSETS_S}
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/gen_asm_offsets.py ${ASM_OFFSETS_S} ${ASM_OFFSETS_INC}
  DEPENDS ${CMAKE_SOURCE_DIR}/src/export/asm_offsets.cpp ${CMAKE_SOURCE_DIR}/scripts/gen_asm_offsets.py
  DEPFILE ${GEN_DIR}/asm_offsets.d
  COMMENT "Generating asm_offsets.inc (constants for the assembly)"
  VERBATIM)
add_custom_target(asm_offsets DEPENDS ${ASM_OFFSETS_INC})
set_source_files_properties(${KERNEL_ASM} PROPERTIES OBJECT_DEPENDS
  "${ASM_OFFSETS_INC};${CMAKE_SOURCE_DIR}/src/boot/boot_defs.inc;${CMAKE_SOURCE_DIR}/src/arch/cfi.inc;${CMAKE_SOURCE_DIR}/src/arch/apic_id.inc")

# The AP trampoline: a flat binary (nasm -f bin), embedded by trampoline_blob.asm.
set(TRAMPOLINE_BIN ${CMAKE_BINARY_DIR}/trampoline.bin)
add_custom_command(OUTPUT ${TRAMPOLINE_BIN}
  COMMAND nasm -Werror -f bin -I${GEN_DIR}/ -I${CMAKE_SOURCE_DIR}/src/ -o ${TRAMPOLINE_BIN}
          -l ${CMAKE_BINARY_DIR}/trampoline.lst ${CMAKE_SOURCE_DIR}/src/smp/trampoline.asm
  DEPENDS ${CMAKE_SOURCE_DIR}/src/smp/trampoline.asm ${ASM_OFFSETS_INC}
          ${CMAKE_SOURCE_DIR}/src/boot/boot_defs.inc
  COMMENT "Assembling the AP trampoline (flat binary)")
add_custom_target(trampoline DEPENDS ${TRAMPOLINE_BIN})
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/smp/trampoline_blob.asm PROPERTIES
  OBJECT_DEPENDS "${ASM_OFFSETS_INC};${CMAKE_SOURCE_DIR}/src/boot/boot_defs.inc;${TRAMPOLINE_BIN}")
set(CMAKE_ASM_NASM_FLAGS "${CMAKE_ASM_NASM_FLAGS} -I${CMAKE_BINARY_DIR}/ -I${GEN_DIR}/ -I${CMAKE_SOURCE_DIR}/src/")

# scripts/bench's floor (src/bench/floor.cpp): the kernel with start_aps replaced by the
# same INIT-SIPI-SIPI to floor_trampoline.asm, a flat binary like the kernel's trampoline
# with its own offsets (floor_offsets.cpp, generated as asm_offsets.inc is).
if(KCONFIG_BENCH_FLOOR)
  set(FLOOR_OFFSETS_INC ${GEN_DIR}/floor_offsets.inc)
  add_custom_command(OUTPUT ${FLOOR_OFFSETS_INC}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${GEN_DIR}
    COMMAND ${CMAKE_CXX_COMPILER} --target=${CMAKE_CXX_COMPILER_TARGET} -std=c++20 ${KERNEL_CXX_FLAGS}
            -DKERNEL ${_kconfig_flags} -I${CMAKE_SOURCE_DIR}/src
            -MD -MT ${FLOOR_OFFSETS_INC} -MF ${GEN_DIR}/floor_offsets.d
            -S ${CMAKE_SOURCE_DIR}/src/bench/floor_offsets.cpp -o ${GEN_DIR}/floor_offsets.s
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/gen_asm_offsets.py ${GEN_DIR}/floor_offsets.s
            ${FLOOR_OFFSETS_INC} src/bench/floor_offsets.cpp
    DEPENDS ${CMAKE_SOURCE_DIR}/src/bench/floor_offsets.cpp ${CMAKE_SOURCE_DIR}/scripts/gen_asm_offsets.py
    DEPFILE ${GEN_DIR}/floor_offsets.d
    COMMENT "Generating floor_offsets.inc (bench floor)"
    VERBATIM)
  set(FLOOR_BIN ${CMAKE_BINARY_DIR}/floor_trampoline.bin)
  add_custom_command(OUTPUT ${FLOOR_BIN}
    COMMAND nasm -Werror -f bin -I${GEN_DIR}/ -I${CMAKE_SOURCE_DIR}/src/ -o ${FLOOR_BIN}
            -l ${CMAKE_BINARY_DIR}/floor_trampoline.lst ${CMAKE_SOURCE_DIR}/src/bench/floor_trampoline.asm
    DEPENDS ${CMAKE_SOURCE_DIR}/src/bench/floor_trampoline.asm ${ASM_OFFSETS_INC} ${FLOOR_OFFSETS_INC}
            ${CMAKE_SOURCE_DIR}/src/arch/apic_id.inc
    COMMENT "Assembling the bench floor trampoline (flat binary)")
  add_custom_target(floor_trampoline DEPENDS ${FLOOR_BIN})
  set_source_files_properties(${CMAKE_SOURCE_DIR}/src/bench/floor_blob.asm PROPERTIES OBJECT_DEPENDS ${FLOOR_BIN})
  list(APPEND KERNEL_CXX ${CMAKE_SOURCE_DIR}/src/bench/floor.cpp)
  list(APPEND KERNEL_ASM ${CMAKE_SOURCE_DIR}/src/bench/floor_blob.asm)
endif()

add_library(kobjs OBJECT ${KERNEL_CXX} ${KERNEL_ASM})
target_compile_definitions(kobjs PRIVATE ${KCONFIG_DEFS})
add_dependencies(kobjs trampoline asm_offsets)
if(KCONFIG_BENCH_FLOOR)
  add_dependencies(kobjs floor_trampoline)
endif()
target_include_directories(kobjs PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(kobjs PRIVATE KERNEL)
target_compile_options(kobjs PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${KERNEL_CXX_FLAGS}>)

# Two links: the first gives the addresses, from which gen_ksyms.py makes the symbol
# table the kernel's backtraces print and gen_unwind.py the unwind table; the second adds
# both in .ksyms, the last section, so no other address moves.
add_executable(kernel.stage1.elf $<TARGET_OBJECTS:kobjs>)
set_target_properties(kernel.stage1.elf PROPERTIES LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/linker.ld)
set(KSYMS_ASM ${CMAKE_BINARY_DIR}/ksyms.asm)
add_custom_command(OUTPUT ${KSYMS_ASM}
  COMMAND python3 ${CMAKE_SOURCE_DIR}/scripts/gen_ksyms.py $<TARGET_FILE:kernel.stage1.elf> ${KSYMS_ASM}
  DEPENDS kernel.stage1.elf ${CMAKE_SOURCE_DIR}/scripts/gen_ksyms.py
  COMMENT "Kernel symbol table")
# The unwind table (debug/backtrace.hpp) from the same stage's call-frame information:
# code does not move between the stages, so its rows hold for the final image too.
set(UNWIND_ASM ${CMAKE_BINARY_DIR}/unwind.asm)
add_custom_command(OUTPUT ${UNWIND_ASM}
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/gen_unwind.py $<TARGET_FILE:kernel.stage1.elf> ${UNWIND_ASM}
  DEPENDS kernel.stage1.elf ${CMAKE_SOURCE_DIR}/scripts/gen_unwind.py
  COMMENT "Kernel unwind table")
add_executable(kernel.elf $<TARGET_OBJECTS:kobjs> ${KSYMS_ASM} ${UNWIND_ASM})
set_target_properties(kernel.elf PROPERTIES LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/linker.ld)
# Link with ld.lld directly: no crt, no libc, our linker script.
set(CMAKE_CXX_LINK_EXECUTABLE
  "ld.lld -nostdlib -static -z max-page-size=0x1000 --no-dynamic-linker -z noexecstack -T ${CMAKE_SOURCE_DIR}/src/linker.ld -Map=${CMAKE_BINARY_DIR}/kernel.map -o <TARGET> <OBJECTS>")

# GRUB2 rescue image (BIOS and UEFI): grub-mkrescue needs xorriso and mtools.
set(ISO_DIR ${CMAKE_BINARY_DIR}/isodir)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/kernel.iso
  COMMAND ${CMAKE_COMMAND} -E make_directory ${ISO_DIR}/boot/grub
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:kernel.elf> ${ISO_DIR}/boot/kernel.elf
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/src/boot/grub.cfg ${ISO_DIR}/boot/grub/grub.cfg
  COMMAND grub-mkrescue -o ${CMAKE_BINARY_DIR}/kernel.iso ${ISO_DIR}
          --locales= --fonts= --themes= 2> ${CMAKE_BINARY_DIR}/grub-mkrescue.log
  DEPENDS kernel.elf ${CMAKE_SOURCE_DIR}/src/boot/grub.cfg
  COMMENT "grub-mkrescue kernel.iso")
add_custom_target(iso ALL DEPENDS ${CMAKE_BINARY_DIR}/kernel.iso)
