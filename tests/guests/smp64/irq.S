/* Interrupt stubs of smp64: save the caller-saved registers, call
 * smp64_irq(vector), restore, iretq. Kernel mode only (no stack switch);
 * the frame leaves RSP 16-byte aligned at the call, as the ABI wants. */

    .text
    .code64

.macro IRQ vec
    .globl smp64_irq\vec
smp64_irq\vec:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    cld
    movl $\vec, %edi
    call smp64_irq
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    iretq
.endm

IRQ 64
IRQ 65
IRQ 66
IRQ 67

    .section .note.GNU-stack, "", @progbits
