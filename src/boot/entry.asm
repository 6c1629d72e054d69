; Multiboot2 entry. GRUB leaves us in 32-bit protected mode, paging off, interrupts off,
; EAX = MB2_BOOT_MAGIC and EBX = physical address of the boot information (Multiboot2
; specification 1.0, section 3.3 "I386 machine state"). This file runs at its physical
; (load) address: symbols in .boot.* are physical, symbols elsewhere are virtual and are
; reached through PHYS() until paging is on. `higher_half` runs at KERNEL_VMA + physical.
;
; Boot page tables, built here and dropped once kernel_main switches to its own:
;   PML4[0]   -> PDPT_low,  PDPT_low[0..3]  -> PD[0..3]: identity map of 0-4 GiB (2 MiB pages)
;   PML4[KERNEL_PML4_INDEX] -> PDPT_high, PDPT_high[KERNEL_PDPT_INDEX] -> PD[0]:
;                            KERNEL_VMA -> 0-1 GiB
; so the higher-half kernel and the multiboot information (below 4 GiB) are both reachable.
; Every constant comes from asm_offsets.inc (generated from the C++, export/asm_offsets.cpp).

%include "asm_offsets.inc"
%include "boot/boot_defs.inc"
%include "arch/cfi.inc"

BOOT_IDENTITY_PDS equ 4                 ; boot-only: PDs of the 0-4 GiB identity map
BOOT_STACK_SIZE   equ 16384             ; boot-only: the stack until the BSP's slot is live
%defstr EXT1_STR CPUID_LEAF_EXT1
%defstr LM_BIT_STR CPUID_EXT1_EDX_LM_BIT
%defstr NX_BIT_STR CPUID_EXT1_EDX_NX_BIT

section .boot.multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))   ; sum is 0 mod 2^32
    dw MB2_HEADER_TAG_END, 0            ; end tag: type, flags, size
    dd MB2_HEADER_TAG_END_SIZE
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
    ; extended leaf CPUID_LEAF_EXT1 with LM and NX.
    pushfd
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    cmp eax, ecx
    je .no_long_mode
    mov eax, CPUID_LEAF_EXT_MAX
    cpuid
    cmp eax, CPUID_LEAF_EXT1
    jb .no_long_mode
    mov eax, CPUID_LEAF_EXT1
    cpuid
    test edx, CPUID_EXT1_EDX_LM
    jz .no_long_mode
    test edx, CPUID_EXT1_EDX_NX
    jz .no_nx

    ; Boot page tables (zeroed .bss: GRUB clears p_memsz beyond p_filesz).
    mov eax, PHYS(boot_pdpt_low)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pml4)], eax
    mov eax, PHYS(boot_pdpt_high)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pml4) + KERNEL_PML4_INDEX * PTE_SIZE], eax
    mov eax, PHYS(boot_pd)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pdpt_high) + KERNEL_PDPT_INDEX * PTE_SIZE], eax
    xor ecx, ecx
.fill_pdpt:                             ; PDPT_low[i] = PD[i], i = 0..BOOT_IDENTITY_PDS-1
    mov eax, ecx
    shl eax, PAGE_SHIFT
    add eax, PHYS(boot_pd)
    or eax, PTE_P | PTE_W
    mov [PHYS(boot_pdpt_low) + ecx * PTE_SIZE], eax
    inc ecx
    cmp ecx, BOOT_IDENTITY_PDS
    jb .fill_pdpt
    xor ecx, ecx
.fill_pd:                               ; every entry of the PDs maps 2 MiB: 0-4 GiB
    mov eax, ecx
    shl eax, LARGE_PAGE_SHIFT
    or eax, PTE_P | PTE_W | PTE_PS
    mov [PHYS(boot_pd) + ecx * PTE_SIZE], eax
    mov eax, ecx
    shr eax, 32 - LARGE_PAGE_SHIFT      ; high dword of the address (entry << 21 >> 32)
    mov [PHYS(boot_pd) + ecx * PTE_SIZE + 4], eax
    inc ecx
    cmp ecx, BOOT_IDENTITY_PDS * PT_ENTRIES
    jb .fill_pd

    ENTER_LONG_MODE CR4_BOOT, PHYS(boot_pml4)
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

; COM1 at 115200 8N1, polled: serial.cpp's setup (its constants, through asm_offsets.inc)
; for the one message we can print before C++ runs.
serial_init32:
    mov dx, COM1_PORT + UART_IER
    xor al, al
    out dx, al                          ; IER = 0
    mov dx, COM1_PORT + UART_LCR
    mov al, UART_LCR_DLAB
    out dx, al                          ; DLAB
    mov dx, COM1_PORT + UART_DATA
    mov al, UART_DIVISOR & 0xff
    out dx, al                          ; divisor latch low: 115200
    mov dx, COM1_PORT + UART_IER
    mov al, UART_DIVISOR >> 8
    out dx, al                          ; divisor latch high
    mov dx, COM1_PORT + UART_LCR
    mov al, UART_LCR_8N1
    out dx, al                          ; 8N1
    ret
serial_put32:
    mov ah, al
    mov dx, COM1_PORT + UART_LSR
.wait:
    in al, dx
    test al, UART_LSR_THR_EMPTY
    jz .wait
    mov al, ah
    mov dx, COM1_PORT + UART_DATA
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
msg_no_lm: db "error: this CPU has no long mode (CPUID ", EXT1_STR, " EDX bit ", LM_BIT_STR, "); halting", 13, 10, 0
msg_no_nx: db "error: this CPU has no NX (CPUID ", EXT1_STR, " EDX bit ", NX_BIT_STR, "); halting", 13, 10, 0
align 16
boot_gdt:                               ; null, then the kernel's code and data at its selectors
    dq 0
    times BOOT_CS - ($ - boot_gdt) db 0
    dq GDT_CODE64
    times BOOT_DS - ($ - boot_gdt) db 0
    dq GDT_DATA
boot_gdt_end:
boot_gdtr:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt                         ; .boot.* is linked at its physical address
    dd 0

section .text
bits 64
CFI_CIES
extern kernel_main
higher_half:
    CFI_STARTPROC higher_half
    CFI_UNDEFINED DW_RA                 ; the bootstrap CPU's outermost frame
    mov rsp, boot_stack_top
    xor ebp, ebp
    mov edi, edi                        ; upper halves are undefined after the mode switch
    mov esi, esi
    call kernel_main
.hang:
    cli
    hlt
    jmp .hang
    CFI_ENDPROC

section .bss
align PAGE_SIZE
global boot_pml4, boot_stack_bottom, boot_stack_top
boot_pml4:      resb PAGE_SIZE
boot_pdpt_low:  resb PAGE_SIZE
boot_pdpt_high: resb PAGE_SIZE
boot_pd:        resb BOOT_IDENTITY_PDS * PAGE_SIZE
boot_stack_bottom:
    resb BOOT_STACK_SIZE
boot_stack_top:

section .data
global boot_handoff_tsc
boot_handoff_tsc: dq 0
