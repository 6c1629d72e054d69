; Interrupt and exception entry stubs. Each stub makes the stack look the same
; (an error code slot, then the vector), saves every general register into an
; arch::TrapFrame and calls trap_dispatch(TrapFrame*). Offsets: arch/trap_frame.hpp.

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
STUB_NOERR 0xf0
STUB_NOERR 0xf1
STUB_NOERR 0xf2
STUB_NOERR 0xfe
STUB_NOERR 0xff

isr_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    ; A frame-pointer chain through the interrupted code: the backtrace walks rbp,
    ; so point rbp at a fake frame (saved rbp, interrupted rip) built from the frame.
    push qword [rsp + 17 * 8]           ; interrupted rip
    push qword [rsp + 8 + 8 * 8]        ; interrupted rbp (TrapFrame.rbp at 8 * 8)
    mov rbp, rsp
    call trap_dispatch
    add rsp, 16
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
    add rsp, 16                         ; vector and error code
    iretq

section .rodata
global isr_stub_table
align 8
isr_stub_table:                         ; vectors 0-31, then 0xf0, 0xf1, 0xf2, 0xfe, 0xff
%assign i 0
%rep 32
    dq isr_stub_%+i
%assign i i + 1
%endrep
    dq isr_stub_0xf0
    dq isr_stub_0xf1
    dq isr_stub_0xf2
    dq isr_stub_0xfe
    dq isr_stub_0xff

; Guarded calls for the monitor: guarded_call(fn, arg, jmpbuf) runs fn(arg) and
; returns 0; if an exception handler calls guard_resume(jmpbuf) while fn runs, the
; stack is unwound to guarded_call and it returns 1. jmpbuf: rbx rbp r12 r13 r14 r15 rsp rip.
section .text
global guarded_call, guard_resume
guarded_call:
    mov [rdx + 0], rbx
    mov [rdx + 8], rbp
    mov [rdx + 16], r12
    mov [rdx + 24], r13
    mov [rdx + 32], r14
    mov [rdx + 40], r15
    lea rax, [rsp + 8]                  ; rsp after our return
    mov [rdx + 48], rax
    mov rax, [rsp]
    mov [rdx + 56], rax                 ; our return address
    push rbp
    mov rbp, rsp
    mov rax, rdi
    mov rdi, rsi
    call rax
    pop rbp
    xor eax, eax
    ret
guard_resume:                           ; (jmpbuf) -> never returns
    mov rbx, [rdi + 0]
    mov rbp, [rdi + 8]
    mov r12, [rdi + 16]
    mov r13, [rdi + 24]
    mov r14, [rdi + 32]
    mov r15, [rdi + 40]
    mov rsp, [rdi + 48]
    mov eax, 1
    jmp [rdi + 56]
