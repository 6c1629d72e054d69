; AP trampoline: a flat binary (nasm -f bin, after the C preprocessor for the shared
; offsets) copied to a free page below 1 MiB. An AP starts here after INIT-SIPI-SIPI in
; real mode at CS = page >> 4, IP = 0 (SDM Vol. 3A 9.4.4 "MP Initialization Example",
; 11.6.1 start-up IPI vector). It reads nothing outside this page until paging is on:
; the BSP has filled the data block at TRAMP_DATA. No stack is used, so all APs may run
; it at once. The page is mapped read-only + executable at its identity address while
; APs start, so the GDT's accessed bits are preset (the CPU would otherwise write them).
#include "trampoline_layout.h"
%include "boot/boot_defs.inc"

bits 16
org 0
start16:
    cli
    cld
    mov ax, cs
    mov ds, ax
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4                          ; ebx = physical base of this page, kept to the end
    lgdt [TRAMP_GDTR]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    jmp far dword [TRAMP_PM32_PTR]      ; 32-bit far pointer, patched with the page base

bits 32
pm32:
    mov ax, TRAMP_SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    ENTER_LONG_MODE CR4_PGE, [ebx + TRAMP_CR3]   ; the BSP's sequence, plus global pages
    jmp far [ebx + TRAMP_LM64_PTR]

bits 64
lm64:
    xor eax, eax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov ebx, ebx                        ; zero-extend: upper halves are undefined here
    mov rax, [rbx + TRAMP_ENTRY64]
    jmp rax                             ; ap_long_entry in the higher half

    times TRAMP_DATA - ($ - $$) db 0
data:
    dd 0                                ; TRAMP_CR3
    dd 0
    dq 0                                ; TRAMP_ENTRY64
    dq 0                                ; TRAMP_GDT: null
    dq 0x00cf9b000000ffff               ; 0x08 code32, accessed
    dq 0x00cf93000000ffff               ; 0x10 data, accessed
    dq 0x00af9b000000ffff               ; 0x18 code64, accessed
    dw 4 * 8 - 1                        ; TRAMP_GDTR limit
    dd TRAMP_GDT                        ; base: page-relative until patched
    dw 0
    dd pm32                             ; TRAMP_PM32_PTR: offset patched (+ page base)
    dw TRAMP_SEL_CODE32
    dw 0
    dd lm64                             ; TRAMP_LM64_PTR
    dw TRAMP_SEL_CODE64
    dw 0
    dd pm32                             ; TRAMP_PM32_OFF
    dd lm64                             ; TRAMP_LM64_OFF
data_end:
%if (data_end - $$) != TRAMP_DATA_END
%error "trampoline data block does not match trampoline_layout.h"
%endif
%if (lm64 - $$) >= TRAMP_DATA
%error "trampoline code overlaps its data block"
%endif
    times TRAMP_SIZE - ($ - $$) db 0
