; AP trampoline: a flat binary (nasm -f bin) copied to a free page below 1 MiB. An AP
; starts here after INIT-SIPI-SIPI in real mode at CS = page >> 4, IP = 0 (SDM Vol. 3A
; 9.4.4 "MP Initialization Example", 11.6.1 start-up IPI vector). It reads nothing outside
; this page until paging is on: the BSP has filled the data block at TRAMP_DATA. No stack
; is used, so all APs may run it at once. The page is mapped read-only + executable at its
; identity address while APs start, so the GDT's accessed bits are preset (the CPU would
; otherwise write them). The page's layout is smp::TrampolinePage (smp/trampoline_layout.h);
; its offsets, selectors and descriptors come from asm_offsets.inc.
%include "asm_offsets.inc"
%include "boot/boot_defs.inc"

; Pads to the page offset %1, which must not be behind us (a negative count is an error).
%macro AT 1
    times (%1) - ($ - $$) db 0
%endmacro

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
    ; Written whole: INIT left CD and NW set (SDM Vol. 3A 9.1.1, Table 9-1), so the AP
    ; runs with caches on from here; ENTER_LONG_MODE then writes the kernel's CR0.
    mov eax, CR0_PE | CR0_ET
    mov cr0, eax
    jmp far dword [TRAMP_PM32_PTR]      ; 32-bit far pointer, patched with the page base

bits 32
pm32:
    mov ax, TRAMP_SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    ENTER_LONG_MODE CR4_KERNEL, [ebx + TRAMP_CR3]   ; the BSP's sequence; CR3 is final, so PGE too
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
code_end:
%if (code_end - $$) > TRAMP_DATA
%error "trampoline code overlaps its data block"
%endif

; The data block (smp::TrampolineData); the BSP fills in cr3, entry64 and the page base.
    AT TRAMP_CR3
    dd 0
    AT TRAMP_ENTRY64
    dq 0
    AT TRAMP_GDT                        ; null, then the descriptors at their selectors
    dq 0
    AT TRAMP_GDT + TRAMP_SEL_CODE32
    dq GDT_CODE32
    AT TRAMP_GDT + TRAMP_SEL_DATA
    dq GDT_DATA
    AT TRAMP_GDT + TRAMP_SEL_CODE64
    dq GDT_CODE64
    AT TRAMP_GDTR
    dw TRAMP_GDT_LIMIT
    AT TRAMP_GDTR_BASE
    dd TRAMP_GDT                        ; base: page-relative until patched
    AT TRAMP_PM32_PTR
    dd pm32                             ; offset patched (+ page base)
    AT TRAMP_PM32_SEL
    dw TRAMP_SEL_CODE32
    AT TRAMP_LM64_PTR
    dd lm64
    AT TRAMP_LM64_SEL
    dw TRAMP_SEL_CODE64
    AT TRAMP_PM32_OFF
    dd pm32
    AT TRAMP_LM64_OFF
    dd lm64
    AT TRAMP_DATA_END
    AT TRAMP_SIZE
