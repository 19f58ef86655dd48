/* ACPI PM1 registers, PM timer and reset ports (ACPI 6.x sections 4.8.3
 * and 4.8.2.1; reset register per the Intel ICH RST_CNT at 0xCF9). */
#include "vdev/vpm.h"

#include "vdev/acpi_gen.h"
#include "lib/log.h"
#include "lib/string.h"

/* PM1_EN bits that exist: TMR, GBL, PWRBTN, SLPBTN, RTC. */
#define EN_MASK                                                                                    \
    (ACPI_GEN_PM1_TMR | ACPI_GEN_PM1_GBL | ACPI_GEN_PM1_PWRBTN | (1u << 9) | ACPI_GEN_PM1_RTC)
#define STS_MASK (EN_MASK | ACPI_GEN_PM1_WAK_STS)
/* PM1_CNT bits that read back: BM_RLD (1) and SLP_TYP; GBL_RLS and SLP_EN
 * are write-only. */
#define CNT_KEEP (ACPI_GEN_PM1_SLP_TYP_MASK | (1u << 1))

#define CF9_SYS_RST  0x02
#define CF9_RST_CPU  0x04
#define CF9_FULL_RST 0x08
#define P92_FAST_RST 0x01
#define P92_A20      0x02

static uint64_t tmr_count(const struct vpm *p, uint64_t now)
{
    return now > p->epoch ? vdev_muldiv(now - p->epoch, VPM_TMR_HZ, p->tsc_hz) : 0;
}

uint32_t vpm_timer(const struct vpm *p, uint64_t now)
{
    return (uint32_t)tmr_count(p, now);
}

/* TMR_STS from bit 31 toggles, the SCI level, the next deadline. */
static void evaluate(struct vpm *p, uint64_t now)
{
    uint64_t t = tmr_count(p, now);
    if ((t >> 31) != (p->last_tmr >> 31))
        p->sts |= ACPI_GEN_PM1_TMR;
    p->last_tmr = t;

    bool sci = (p->sts & p->en) != 0;
    if (sci != p->sci) {
        p->sci = sci;
        if (p->irq)
            p->irq(p->irq_ctx, ACPI_GEN_SCI_IRQ, sci);
    }

    p->deadline = VDEV_NEVER;
    if ((p->en & ACPI_GEN_PM1_TMR) && !(p->sts & ACPI_GEN_PM1_TMR))
        p->deadline = p->epoch + vdev_muldiv_ceil(((t >> 31) + 1) << 31, p->tsc_hz, VPM_TMR_HZ);
}

void vpm_init(struct vpm *p, const struct vdev_clock *clk, uint16_t evt_port, uint16_t cnt_port,
              uint16_t tmr_port, uint8_t s5_typ, irq_line_fn irq, void *irq_ctx,
              void (*power_off)(void *), void (*reset)(void *), void *cb_ctx)
{
    memset(p, 0, sizeof(*p));
    if (clk)
        p->clk = *clk;
    p->tsc_hz = vdev_tsc_hz(&p->clk);
    p->epoch = vdev_now(&p->clk);
    p->evt_port = evt_port;
    p->cnt_port = cnt_port;
    p->tmr_port = tmr_port;
    p->s5_typ = s5_typ & 7;
    p->irq = irq;
    p->irq_ctx = irq_ctx;
    p->power_off = power_off;
    p->reset = reset;
    p->cb_ctx = cb_ctx;
    p->port92 = P92_A20;
    p->deadline = VDEV_NEVER;
}

static void do_reset(struct vpm *p)
{
    if (p->reset)
        p->reset(p->cb_ctx);
}

static void write_cnt(struct vpm *p, uint16_t val)
{
    p->cnt = val & CNT_KEEP;
    if (!(val & ACPI_GEN_PM1_SLP_EN))
        return;
    unsigned typ = (val & ACPI_GEN_PM1_SLP_TYP_MASK) >> ACPI_GEN_PM1_SLP_TYP_SHIFT;
    if (typ == p->s5_typ) {
        if (p->power_off)
            p->power_off(p->cb_ctx);
    } else if (!p->warned_sleep) {
        /* Only S5 is in the DSDT; a guest asking for more stays awake. */
        p->warned_sleep = true;
        pr_warn("vpm: guest asked for sleep type %u, ignored", typ);
    }
}

/* Mask (relative to the access) of the bytes of [off, off + size) that
 * fall inside a block of len bytes. */
static uint32_t byte_mask(unsigned off, unsigned size, unsigned len)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < len)
            m |= 0xffu << (8 * i);
    return m;
}

static uint32_t read_block(uint32_t reg, unsigned off, unsigned size, unsigned len)
{
    uint32_t m = byte_mask(off, size, len);
    uint32_t v = (uint32_t)((uint64_t)reg >> (8 * off));
    uint32_t all = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return ((v & m) | ~m) & all; /* absent bytes float high */
}

static bool in_block(uint16_t port, uint16_t base, unsigned len)
{
    return base && port >= base && port < base + len;
}

bool vpm_io(struct vpm *p, uint16_t port, unsigned size, bool in, uint32_t *val)
{
    if (size != 1 && size != 2 && size != 4)
        size = 1; /* the exit decoder never gives us others; be safe */
    uint64_t now = vdev_now(&p->clk);

    if (port == VPM_RESET_PORT || port == VPM_PORT92) {
        if (size != 1)
            return false;
        bool is92 = port == VPM_PORT92;
        if (in) {
            *val = is92 ? p->port92 : p->cf9;
        } else if (is92) {
            /* Fast reset on a write of bit 0 (Linux clears it when it
             * sets A20 through this port). */
            p->port92 = (uint8_t)(*val & P92_A20);
            if (*val & P92_FAST_RST)
                do_reset(p);
        } else {
            /* RST_CPU (bit 2) resets; SYS_RST and FULL_RST only latch,
             * choosing a hard reset, which is all a VM has. */
            p->cf9 = (uint8_t)(*val & (CF9_SYS_RST | CF9_FULL_RST));
            if (*val & CF9_RST_CPU)
                do_reset(p);
        }
        return true;
    }

    if (in_block(port, p->evt_port, ACPI_GEN_PM1_EVT_LEN)) {
        unsigned off = port - p->evt_port;
        evaluate(p, now);
        if (in) {
            *val = read_block((uint32_t)p->sts | (uint32_t)p->en << 16, off, size,
                              ACPI_GEN_PM1_EVT_LEN);
        } else {
            uint64_t m = (uint64_t)byte_mask(off, size, ACPI_GEN_PM1_EVT_LEN) << (8 * off);
            uint64_t v = ((uint64_t)*val << (8 * off)) & m;
            p->sts &= (uint16_t) ~(v & STS_MASK); /* write 1 to clear */
            uint16_t en_m = (uint16_t)(m >> 16);
            p->en = (uint16_t)((p->en & ~en_m) | ((v >> 16) & en_m & EN_MASK));
        }
        evaluate(p, now);
        return true;
    }
    if (in_block(port, p->cnt_port, ACPI_GEN_PM1_CNT_LEN)) {
        unsigned off = port - p->cnt_port;
        if (in) {
            *val = read_block(p->cnt | ACPI_GEN_PM1_SCI_EN, off, size, ACPI_GEN_PM1_CNT_LEN);
        } else {
            uint32_t m = byte_mask(off, size, ACPI_GEN_PM1_CNT_LEN) << (8 * off);
            uint32_t v = (*val << (8 * off)) & m;
            write_cnt(p, (uint16_t)((p->cnt & ~m) | v));
        }
        return true;
    }
    if (in_block(port, p->tmr_port, ACPI_GEN_PM_TMR_LEN)) {
        if (in)
            *val = read_block(vpm_timer(p, now), port - p->tmr_port, size, ACPI_GEN_PM_TMR_LEN);
        return true; /* read-only */
    }
    return false;
}

void vpm_power_button(struct vpm *p)
{
    p->sts |= ACPI_GEN_PM1_PWRBTN;
    evaluate(p, vdev_now(&p->clk));
}

uint64_t vpm_next_deadline(const struct vpm *p)
{
    return p->deadline;
}

void vpm_tick(struct vpm *p, uint64_t now)
{
    if (now >= p->deadline)
        evaluate(p, now);
}
