; First higher-half code of an AP, reached from the trampoline in long mode with the
; kernel's page tables but no stack. Finds the AP's index by its APIC ID (CPUID, since
; the LAPIC is not mapped for it yet) in g_cpu_apic_ids, takes the kernel stack of its
; slot and calls ap_prepare(index), then ap_main(index). The slot geometry (mm/layout.hpp, config.hpp) comes from
; asm_offsets.inc, generated from the C++ with this build's KCONFIG settings.
%include "asm_offsets.inc"
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
    ; APIC ID: CPUID 0xB EDX (the full x2APIC ID) when leaf 0xB is implemented (EBX != 0
    ; on subleaf 0), else CPUID 1 EBX[31:24] (SDM Vol. 3A 11.4.6, Vol. 2A CPUID).
    xor eax, eax
    cpuid
    cmp eax, CPUID_LEAF_TOPOLOGY
    jb .legacy_id
    mov eax, CPUID_LEAF_TOPOLOGY
    xor ecx, ecx
    cpuid
    test ebx, ebx
    jz .legacy_id
    mov r8d, edx
    jmp .search
.legacy_id:
    mov eax, CPUID_LEAF_FEATURES
    cpuid
    shr ebx, CPUID_LEAF1_EBX_APIC_ID_SHIFT
    mov r8d, ebx
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
