/* platform-bench mode=check, `level-eoi`: a level-triggered vIOAPIC pin
 * must see the guest's EOI (x2APIC MSR or xAPIC MMIO write; with virtual-interrupt delivery, an
 * EOI-induced exit): vIOAPIC pin 4 (COM1) level-triggered to vector 0x45,
 * the vUART's transmitter-empty interrupt raised twice (IER written 0,
 * then THRI); the handler reads IIR (which lowers the line) and EOIs. Both
 * interrupts arrive and Remote IRR is clear at the end only if each EOI
 * reached the vIOAPIC. */
#include "tests/guests/platform-bench/pbench.h"

#define LEVEL_VEC   0x45
#define COM1        0x3f8
#define UART_IER    1
#define UART_IIR    2
#define UART_MCR    4
#define IOAPIC_SEL  ((volatile uint32_t *)(uintptr_t)0xfec00000u)
#define IOAPIC_WIN  ((volatile uint32_t *)(uintptr_t)0xfec00010u)
#define COM1_PIN    4
#define RTE_LO(pin) (0x10 + 2 * (pin))
#define RTE_LEVEL   (1u << 15)
#define RTE_REMOTE  (1u << 14)
#define RTE_MASKED  (1u << 16)

extern char pbench_level_isr[];
void pbench_level_irq(void);
bool pbench_level_check(void);

static volatile uint32_t level_irqs;

void pbench_level_irq(void)
{
    level_irqs++;
    (void)inb(COM1 + UART_IIR); /* THRE read out: the line goes low */
    pbench_apic_eoi();
}

static void ioapic_write(uint32_t index, uint32_t val)
{
    *IOAPIC_SEL = index;
    *IOAPIC_WIN = val;
}

static uint32_t ioapic_read(uint32_t index)
{
    *IOAPIC_SEL = index;
    return *IOAPIC_WIN;
}

static void wait_irqs(uint32_t n)
{
    __asm__ volatile("sti" ::: "memory");
    for (uint32_t spin = 0; level_irqs < n && spin < 2000000; spin++)
        __asm__ volatile("pause" ::: "memory");
    __asm__ volatile("cli" ::: "memory");
}

/* Prints its line; true on PASS. Leaves the pin masked and IER 0. */
bool pbench_level_check(void)
{
    uint32_t me = pbench_apic_id();
    pbench_set_gate(LEVEL_VEC, (uint32_t)(uintptr_t)pbench_level_isr);
    ioapic_write(RTE_LO(COM1_PIN) + 1, me << 24);
    ioapic_write(RTE_LO(COM1_PIN), LEVEL_VEC | RTE_LEVEL);
    outb(COM1 + UART_MCR, 0x0b); /* DTR, RTS, OUT2 (gates the IRQ line) */
    level_irqs = 0;
    outb(COM1 + UART_IER, 0x02); /* THR empty: raised at once */
    wait_irqs(1);
    outb(COM1 + UART_IER, 0);
    outb(COM1 + UART_IER, 0x02); /* again */
    wait_irqs(2);
    outb(COM1 + UART_IER, 0);
    uint32_t rte = ioapic_read(RTE_LO(COM1_PIN));
    ioapic_write(RTE_LO(COM1_PIN), LEVEL_VEC | RTE_LEVEL | RTE_MASKED);
    bool ok = level_irqs == 2 && !(rte & RTE_REMOTE);
    printf("platform-bench: check level-eoi: %s (%u interrupts, remote IRR %s)\n",
           ok ? "PASS" : "FAIL", level_irqs, rte & RTE_REMOTE ? "set" : "clear");
    return ok;
}
