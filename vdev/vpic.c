/* 8259A pair, after the Intel 8259A datasheet: ICW1-ICW4, OCW1-OCW3,
 * rotation, auto-EOI, poll mode, special mask mode, cascade on IR2. */
#include "vdev/vpic.h"

#include "lib/string.h"

#define MASTER 0
#define SLAVE  1

#define ICW1       0x10
#define ICW1_IC4   0x01
#define ICW1_SNGL  0x02
#define ICW1_LTIM  0x08
#define OCW3       0x08
#define OCW3_RIS   0x01
#define OCW3_RR    0x02
#define OCW3_P     0x04
#define OCW3_SMM   0x20
#define OCW3_ESMM  0x40
#define ICW4_AEOI  0x02
#define ICW4_SFNM  0x10
#define CASCADE_IR 2

static uint8_t level_mask(const struct vpic_chip *c)
{
    return c->ltim ? 0xff : (uint8_t)(c->elcr | c->cascade_in);
}

/* Priority 0 (highest) .. 7 of the best bit in mask, 8 when empty. */
static unsigned best_priority(const struct vpic_chip *c, uint8_t mask)
{
    if (!mask)
        return 8;
    unsigned prio = 0;
    while (!(mask & (1u << ((prio + c->priority_add) & 7))))
        prio++;
    return prio;
}

/* The IR the chip would present now, or -1. */
static int chip_pending(const struct vpic_chip *c, bool master)
{
    unsigned prio = best_priority(c, c->irr & ~c->imr);
    if (prio == 8)
        return -1;
    uint8_t in_service = c->isr;
    /* Special mask mode: masked in-service levels do not block others. */
    if (c->special_mask)
        in_service &= ~c->imr;
    /* Fully nested special mode: the slave may interrupt its own service. */
    if (c->sfnm && master)
        in_service &= ~(1u << CASCADE_IR);
    if (prio < best_priority(c, in_service))
        return (int)((prio + c->priority_add) & 7);
    return -1;
}

static void chip_set_line(struct vpic_chip *c, unsigned ir, bool high)
{
    uint8_t bit = (uint8_t)(1u << ir);
    bool was = c->lines & bit;
    if (high)
        c->lines |= bit;
    else
        c->lines &= ~bit;
    if (level_mask(c) & bit) {
        if (high)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (high && !was) {
        c->irr |= bit;
    }
}

/* The slave's INT output is the master's IR2 input. */
static void update_cascade(struct vpic *p)
{
    chip_set_line(&p->chip[MASTER], CASCADE_IR, chip_pending(&p->chip[SLAVE], false) >= 0);
}

static void chip_intack(struct vpic_chip *c, unsigned ir)
{
    uint8_t bit = (uint8_t)(1u << ir);
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->priority_add = (uint8_t)((ir + 1) & 7);
    } else {
        c->isr |= bit;
    }
    /* A level request stays in IRR while its line is high. */
    if (!(level_mask(c) & bit))
        c->irr &= ~bit;
}

static void chip_reset(struct vpic_chip *c, uint8_t elcr_mask, uint8_t cascade_in)
{
    memset(c, 0, sizeof(*c));
    c->elcr_mask = elcr_mask;
    c->cascade_in = cascade_in;
}

void vpic_init(struct vpic *p)
{
    /* IRQ 0, 1, 2, 8 and 13 are edge-only on the PIIX/ICH ELCR. */
    chip_reset(&p->chip[MASTER], 0xf8, 1u << CASCADE_IR);
    chip_reset(&p->chip[SLAVE], 0xde, 0);
}

static void write_icw1(struct vpic_chip *c, uint8_t val)
{
    /* Datasheet: IMR cleared, IR7 lowest, special mask off, status read
     * set to IRR, and the edge sense latches reset. */
    c->imr = 0;
    c->isr = 0;
    c->priority_add = 0;
    c->read_isr = false;
    c->poll = false;
    c->special_mask = false;
    c->auto_eoi = false;
    c->rotate_on_aeoi = false;
    c->sfnm = false;
    c->ltim = val & ICW1_LTIM;
    c->init4 = val & ICW1_IC4;
    c->single = val & ICW1_SNGL;
    c->irr = c->lines & level_mask(c);
    c->init_state = 1;
}

static void write_ocw2(struct vpic_chip *c, uint8_t val)
{
    unsigned ir = val & 7;
    unsigned prio;

    switch (val >> 5) {
    case 0: /* rotate in auto-EOI mode: clear */
    case 4: /* set */
        c->rotate_on_aeoi = (val >> 5) == 4;
        break;
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
        prio = best_priority(c, c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr);
        if (prio == 8)
            break;
        ir = (prio + c->priority_add) & 7;
        c->isr &= ~(1u << ir);
        if ((val >> 5) == 5)
            c->priority_add = (uint8_t)((ir + 1) & 7);
        break;
    case 3: /* specific EOI */
        c->isr &= ~(1u << ir);
        break;
    case 6: /* set priority: ir becomes the lowest */
        c->priority_add = (uint8_t)((ir + 1) & 7);
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= ~(1u << ir);
        c->priority_add = (uint8_t)((ir + 1) & 7);
        break;
    default: /* 2: no operation */
        break;
    }
}

static void write_data(struct vpic_chip *c, uint8_t val)
{
    switch (c->init_state) {
    case 1: /* ICW2: vector base, low three bits from the IR */
        c->vector_base = val & 0xf8;
        c->init_state = c->single ? (c->init4 ? 3 : 0) : 2;
        break;
    case 2: /* ICW3: cascade wiring, fixed here */
        c->icw3 = val;
        c->init_state = c->init4 ? 3 : 0;
        break;
    case 3: /* ICW4 */
        c->auto_eoi = val & ICW4_AEOI;
        c->sfnm = val & ICW4_SFNM;
        c->init_state = 0;
        break;
    default: /* OCW1 */
        c->imr = val;
        break;
    }
}

static void write_cmd(struct vpic_chip *c, uint8_t val)
{
    if (val & ICW1) {
        write_icw1(c, val);
    } else if (val & OCW3) {
        if (val & OCW3_P)
            c->poll = true;
        if (val & OCW3_RR)
            c->read_isr = val & OCW3_RIS;
        if (val & OCW3_ESMM)
            c->special_mask = val & OCW3_SMM;
    } else {
        write_ocw2(c, val);
    }
}

/* Poll: acknowledge the best request as an INTA would; 0x80 | IR, or 0. */
static uint8_t poll_read(struct vpic *p, unsigned idx)
{
    struct vpic_chip *c = &p->chip[idx];
    c->poll = false;
    int ir = chip_pending(c, idx == MASTER);
    if (ir < 0)
        return 0;
    chip_intack(c, (unsigned)ir);
    return (uint8_t)(0x80 | ir);
}

bool vpic_io(struct vpic *p, uint16_t port, bool in, uint8_t *val)
{
    unsigned idx;

    if (port == 0x4d0 || port == 0x4d1) {
        struct vpic_chip *c = &p->chip[port & 1];
        if (in) {
            *val = c->elcr;
        } else {
            c->elcr = *val & c->elcr_mask;
            /* Lines that became level-triggered follow their level now. */
            c->irr = (uint8_t)((c->irr & ~level_mask(c)) | (c->lines & level_mask(c)));
            update_cascade(p);
        }
        return true;
    }
    if (port == 0x20 || port == 0x21)
        idx = MASTER;
    else if (port == 0xa0 || port == 0xa1)
        idx = SLAVE;
    else
        return false;

    struct vpic_chip *c = &p->chip[idx];
    if (in) {
        if (c->poll)
            *val = poll_read(p, idx);
        else if (port & 1)
            *val = c->imr;
        else
            *val = c->read_isr ? c->isr : c->irr;
    } else if (port & 1) {
        write_data(c, *val);
    } else {
        write_cmd(c, *val);
    }
    update_cascade(p);
    return true;
}

void vpic_set_irq(struct vpic *p, unsigned irq, bool high)
{
    if (irq >= 16 || irq == CASCADE_IR)
        return;
    chip_set_line(&p->chip[irq >> 3], irq & 7, high);
    update_cascade(p);
}

bool vpic_output(const struct vpic *p)
{
    return chip_pending(&p->chip[MASTER], true) >= 0;
}

int vpic_ack(struct vpic *p)
{
    struct vpic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
    int vector;
    int ir = chip_pending(m, true);

    if (ir < 0) {
        vector = m->vector_base + 7; /* spurious: the request went away */
    } else {
        chip_intack(m, (unsigned)ir);
        if (ir == CASCADE_IR) {
            int sir = chip_pending(s, false);
            if (sir >= 0)
                chip_intack(s, (unsigned)sir);
            else
                sir = 7; /* spurious on the slave, master IR2 stays in service */
            vector = s->vector_base + sir;
        } else {
            vector = m->vector_base + ir;
        }
    }
    update_cascade(p);
    return vector;
}
