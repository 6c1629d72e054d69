; Interrupt and exception entry stubs. Each stub makes the stack look the same
; (an error code slot, then the vector), saves every general register into an
; arch::TrapFrame and calls trap_dispatch(TrapFrame*). The frame's offsets (TF_*) come
; from arch/trap_frame.hpp through asm_offsets.inc; each push is checked against them.

%include "asm_offsets.inc"

; Pushes a register of the frame; TF_<REG> must be where it lands. The registers are
; pushed downwards from the vector, so the k-th push lands at TF_VECTOR - 8 * (k + 1).
%macro SAVE 2                           ; register, its TF_ offset
%assign saved saved + 8
%if (%2) != TF_VECTOR - saved
%error "isr.asm push order does not match arch::TrapFrame at %1"
%endif
    push %1
%endmacro

section .text
bits 64
extern trap_dispatch

%macro STUB_NOERR 1
isr_stub_%1:
    push 0
    push %1
    jmp isr_common
%endmacro
%macro STUB_ERR 1                       ; the CPU pushed an error code (SDM Vol. 3A Table 6-1)
isr_stub_%1:
    push %1
    jmp isr_common
%endmacro

STUB_NOERR 0
STUB_NOERR 1
STUB_NOERR 2
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR   8
STUB_NOERR 9
STUB_ERR   10
STUB_ERR   11
STUB_ERR   12
STUB_ERR   13
STUB_ERR   14
STUB_NOERR 15
STUB_NOERR 16
STUB_ERR   17
STUB_NOERR 18
STUB_NOERR 19
STUB_NOERR 20
STUB_ERR   21
STUB_NOERR 22
STUB_NOERR 23
STUB_NOERR 24
STUB_NOERR 25
STUB_NOERR 26
STUB_NOERR 27
STUB_NOERR 28
STUB_ERR   29
STUB_ERR   30
STUB_NOERR 31
STUB_NOERR VEC_CROSS_CALL             ; the kernel's vectors (arch::vec)
STUB_NOERR VEC_APIC_TIMER
STUB_NOERR VEC_TLB_FLUSH
STUB_NOERR VEC_APIC_ERROR
STUB_NOERR VEC_SPURIOUS

%if TF_ERROR_CODE != TF_VECTOR + 8 || TF_RIP != TF_ERROR_CODE + 8
%error "arch::TrapFrame: vector and error code must sit right below the CPU's frame"
%endif
isr_common:
%assign saved 0
    SAVE rax, TF_RAX
    SAVE rbx, TF_RBX
    SAVE rcx, TF_RCX
    SAVE rdx, TF_RDX
    SAVE rsi, TF_RSI
    SAVE rdi, TF_RDI
    SAVE rbp, TF_RBP
    SAVE r8, TF_R8
    SAVE r9, TF_R9
    SAVE r10, TF_R10
    SAVE r11, TF_R11
    SAVE r12, TF_R12
    SAVE r13, TF_R13
    SAVE r14, TF_R14
    SAVE r15, TF_R15
%if saved != TF_VECTOR
%error "isr.asm saves fewer registers than arch::TrapFrame holds"
%endif
    cld
    mov rdi, rsp                        ; rsp = the TrapFrame
    ; A frame-pointer chain through the interrupted code: the backtrace walks rbp,
    ; so point rbp at a fake frame (saved rbp, interrupted rip) built from the frame.
    push qword [rsp + TF_RIP]           ; interrupted rip
    push qword [rsp + 8 + TF_RBP]       ; interrupted rbp (rsp moved by the push above)
    mov rbp, rsp
    call trap_dispatch
    add rsp, 2 * 8                      ; the fake frame
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, TF_RIP - TF_VECTOR         ; vector and error code
    iretq

section .rodata
global isr_stub_table
align 8
isr_stub_table:                         ; exceptions 0-31, then the kernel's vectors (idt.cpp)
%assign i 0
%rep 32
    dq isr_stub_%+i
%assign i i + 1
%endrep
%macro STUB_ENTRY 1
%assign i %1
    dq isr_stub_%+i
%endmacro
    STUB_ENTRY VEC_CROSS_CALL
    STUB_ENTRY VEC_APIC_TIMER
    STUB_ENTRY VEC_TLB_FLUSH
    STUB_ENTRY VEC_APIC_ERROR
    STUB_ENTRY VEC_SPURIOUS

; Guarded calls for the monitor: guarded_call(fn, arg, jmpbuf) runs fn(arg) and
; returns 0; if an exception handler calls guard_resume(jmpbuf) while fn runs, the
; stack is unwound to guarded_call and it returns 1. jmpbuf (PerCpu::guard_buf, opaque to
; C++) holds the callee-saved registers, rsp and rip; its layout is defined here alone.
struc jmpbuf
    .rbx: resq 1
    .rbp: resq 1
    .r12: resq 1
    .r13: resq 1
    .r14: resq 1
    .r15: resq 1
    .rsp: resq 1
    .rip: resq 1
endstruc
%if jmpbuf_size > PERCPU_GUARD_BUF_SIZE
%error "jmpbuf does not fit smp::PerCpu::guard_buf"
%endif

section .text
global guarded_call, guard_resume
guarded_call:
    mov [rdx + jmpbuf.rbx], rbx
    mov [rdx + jmpbuf.rbp], rbp
    mov [rdx + jmpbuf.r12], r12
    mov [rdx + jmpbuf.r13], r13
    mov [rdx + jmpbuf.r14], r14
    mov [rdx + jmpbuf.r15], r15
    lea rax, [rsp + 8]                  ; rsp after our return
    mov [rdx + jmpbuf.rsp], rax
    mov rax, [rsp]
    mov [rdx + jmpbuf.rip], rax         ; our return address
    push rbp
    mov rbp, rsp
    mov rax, rdi
    mov rdi, rsi
    call rax
    pop rbp
    xor eax, eax
    ret
guard_resume:                           ; (jmpbuf) -> never returns
    mov rbx, [rdi + jmpbuf.rbx]
    mov rbp, [rdi + jmpbuf.rbp]
    mov r12, [rdi + jmpbuf.r12]
    mov r13, [rdi + jmpbuf.r13]
    mov r14, [rdi + jmpbuf.r14]
    mov r15, [rdi + jmpbuf.r15]
    mov rsp, [rdi + jmpbuf.rsp]
    mov eax, 1
    jmp [rdi + jmpbuf.rip]
