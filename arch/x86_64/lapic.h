/* Local APIC, xAPIC (MMIO) or x2APIC (MSRs) behind one interface. */
#ifndef ARCH_X86_64_LAPIC_H
#define ARCH_X86_64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets in the xAPIC page (x2APIC MSR = 0x800 + offset / 16). */
#define LAPIC_ID        0x020
#define LAPIC_VERSION   0x030
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TMR   0x320
#define LAPIC_LVT_THM   0x330
#define LAPIC_LVT_PMC   0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERR   0x370
#define LAPIC_TMR_ICR   0x380
#define LAPIC_TMR_CCR   0x390
#define LAPIC_TMR_DCR   0x3e0

#define LAPIC_SVR_ENABLE       (1u << 8)
#define LAPIC_LVT_MASKED       (1u << 16)
#define LAPIC_LVT_TSC_DEADLINE (2u << 17)
#define LAPIC_DCR_DIV16        0x3

/* ICR fields (SDM vol. 3 10.6.1). */
#define ICR_DM_FIXED     (0u << 8)
#define ICR_DM_NMI       (4u << 8)
#define ICR_DM_INIT      (5u << 8)
#define ICR_DM_STARTUP   (6u << 8)
#define ICR_DELIV_STATUS (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_ALL_BUT_SELF (3u << 18)

/* BSP: picks the mode (x2APIC when CPUID.1:ECX[21]), maps the xAPIC page,
 * registers the error handler and irq_eoi_hook, then lapic_init_cpu(). */
int lapic_init(void);
/* Every CPU: enables its LAPIC (same mode as the BSP), spurious vector
 * VEC_SPURIOUS, error vector, TPR 0, LVTs masked except LINT1 (NMI, BSP). */
void lapic_init_cpu(bool bsp);
bool lapic_is_x2apic(void);

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t val);

uint32_t lapic_id(void);
void lapic_eoi(void);

/* 0 on success, -1 if the ICR stayed busy (xAPIC) or the ID is unreachable. */
int lapic_send_ipi(uint32_t apic_id, uint8_t vector);
int lapic_send_nmi(uint32_t apic_id);
/* After a real-time guest owned this CPU's LAPIC (lapic_reclaim.c): its
 * TSC deadline and timer off, in-service vectors ended, the host set-up
 * (lapic_init_cpu) again. */
void lapic_reclaim_from_guest(void);
/* Before a real-time guest takes this CPU's local APIC: the host's timer
 * off (its queue is reprogrammed by timer_resume_cpu afterwards). */
void lapic_hand_to_guest(void);
int lapic_send_init(uint32_t apic_id);
int lapic_send_sipi(uint32_t apic_id, uint8_t page);
int lapic_broadcast_nmi_others(void);

/* Timer access for arch/x86_64/timer.c. */
bool lapic_has_tsc_deadline(void);
/* Masks the timer and programs its LVT with vector, one-shot (divide 16)
 * or TSC-deadline mode. */
void lapic_timer_setup(uint8_t vector, bool tsc_deadline);
void lapic_timer_oneshot(uint32_t count); /* 0 stops the timer */
uint32_t lapic_timer_current(void);
void lapic_timer_deadline(uint64_t tsc); /* 0 disarms */

#endif
