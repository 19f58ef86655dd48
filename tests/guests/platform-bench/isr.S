/* The timer interrupt stub of platform-bench (vector 0x40). */
    .text
    .globl pbench_isr
pbench_isr:
    pushal
    cld
    call pbench_timer_irq
    popal
    iret

/* mode=check (timer_checks.c): its timer (0x42) and self-IPI (0x32). */
    .globl pbench_check_timer_isr
pbench_check_timer_isr:
    pushal
    cld
    call pbench_check_timer_irq
    popal
    iret

    .globl pbench_check_ipi_isr
pbench_check_ipi_isr:
    pushal
    cld
    call pbench_check_ipi_irq
    popal
    iret

/* The vUART receive interrupt stub (rt_input.c, vector 0x41). */
    .globl pbench_uart_isr
pbench_uart_isr:
    pushal
    cld
    call pbench_uart_irq
    popal
    iret

/* mode=check's level-triggered vUART interrupt (level_check.c, 0x45). */
    .globl pbench_level_isr
pbench_level_isr:
    pushal
    cld
    call pbench_level_irq
    popal
    iret

/* mode=ticks (rt_ticks.c): IRQ 0 (0x43) and IRQ 8 (0x44). */
    .globl pbench_pit_isr
pbench_pit_isr:
    pushal
    cld
    call pbench_pit_irq
    popal
    iret

    .globl pbench_rtc_isr
pbench_rtc_isr:
    pushal
    cld
    call pbench_rtc_irq
    popal
    iret

/* mode=window (window_checks.c): its timer (0x46). */
    .globl pbench_window_isr
pbench_window_isr:
    pushal
    cld
    call pbench_window_irq
    popal
    iret
