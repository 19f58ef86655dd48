/* The timer interrupt stub of platform-bench (vector 0x40). */
    .text
    .globl pbench_isr
pbench_isr:
    pushal
    cld
    call pbench_timer_irq
    popal
    iret
