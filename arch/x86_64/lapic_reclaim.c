/* Taking a local APIC back from a real-time guest that drove it directly
 * through the x2APIC MSRs (docs/realtime.md): its timer off, its
 * in-service interrupts ended, then the host's own set-up again. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"

#define LAPIC_ISR0 0x100 /* eight 32-bit ISR registers, 0x10 apart */

static bool in_service(void)
{
    for (unsigned i = 0; i < 8; i++)
        if (lapic_read(LAPIC_ISR0 + i * 0x10))
            return true;
    return false;
}

static void timer_off(void)
{
    lapic_write(LAPIC_LVT_TMR, LAPIC_LVT_MASKED);
    wrmsr(MSR_IA32_TSC_DEADLINE, 0);
    lapic_write(LAPIC_TMR_ICR, 0);
}

void lapic_hand_to_guest(void)
{
    timer_off(); /* no host timer may fire into the guest's IDT */
}

void lapic_reclaim_from_guest(void)
{
    timer_off();
    /* At most one EOI per in-service vector. */
    for (unsigned i = 0; i < 256 && in_service(); i++)
        lapic_eoi();
    lapic_init_cpu(false);
}
