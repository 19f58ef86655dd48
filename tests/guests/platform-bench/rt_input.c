/* platform-bench mode=rt input=1: one line from the console through vUART
 * receive interrupts. The guest routes vIOAPIC pin 4 (COM1) to vector 0x41
 * at its own x2APIC ID, enables the receive interrupt, and halts until the
 * line is complete; the handler drains the receive FIFO and EOIs the local
 * APIC it owns. Prints `rt-bench: type a line` before and `rt-bench: got
 * line 'TEXT' (N interrupts)` after. */
#include "tests/guests/platform-bench/pbench.h"

#define UART_VEC    0x41
#define COM1        0x3f8
#define UART_IER    1
#define UART_MCR    4
#define UART_LSR    5
#define IOAPIC_SEL  ((volatile uint32_t *)(uintptr_t)0xfec00000u)
#define IOAPIC_WIN  ((volatile uint32_t *)(uintptr_t)0xfec00010u)
#define COM1_PIN    4
#define RTE_LO(pin) (0x10 + 2 * (pin))

extern char pbench_uart_isr[];
void pbench_uart_irq(void);

static char line[64];
static volatile uint32_t len, done, uart_irqs;

void pbench_uart_irq(void)
{
    uart_irqs++;
    while (inb(COM1 + UART_LSR) & 1) {
        char c = (char)inb(COM1);
        if (c == '\r' || c == '\n')
            done = len > 0;
        else if (!done && len < sizeof(line) - 1)
            line[len++] = c;
    }
    wrmsr(MSR_X2APIC_EOI, 0);
}

static void ioapic_write(uint32_t index, uint32_t val)
{
    *IOAPIC_SEL = index;
    *IOAPIC_WIN = val;
}

void pbench_rt_read_line(void)
{
    uint32_t me = (uint32_t)rdmsr(MSR_X2APIC_ID);
    pbench_set_gate(UART_VEC, (uint32_t)(uintptr_t)pbench_uart_isr);
    /* Edge, active high, physical destination: this CPU's local APIC. */
    ioapic_write(RTE_LO(COM1_PIN) + 1, me << 24);
    ioapic_write(RTE_LO(COM1_PIN), UART_VEC);
    outb(COM1 + UART_MCR, 0x0b); /* DTR, RTS, OUT2 (gates the IRQ line) */
    outb(COM1 + UART_IER, 0x01); /* received data available */
    printf("rt-bench: type a line\n");
    while (!done)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    outb(COM1 + UART_IER, 0);
    line[len] = 0;
    printf("rt-bench: got line '%s' (%u interrupts)\n", line, uart_irqs);
}
