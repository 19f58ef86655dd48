/* ACPI fixed hardware of one VM, matching guest/acpi_gen.h: PM1a event
 * block (PM1_STS, PM1_EN), PM1a control (SCI_EN always set, SLP_TYP and
 * SLP_EN), the 32-bit PM timer at 3.579545 MHz, the reset register at
 * 0xCF9 and port 0x92's fast reset.
 *
 * SCI: IRQ ACPI_GEN_SCI_IRQ, driven high ("asserted") while
 * PM1_STS & PM1_EN has a bit set. The MADT declares it level, active low;
 * the integrator maps "asserted" to the pin's polarity. Pure state
 * machine; the caller serialises access. Callbacks run inside vpm_io. */
#ifndef VDEV_VPM_H
#define VDEV_VPM_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev/vplatform.h"

#define VPM_TMR_HZ     3579545u
#define VPM_RESET_PORT 0xcf9
#define VPM_PORT92     0x92

struct vpm {
    struct vdev_clock clk;
    uint64_t tsc_hz;
    uint64_t epoch;    /* TSC at init: the PM timer counts from there */
    uint64_t last_tmr; /* 64-bit timer count at the last evaluation */
    uint16_t evt_port, cnt_port, tmr_port;
    uint8_t s5_typ;
    uint16_t sts, en, cnt;
    uint8_t cf9, port92;
    bool sci;
    bool warned_sleep;
    uint64_t deadline;
    irq_line_fn irq;
    void *irq_ctx;
    void (*power_off)(void *ctx);
    void (*reset)(void *ctx);
    void *cb_ctx;
};

void vpm_init(struct vpm *p, const struct vdev_clock *clk, uint16_t evt_port, uint16_t cnt_port,
              uint16_t tmr_port, uint8_t s5_typ, irq_line_fn irq, void *irq_ctx,
              void (*power_off)(void *), void (*reset)(void *), void *cb_ctx);
/* An access of size 1, 2 or 4 starting at port. PM registers take any
 * size (bytes past the end of a block read 0xFF, writes to them are
 * dropped); 0xCF9 and 0x92 are byte registers, so other sizes there are
 * not claimed (0xCF8 is the PCI address port). False: not our port. */
bool vpm_io(struct vpm *p, uint16_t port, unsigned size, bool in, uint32_t *val);
/* The console's `shutdown`: a fixed-feature power button press. */
void vpm_power_button(struct vpm *p);
/* The 32-bit PM timer value at now. */
uint32_t vpm_timer(const struct vpm *p, uint64_t now);
uint64_t vpm_next_deadline(const struct vpm *p);
void vpm_tick(struct vpm *p, uint64_t now);

#endif
