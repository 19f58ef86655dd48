/* Exception stubs of the 64-bit runtime: each pushes a dummy error code
 * where the CPU pushes none, then its vector, saves the general registers
 * and calls lib64_trap(struct trap_frame64 *). Vectors 0-31 and 0x80 (the
 * CPL3 gate). */

    .text
    .code64

.macro STUB vec, has_error
    .globl lib64_isr\vec
lib64_isr\vec:
    .if \has_error == 0
    pushq $0
    .endif
    pushq $\vec
    jmp isr_common
.endm

STUB 0, 0
STUB 1, 0
STUB 2, 0
STUB 3, 0
STUB 4, 0
STUB 5, 0
STUB 6, 0
STUB 7, 0
STUB 8, 1
STUB 9, 0
STUB 10, 1
STUB 11, 1
STUB 12, 1
STUB 13, 1
STUB 14, 1
STUB 15, 0
STUB 16, 0
STUB 17, 1
STUB 18, 0
STUB 19, 0
STUB 20, 0
STUB 21, 1
STUB 22, 0
STUB 23, 0
STUB 24, 0
STUB 25, 0
STUB 26, 0
STUB 27, 0
STUB 28, 0
STUB 29, 1
STUB 30, 1
STUB 31, 0
STUB 128, 0

isr_common:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rbx
    pushq %rbp
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    movq %rsp, %rbx              /* callee-saved: the frame */
    andq $-16, %rsp              /* the ABI's call alignment */
    call lib64_trap
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rbp
    popq %rbx
    popq %rdx
    popq %rcx
    popq %rax
    addq $16, %rsp               /* vector and error code */
    iretq

    .section .rodata
    .balign 8
    .globl lib64_isr_table
lib64_isr_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad lib64_isr\v
    .endr

/* enter_user(fn, stack_top, rflags): iretq to CPL3 at fn. */
    .text
    .globl enter_user
enter_user:
    pushq $0x23                  /* SS: user data */
    pushq %rsi                   /* RSP */
    pushq %rdx                   /* RFLAGS */
    pushq $0x2b                  /* CS: user code, 64-bit */
    pushq %rdi                   /* RIP */
    movw $0x23, %ax
    movw %ax, %ds
    movw %ax, %es
    iretq

    .section .note.GNU-stack, "", @progbits
