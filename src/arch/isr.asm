; Interrupt and exception entry stubs. Each stub makes the stack look the same
; (an error code slot, then the vector), saves every general register into an
; arch::TrapFrame and calls trap_dispatch(TrapFrame*). The frame's offsets (TF_*) come
; from arch/trap_frame.hpp through asm_offsets.inc; each push is checked against them.

%include "asm_offsets.inc"
%include "arch/cfi.inc"

; Every frame below is described to the unwinders (arch/cfi.inc) as a trap frame: the CFA
; is the end of the CPU's frame, the return address is the interrupted rip and the
; interrupted rsp and registers are read from where they sit, on whichever stack (IST or
; not) the CPU switched to; every row says which of them are saved so far.

; Pushes a register of the frame; TF_<REG> must be where it lands. The registers are
; pushed downwards from the vector, so the k-th push lands at TF_VECTOR - 8 * (k + 1).
%macro SAVE 3                           ; register, its TF_ offset, its DWARF number
%assign saved saved + 8
%if (%2) != TF_VECTOR - saved
%error "isr.asm push order does not match arch::TrapFrame at %1"
%endif
    push %1
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE - (%2)
    CFI_TF_SAVED %3, %2
%endmacro
; Pops a register saved by SAVE: from here on it holds its own value again.
%macro RESTORE 3                        ; register, its TF_ offset, its DWARF number
    pop %1
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE - (%2) - 8
    CFI_SAME_VALUE %3
%endmacro

section .text
bits 64
CFI_CIES
extern trap_dispatch

; The CPU pushed rip, cs, rflags, rsp, ss (SDM Vol. 3A 6.14.1, Figure 6-9), and for some
; vectors an error code (Table 6-1); the stub makes both shapes one.
%macro STUB_RULES 1                     ; rsp points at the TrapFrame member %1
    CFI_DEF_CFA DW_RSP, TF_SIZE - (%1)
    CFI_TF_SAVED DW_RA, TF_RIP
    CFI_TF_SAVED DW_RSP, TF_RSP
%endmacro
%macro STUB_NOERR 1
isr_stub_%1:
    CFI_STARTPROC isr_stub_%1, signal
    STUB_RULES TF_RIP
    push 0
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE - TF_ERROR_CODE
    push %1
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE - TF_VECTOR
    jmp isr_common
    CFI_ENDPROC
%endmacro
%macro STUB_ERR 1                       ; the CPU pushed an error code (SDM Vol. 3A Table 6-1)
isr_stub_%1:
    CFI_STARTPROC isr_stub_%1, signal
    STUB_RULES TF_ERROR_CODE
    push %1
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE - TF_VECTOR
    jmp isr_common
    CFI_ENDPROC
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
STUB_NOERR VEC_WAKE

%if TF_ERROR_CODE != TF_VECTOR + 8 || TF_RIP != TF_ERROR_CODE + 8
%error "arch::TrapFrame: vector and error code must sit right below the CPU's frame"
%endif
isr_common:
    CFI_STARTPROC isr_common, signal
    STUB_RULES TF_VECTOR
%assign saved 0
    SAVE rax, TF_RAX, DW_RAX
    SAVE rbx, TF_RBX, DW_RBX
    SAVE rcx, TF_RCX, DW_RCX
    SAVE rdx, TF_RDX, DW_RDX
    SAVE rsi, TF_RSI, DW_RSI
    SAVE rdi, TF_RDI, DW_RDI
    SAVE rbp, TF_RBP, DW_RBP
    SAVE r8, TF_R8, DW_R8
    SAVE r9, TF_R9, DW_R9
    SAVE r10, TF_R10, DW_R10
    SAVE r11, TF_R11, DW_R11
    SAVE r12, TF_R12, DW_R12
    SAVE r13, TF_R13, DW_R13
    SAVE r14, TF_R14, DW_R14
    SAVE r15, TF_R15, DW_R15
%if saved != TF_VECTOR
%error "isr.asm saves fewer registers than arch::TrapFrame holds"
%endif
    cld
    mov rdi, rsp                        ; rsp = the TrapFrame
    ; A frame-pointer chain through the interrupted code, for anyone who walks rbp without
    ; the CFI: rbp points at a fake frame (interrupted rbp, interrupted rip).
    push qword [rsp + TF_RIP]           ; interrupted rip
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE + 8
    push qword [rsp + 8 + TF_RBP]       ; interrupted rbp (rsp moved by the push above)
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE + 16
    mov rbp, rsp
    call trap_dispatch
    add rsp, 2 * 8                      ; the fake frame
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE
    RESTORE r15, TF_R15, DW_R15
    RESTORE r14, TF_R14, DW_R14
    RESTORE r13, TF_R13, DW_R13
    RESTORE r12, TF_R12, DW_R12
    RESTORE r11, TF_R11, DW_R11
    RESTORE r10, TF_R10, DW_R10
    RESTORE r9, TF_R9, DW_R9
    RESTORE r8, TF_R8, DW_R8
    RESTORE rbp, TF_RBP, DW_RBP
    RESTORE rdi, TF_RDI, DW_RDI
    RESTORE rsi, TF_RSI, DW_RSI
    RESTORE rdx, TF_RDX, DW_RDX
    RESTORE rcx, TF_RCX, DW_RCX
    RESTORE rbx, TF_RBX, DW_RBX
    RESTORE rax, TF_RAX, DW_RAX
    add rsp, TF_RIP - TF_VECTOR         ; vector and error code
    CFI_ROW
    CFI_DEF_CFA_OFFSET TF_SIZE - TF_RIP
    iretq
    CFI_ENDPROC

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
    STUB_ENTRY VEC_WAKE

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
    CFI_STARTPROC guarded_call
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
    CFI_ROW
    CFI_DEF_CFA_OFFSET 16
    CFI_OFFSET DW_RBP, -16
    mov rbp, rsp
    CFI_ROW
    CFI_DEF_CFA_REGISTER DW_RBP
    mov rax, rdi
    mov rdi, rsi
    call rax
    pop rbp
    CFI_ROW
    CFI_DEF_CFA DW_RSP, 8
    CFI_SAME_VALUE DW_RBP
    xor eax, eax
    ret
    CFI_ENDPROC
guard_resume:                           ; (jmpbuf) -> never returns
    CFI_STARTPROC guard_resume
    CFI_UNDEFINED DW_RA                 ; it abandons its caller's frames: unwinding ends here
    mov rbx, [rdi + jmpbuf.rbx]
    mov rbp, [rdi + jmpbuf.rbp]
    mov r12, [rdi + jmpbuf.r12]
    mov r13, [rdi + jmpbuf.r13]
    mov r14, [rdi + jmpbuf.r14]
    mov r15, [rdi + jmpbuf.r15]
    mov rsp, [rdi + jmpbuf.rsp]
    mov eax, 1
    jmp [rdi + jmpbuf.rip]
    CFI_ENDPROC

; call_with_frame(fn, arg, stack_top, frame): runs fn(arg) on the stack below stack_top
; (16-byte aligned), under a copy of the arch::TrapFrame *frame, and returns. The copy is
; that stack's outermost frame and is described as a trap frame (CFI below), so gdb and
; the kernel's unwinder go from fn's frames straight to the code `frame` was taken in, on
; whatever stack it ran, as they do through isr_common. The panic shell and the
; debugger's stop shell run this way (debug/panic.cpp, debug/stop.cpp).
global call_with_frame
call_with_frame:
    CFI_STARTPROC call_with_frame
    push rbp
    CFI_ROW
    CFI_DEF_CFA_OFFSET 16
    CFI_OFFSET DW_RBP, -16
    mov rbp, rsp
    CFI_ROW
    CFI_DEF_CFA_REGISTER DW_RBP
    push rbx
    CFI_ROW
    CFI_OFFSET DW_RBX, -24
    sub rsp, 8                          ; keeps the old stack 16-byte aligned
    mov rbx, rsp                        ; the old stack, across the call (callee-saved)
    mov rax, rdi                        ; fn
    mov rdi, rsi                        ; its argument
    sub rdx, TF_SIZE                    ; where the copy goes
%if TF_SIZE % 16 != 0
%error "call_with_frame: the frame copy must keep the new stack 16-byte aligned"
%endif
    xor r8d, r8d
.copy:
    mov r9, [rcx + r8]
    mov [rdx + r8], r9
    add r8, 8
    cmp r8, TF_SIZE
    jb .copy
    mov rsp, rdx
    CFI_ENDPROC
; From here to the switch back, the stack holds nothing but the frame copy: unwinding
; continues at the code the frame describes.
call_with_frame_on_frame:
    CFI_STARTPROC call_with_frame_on_frame, signal
    CFI_TRAP_FRAME 0
    call rax
    mov rsp, rbx
    CFI_ENDPROC
call_with_frame_return:
    CFI_STARTPROC call_with_frame_return
    CFI_DEF_CFA DW_RBP, 16              ; as after the prologue above
    CFI_OFFSET DW_RBP, -16
    CFI_OFFSET DW_RBX, -24
    add rsp, 8
    pop rbx
    CFI_ROW
    CFI_SAME_VALUE DW_RBX
    pop rbp
    CFI_ROW
    CFI_DEF_CFA DW_RSP, 8
    CFI_SAME_VALUE DW_RBP
    ret
    CFI_ENDPROC

; start_on_stack(stack_top, fn): runs fn() on a fresh stack as the outermost frame of the
; calling CPU (its return address is undefined in the CFI: unwinders stop here, as at
; ap_long_entry); fn must not return. The bootstrap CPU moves onto its own slot's stack
; this way (smp::bsp_enter_slot).
global start_on_stack
start_on_stack:
    CFI_STARTPROC start_on_stack
    CFI_UNDEFINED DW_RA
    mov rsp, rdi
    xor ebp, ebp
    call rsi
    ud2                                 ; fn returned: a bug
    CFI_ENDPROC
