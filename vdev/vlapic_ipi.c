/* The vLAPIC's interrupt command register and what it sends (SDM Vol.
 * 3A 10.6): destinations and shorthands, INIT and SIPI reception, LINT
 * pins. Delivery to other vCPUs is the integrator's (ops->send_ipi). */
#include "vdev/vlapic_priv.h"

/* INIT (SDM Vol. 3A 9.4, 10.4.7.3): the APIC returns to its reset state
 * (ID and IA32_APIC_BASE kept) and an AP waits for a SIPI, also when it
 * was running. A pending NMI or SIPI is lost with the rest. The BSP
 * (IA32_APIC_BASE.BSP) never waits for a SIPI: it restarts at the reset
 * vector, in firmware. A VM has no firmware there, so the VM restarts
 * (vlapic.h). Xen takes an INIT'ed BSP offline like an AP and powers the
 * domain off once no vCPU is left; ACRN puts it in wait-for-SIPI like an
 * AP; KVM resets it to the reset vector, where its guests have firmware.
 * A reset is the one that keeps the PC's meaning (the machine starts
 * over) and cannot leave a VM whose every vCPU waits for a SIPI that no
 * one will send. */
void vlapic_init_signal(struct vlapic *a)
{
    vlapic_reset(a);
    a->wait_sipi = !a->bsp;
    a->init_reset = a->bsp;
    a->sipi_latched = false;
    a->nmi_pending = false;
    a->inits++;
    vlapic_notify(a);
}

/* SIPI: latched only while waiting for one, and only the first: further
 * SIPIs are ignored until the vCPU has started. */
void vlapic_sipi(struct vlapic *a, uint8_t vector)
{
    if (!a->wait_sipi || a->sipi_latched)
        return;
    a->sipi_latched = true;
    a->sipi_vector = vector;
    vlapic_notify(a);
}

bool vlapic_waiting_sipi(const struct vlapic *a)
{
    return a->wait_sipi;
}

enum vlapic_startup vlapic_take_startup(struct vlapic *a, uint8_t *vector)
{
    if (a->init_reset)
        return VLAPIC_STARTUP_RESET; /* until the VM restarts: it never runs again */
    if (!a->wait_sipi)
        return VLAPIC_STARTUP_RUN;
    if (!a->sipi_latched)
        return VLAPIC_STARTUP_WAIT;
    a->wait_sipi = false;
    a->sipi_latched = false;
    if (vector)
        *vector = a->sipi_vector;
    return VLAPIC_STARTUP_SIPI;
}

bool vlapic_wakeup_pending(const struct vlapic *a)
{
    if (a->init_reset)
        return true; /* a halted BSP must wake to reset the VM */
    if (a->wait_sipi)
        return a->sipi_latched; /* NMIs and interrupts stay blocked */
    return a->nmi_pending || vlapic_pending_vector(a) >= 0;
}

void vlapic_lint_pulse(struct vlapic *a, unsigned pin)
{
    if (pin > 1 || !vlapic_hw_enabled(a))
        return;
    uint32_t lvt = a->lvt[pin ? VLAPIC_LVT_LINT1 : VLAPIC_LVT_LINT0];
    if (lvt & LVT_MASKED)
        return;
    switch ((lvt >> 8) & 7) {
    case VLAPIC_DM_FIXED:
        vlapic_accept(a, lvt & LVT_VECTOR, (lvt & LVT_LEVEL) != 0);
        break;
    case VLAPIC_DM_NMI:
        vlapic_deliver_nmi(a);
        break;
    default:
        break; /* ExtINT: the vPIC; SMI/INIT: not modelled */
    }
}

bool vlapic_lint0_extint(const struct vlapic *a)
{
    if (!vlapic_hw_enabled(a) || !sw_enabled(a))
        return true;
    uint32_t lvt = a->lvt[VLAPIC_LVT_LINT0];
    return !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == VLAPIC_DM_EXTINT;
}

bool vlapic_match_dest(const struct vlapic *a, uint32_t dest, bool logical)
{
    if (!vlapic_hw_enabled(a))
        return false;
    if (vlapic_x2apic_mode(a)) {
        if (dest == 0xFFFFFFFFu)
            return true;
        if (!logical)
            return dest == a->id;
        return (a->ldr >> 16) == (dest >> 16) && (a->ldr & dest & 0xFFFF) != 0;
    }
    uint8_t d = dest & 0xFF;
    if (d == 0xFF)
        return true;
    if (!logical)
        return d == (a->id & 0xFF);
    uint8_t lid = a->ldr >> 24;
    switch (a->dfr >> 28) {
    case 0xF: /* flat */
        return (lid & d) != 0;
    case 0x0: /* cluster */
        return (lid >> 4) == (d >> 4) && (lid & d & 0xF) != 0;
    default:
        return false;
    }
}

/* --- IPIs -------------------------------------------------------------- */

bool vlapic_ipi_selects(const struct vlapic *target, uint32_t dest, bool logical,
                        unsigned shorthand)
{
    switch (shorthand) {
    case VLAPIC_SH_ALL:
    case VLAPIC_SH_ALL_BUT:
        return vlapic_hw_enabled(target);
    case VLAPIC_SH_NONE:
        return vlapic_match_dest(target, dest, logical);
    default:
        return false; /* self: the sender's own business */
    }
}

void vlapic_ipi_receive(struct vlapic *a, unsigned mode, uint8_t vector, bool level)
{
    switch (mode) {
    case VLAPIC_DM_FIXED:
    case VLAPIC_DM_LOWEST:
        vlapic_accept(a, vector, level);
        break;
    case VLAPIC_DM_NMI:
        vlapic_deliver_nmi(a);
        break;
    case VLAPIC_DM_INIT:
        vlapic_init_signal(a);
        break;
    case VLAPIC_DM_STARTUP:
        vlapic_sipi(a, vector);
        break;
    default:
        break; /* SMI: not modelled */
    }
}

void vlapic_send_icr(struct vlapic *a, uint32_t lo, uint32_t dest)
{
    uint8_t vector = lo & ICR_VECTOR;
    unsigned mode = (lo >> 8) & 7;
    bool logical = lo & ICR_LOGICAL, level = lo & ICR_LEVEL;
    unsigned sh = (lo >> ICR_SH_SHIFT) & 3;

    if (mode == 3 || mode == VLAPIC_DM_EXTINT)
        return; /* reserved delivery modes */
    if (mode == VLAPIC_DM_INIT && level && !(lo & ICR_ASSERT))
        return; /* INIT level de-assert: no-op since the Pentium 4 */
    if ((mode == VLAPIC_DM_FIXED || mode == VLAPIC_DM_LOWEST) && vector < 16) {
        vlapic_raise_error(a, ESR_SEND_ILLEGAL);
        return;
    }
    bool others = true;
    switch (sh) {
    case VLAPIC_SH_SELF:
        if (mode == VLAPIC_DM_FIXED)
            vlapic_accept(a, vector, level);
        return; /* only fixed is valid with the self shorthand */
    case VLAPIC_SH_ALL:
        if (mode == VLAPIC_DM_FIXED)
            vlapic_accept(a, vector, level);
        break;
    case VLAPIC_SH_ALL_BUT:
        break;
    default:
        if (vlapic_match_dest(a, dest, logical)) {
            /* Lowest priority: the sender is as good a target as any. */
            if (mode == VLAPIC_DM_LOWEST)
                others = false;
            /* An exact physical ID selects nobody else. */
            if (!logical && dest == (vlapic_x2apic_mode(a) ? a->id : (a->id & 0xFF)))
                others = false;
            vlapic_ipi_receive(a, mode, vector, level);
        }
        break;
    }
    if (others && a->ops.send_ipi)
        a->ops.send_ipi(a->ops.ctx, dest, logical, sh, mode, vector, level);
}
