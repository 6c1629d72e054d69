; Multiboot2 entry. GRUB leaves us in 32-bit protected mode, paging off, interrupts off,
; EAX = 0x36d76289 and EBX = physical address of the boot information (Multiboot2
; specification 1.0, section 3.3 "I386 machine state"). This file runs at its physical
; (load) address: symbols in .boot.* are physical, symbols elsewhere are virtual and are
; reached through PHYS() until paging is on. `higher_half` runs at 0xffffffff80000000 + physical.
;
; Boot page tables, built here and dropped once kernel_main switches to its own:
;   PML4[0]   -> PDPT_low,  PDPT_low[0..3]  -> PD[0..3]: identity map of 0-4 GiB (2 MiB pages)
;   PML4[511] -> PDPT_high, PDPT_high[510]  -> PD[0]:   0xffffffff80000000 -> 0-1 GiB
; so the higher-half kernel and the multiboot information (below 4 GiB) are both reachable.

%include "boot/boot_defs.inc"

MB2_MAGIC        equ 0xe85250d6
MB2_ARCH_I386    equ 0
MB2_BOOT_MAGIC   equ 0x36d76289

section .boot.multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    ; end tag (type 0, size 8)
    dw 0, 0
    dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start
_start:
    mov edi, eax                        ; keep the multiboot magic and info pointer
    mov esi, ebx
    rdtsc                               ; the first timestamp of the boot timeline
    mov [PHYS(boot_handoff_tsc)], eax
    mov [PHYS(boot_handoff_tsc) + 4], edx
    mov esp, PHYS(boot_stack_top)

    ; CPUID must exist (EFLAGS.ID can be toggled, SDM Vol. 1 3.4.3.3), and must report
    ; extended leaf 0x80000001 with LM (bit 29) and NX (bit 20).
    pushfd
    pop eax
    mov ecx, eax
    xor eax, 1 << 21
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    cmp eax, ecx
    je .no_long_mode
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode
    test edx, 1 << 20
    jz .no_nx

    ; Boot page tables (zeroed .bss: GRUB clears p_memsz beyond p_filesz).
    mov eax, PHYS(boot_pdpt_low)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pml4)], eax
    mov eax, PHYS(boot_pdpt_high)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pml4) + 511 * 8], eax
    mov eax, PHYS(boot_pd)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pdpt_high) + 510 * 8], eax
    xor ecx, ecx
.fill_pdpt:                             ; PDPT_low[i] = PD[i], i = 0..3
    mov eax, ecx
    shl eax, 12
    add eax, PHYS(boot_pd)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pdpt_low) + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .fill_pdpt
    xor ecx, ecx
.fill_pd:                               ; 2048 entries of 2 MiB: 0-4 GiB
    mov eax, ecx
    shl eax, 21
    or eax, PTE_P | PTE_W | PTE_PS
    mov [PHYS(boot_pd) + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                         ; high dword of the address (bit 32 for entries >= 2048)
    mov [PHYS(boot_pd) + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .fill_pd

    ENTER_LONG_MODE 0, PHYS(boot_pml4)
    lgdt [boot_gdtr]
    jmp BOOT_CS:long_mode

.no_long_mode:
    mov ebx, msg_no_lm
    jmp .fail
.no_nx:
    mov ebx, msg_no_nx
.fail:
    call serial_init32
.next_char:
    mov al, [ebx]
    test al, al
    jz .halt
    call serial_put32
    inc ebx
    jmp .next_char
.halt:
    cli
    hlt
    jmp .halt

; COM1 at 115200 8N1, polled; a copy of serial.cpp's setup for the one message we can
; print before C++ runs.
serial_init32:
    mov dx, 0x3f9
    xor al, al
    out dx, al                          ; IER = 0
    mov dx, 0x3fb
    mov al, 0x80
    out dx, al                          ; DLAB
    mov dx, 0x3f8
    mov al, 1
    out dx, al                          ; divisor 1 = 115200
    mov dx, 0x3f9
    xor al, al
    out dx, al
    mov dx, 0x3fb
    mov al, 3
    out dx, al                          ; 8N1
    ret
serial_put32:
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    ret

bits 64
long_mode:
    mov ax, BOOT_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rax, higher_half
    jmp rax

section .boot.rodata progbits alloc noexec nowrite align=16
msg_no_lm: db "error: this CPU has no long mode (CPUID 0x80000001 EDX bit 29); halting", 13, 10, 0
msg_no_nx: db "error: this CPU has no NX (CPUID 0x80000001 EDX bit 20); halting", 13, 10, 0
align 16
boot_gdt:                               ; null, 64-bit code, data (accessed bits preset)
    dq 0
    dq 0x00af9b000000ffff
    dq 0x00cf93000000ffff
boot_gdt_end:
boot_gdtr:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt                         ; .boot.* is linked at its physical address
    dd 0

section .text
bits 64
extern kernel_main
higher_half:
    mov rsp, boot_stack_top
    xor ebp, ebp
    mov edi, edi                        ; upper halves are undefined after the mode switch
    mov esi, esi
    call kernel_main
.hang:
    cli
    hlt
    jmp .hang

section .bss
align 4096
global boot_pml4, boot_stack_bottom, boot_stack_top
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pdpt_high: resb 4096
boot_pd:        resb 4 * 4096
boot_stack_bottom:
    resb 16384
boot_stack_top:

section .data
global boot_handoff_tsc
boot_handoff_tsc: dq 0
