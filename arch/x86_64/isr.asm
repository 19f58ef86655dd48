; Interrupt and exception entry stubs: each pushes an error code (a dummy
; where the CPU does not) and its vector, then the common path saves every
; general register as a struct irq_frame (arch/x86_64/irq.h).

bits 64
section .text

extern irq_dispatch

%macro ISR_NOERR 1
isr_%1:
    push qword 0
    push qword %1
    jmp isr_common
%endmacro

%macro ISR_ERR 1
isr_%1:
    push qword %1
    jmp isr_common
%endmacro

; Vectors whose exceptions push an error code: #DF #TS #NP #SS #GP #PF #AC #CP.
%assign v 0
%rep 256
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21
    ISR_ERR v
%else
    ISR_NOERR v
%endif
%assign v v+1
%endrep

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
    ; Align the stack for the C ABI whatever the interrupted RSP was.
    mov rbx, rsp
    and rsp, -16
    call irq_dispatch
    mov rsp, rbx
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
    add rsp, 16
    iretq

section .rodata
global isr_stub_table
isr_stub_table:
%assign v 0
%rep 256
    dq isr_ %+ v
%assign v v+1
%endrep
