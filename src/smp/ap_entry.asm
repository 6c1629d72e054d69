; First higher-half code of an AP, reached from the trampoline in long mode with the
; kernel's page tables but no stack. Finds the AP's index by its APIC ID (CPUID, since
; the LAPIC is not mapped for it yet) in g_cpu_apic_ids, takes the kernel stack of its
; slot and calls ap_main(index). The slot geometry comes from C++ (bringup.cpp).
section .text
bits 64
global ap_long_entry
extern g_cpu_apic_ids, g_cpu_apic_count, ap_main
extern g_ap_percpu_base, g_ap_slot_size, g_ap_stack_top_off

ap_long_entry:
    ; APIC ID: CPUID 0xB EDX (the full x2APIC ID) when leaf 0xB is implemented (EBX != 0
    ; on subleaf 0), else CPUID 1 EBX[31:24] (SDM Vol. 3A 11.4.6, Vol. 2A CPUID).
    xor eax, eax
    cpuid
    cmp eax, 0xb
    jb .legacy_id
    mov eax, 0xb
    xor ecx, ecx
    cpuid
    test ebx, ebx
    jz .legacy_id
    mov r8d, edx
    jmp .search
.legacy_id:
    mov eax, 1
    cpuid
    shr ebx, 24
    mov r8d, ebx
.search:
    lea rsi, [rel g_cpu_apic_ids]
    mov rcx, [rel g_cpu_apic_count]
    xor edi, edi
.next:
    cmp rdi, rcx
    jae .unknown
    cmp [rsi + rdi * 4], r8d
    je .found
    inc rdi
    jmp .next
.found:
    mov rax, rdi
    imul rax, [rel g_ap_slot_size]
    add rax, [rel g_ap_percpu_base]
    add rax, [rel g_ap_stack_top_off]
    mov rsp, rax
    xor ebp, ebp
    push 0                              ; a zero return address ends backtraces here
    call ap_main
.unknown:                               ; not in the MADT: park it
    cli
    hlt
    jmp .unknown
