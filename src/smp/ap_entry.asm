; First higher-half code of an AP, reached from the trampoline in long mode with the
; kernel's page tables but no stack. Finds the AP's index by its APIC ID (CPUID, since
; the LAPIC is not mapped for it yet) in g_cpu_apic_ids, takes the kernel stack of its
; slot and calls ap_prepare(index), then ap_main(index). The slot geometry (mm/layout.hpp, config.hpp) comes from
; asm_offsets.inc, generated from the C++ with this build's KCONFIG settings.
%include "asm_offsets.inc"
%include "arch/apic_id.inc"
%include "arch/cfi.inc"

section .text
bits 64
CFI_CIES
global ap_long_entry
extern g_cpu_apic_ids, g_cpu_apic_count, ap_prepare, ap_main
%if CPU_APIC_ID_SIZE != 4
%error "g_cpu_apic_ids is compared as dwords below"
%endif

ap_long_entry:
    CFI_STARTPROC ap_long_entry
    CFI_UNDEFINED DW_RA                 ; the outermost frame of every AP: unwinding ends here
    APIC_ID_TO_EDX                      ; arch/apic_id.inc
    mov r8d, edx
.search:
    lea rsi, [rel g_cpu_apic_ids]
    mov rcx, [rel g_cpu_apic_count]
    xor edi, edi
.next:
    cmp rdi, rcx
    jae .unknown
    cmp [rsi + rdi * CPU_APIC_ID_SIZE], r8d
    je .found
    inc rdi
    jmp .next
.found:                                 ; rsp = layout::percpu_slot(index) + kStackTopOff
    mov rax, PERCPU_SLOT_SIZE
    imul rax, rdi
    mov rdx, PERCPU_BASE + PERCPU_STACK_TOP_OFF
    add rax, rdx
    mov rsp, rax
    xor ebp, ebp
    push 0                              ; a zero return address ends backtraces here
    mov r12, rdi                        ; the index, kept across the call (callee-saved)
    call ap_prepare                     ; on its slot (GDT/TSS, IDT, GS), breakpoints loaded
    mov rdi, r12
    call ap_main
.unknown:                               ; not in the MADT: park it
    cli
    hlt
    jmp .unknown
    CFI_ENDPROC
