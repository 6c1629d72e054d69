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
file(GLOB_RECURSE KERNEL_ASM CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*.asm)
list(FILTER KERNEL_ASM EXCLUDE REGEX ".*/trampoline\\.asm$")

# The AP trampoline: a flat binary (nasm -f bin), embedded by trampoline_blob.asm.
set(TRAMPOLINE_BIN ${CMAKE_BINARY_DIR}/trampoline.bin)
add_custom_command(OUTPUT ${TRAMPOLINE_BIN}
  COMMAND nasm -Werror -f bin -I${CMAKE_SOURCE_DIR}/src/smp/ -o ${TRAMPOLINE_BIN}
          -l ${CMAKE_BINARY_DIR}/trampoline.lst ${CMAKE_SOURCE_DIR}/src/smp/trampoline.asm
  DEPENDS ${CMAKE_SOURCE_DIR}/src/smp/trampoline.asm ${CMAKE_SOURCE_DIR}/src/smp/trampoline.inc
  COMMENT "Assembling the AP trampoline (flat binary)")
add_custom_target(trampoline DEPENDS ${TRAMPOLINE_BIN})
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/smp/trampoline_blob.asm PROPERTIES
  OBJECT_DEPENDS ${TRAMPOLINE_BIN})
set(CMAKE_ASM_NASM_FLAGS "${CMAKE_ASM_NASM_FLAGS} -I${CMAKE_BINARY_DIR}/ -I${CMAKE_SOURCE_DIR}/src/ -I${CMAKE_SOURCE_DIR}/src/smp/")

add_executable(kernel.elf ${KERNEL_CXX} ${KERNEL_ASM})
add_dependencies(kernel.elf trampoline)
target_include_directories(kernel.elf PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(kernel.elf PRIVATE KERNEL)
target_compile_options(kernel.elf PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${KERNEL_CXX_FLAGS}>)
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
