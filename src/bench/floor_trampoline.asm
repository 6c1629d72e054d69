; scripts/bench's floor trampoline (built only with KCONFIG_BENCH_FLOOR=1, never in the
; normal image): the least an AP can do after INIT-SIPI-SIPI. In real mode at CS = page >> 4,
; IP = 0, exactly where the kernel's own trampoline starts, it reads its TSC, finds its APIC
; ID as ap_entry.asm does, stores the TSC at stamp[APIC ID] (floor_layout.h), counts itself
; with one locked increment and halts. No stack, no paging, no mode switch.
%include "asm_offsets.inc"
%include "floor_offsets.inc"
%include "arch/apic_id.inc"

%macro AT 1
    times (%1) - ($ - $$) db 0
%endmacro

bits 16
org 0
start16:
    cli
    rdtsc                               ; the mark: first thing (CR4.TSD is 0 after INIT)
    mov esi, eax
    mov edi, edx
    mov ax, cs
    mov ds, ax
    APIC_ID_TO_EDX                      ; as ap_entry.asm reads it
    cmp edx, FLOOR_MAX_APIC_IDS
    jae .no_stamp
    ; 32-bit addressing in real mode: the offset stays below the page's end (< 64 KiB).
    mov [edx * 8 + FLOOR_STAMP], esi    ; low half first: non-zero from here on
    mov [edx * 8 + FLOOR_STAMP + 4], edi
    jmp .count
.no_stamp:
    lock inc dword [FLOOR_UNSTAMPED]
.count:
    lock inc dword [FLOOR_MARKED]       ; a full barrier: the stamp is visible before the count
.park:
    hlt                                 ; interrupts off: only an NMI or INIT wakes it
    jmp .park
code_end:
%if (code_end - $$) > FLOOR_CODE_SIZE
%error "floor trampoline overlaps its data"
%endif
    AT FLOOR_PAGE_SIZE                  ; count and stamps start zeroed: the blob is the page
