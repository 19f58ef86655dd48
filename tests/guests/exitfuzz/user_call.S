/* fz_user_call(fn, stack_top): runs fn at CPL 3 on stack_top and returns
 * here when fn's `int $0x80` reaches fz_user_return (ops_user.c). The
 * callee-saved registers and the CPL 0 stack pointer are kept in
 * fz_user_saved across the trip. */
    .text
    .globl fz_user_call
fz_user_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, fz_user_saved_rsp(%rip)
    movq $2, %rdx                /* RFLAGS: interrupts off */
    call enter_user              /* does not return */

    .globl fz_user_resume
fz_user_resume:
    movq fz_user_saved_rsp(%rip), %rsp
    movw $0x10, %ax              /* kernel data selector back in DS/ES */
    movw %ax, %ds
    movw %ax, %es
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

    .bss
    .align 8
    .globl fz_user_saved_rsp
fz_user_saved_rsp:
    .quad 0

    .section .note.GNU-stack, "", @progbits
