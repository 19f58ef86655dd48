/* Exception entry stubs for the test guests' IDT, and the ring-3 switch.
 * Every stub leaves the same frame (struct trap_frame in guest.h) and calls
 * guest_trap(frame); the handler may edit the frame before the IRET. */

    .text
    .code32

/* Vectors where the CPU pushes an error code. */
#define ISR_NOERR(n) \
    .globl isr_##n; isr_##n: pushl $0; pushl $n; jmp isr_common
#define ISR_ERR(n) \
    .globl isr_##n; isr_##n: pushl $n; jmp isr_common

ISR_NOERR(0)
ISR_NOERR(1)
ISR_NOERR(2)
ISR_NOERR(3)
ISR_NOERR(4)
ISR_NOERR(5)
ISR_NOERR(6)
ISR_NOERR(7)
ISR_ERR(8)
ISR_NOERR(9)
ISR_ERR(10)
ISR_ERR(11)
ISR_ERR(12)
ISR_ERR(13)
ISR_ERR(14)
ISR_NOERR(15)
ISR_NOERR(16)
ISR_ERR(17)
ISR_NOERR(18)
ISR_NOERR(19)
ISR_NOERR(20)
ISR_ERR(21)
ISR_NOERR(22)
ISR_NOERR(23)
ISR_NOERR(24)
ISR_NOERR(25)
ISR_NOERR(26)
ISR_NOERR(27)
ISR_NOERR(28)
ISR_ERR(29)
ISR_ERR(30)
ISR_NOERR(31)
ISR_NOERR(128)

isr_common:
    pushal
    pushl %ds
    pushl %es
    /* A trap from ring 3 arrives with the user's data selectors. */
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    cld
    pushl %esp
    call guest_trap
    addl $4, %esp
    popl %es
    popl %ds
    popal
    addl $8, %esp                /* vector and error code */
    iret

    .data
    .balign 4
    .globl isr_table
isr_table:
    .long isr_0, isr_1, isr_2, isr_3, isr_4, isr_5, isr_6, isr_7
    .long isr_8, isr_9, isr_10, isr_11, isr_12, isr_13, isr_14, isr_15
    .long isr_16, isr_17, isr_18, isr_19, isr_20, isr_21, isr_22, isr_23
    .long isr_24, isr_25, isr_26, isr_27, isr_28, isr_29, isr_30, isr_31
    .globl isr_syscall
isr_syscall:
    .long isr_128

    .text
/* void enter_ring3(void (*fn)(void), void *stack_top, uint32_t eflags)
 * IRETs to fn at CPL 3 on the given stack with the given EFLAGS. */
    .globl enter_ring3
    .type enter_ring3, @function
enter_ring3:
    movl 4(%esp), %eax
    movl 8(%esp), %ecx
    movl 12(%esp), %edx
    movw $0x23, %bx
    movw %bx, %ds
    movw %bx, %es
    movw %bx, %fs
    movw %bx, %gs
    pushl $0x23                  /* SS */
    pushl %ecx                   /* ESP */
    pushl %edx                   /* EFLAGS */
    pushl $0x1b                  /* CS */
    pushl %eax                   /* EIP */
    iret
    .size enter_ring3, . - enter_ring3

    .section .note.GNU-stack, "", @progbits
