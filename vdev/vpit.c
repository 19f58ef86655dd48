/* 8254 after the Intel 82C54 datasheet. A counter's state is the number of
 * input clocks d since its count was loaded; count value and OUT follow
 * from d and the mode, so nothing needs ticking except IRQ 0 delivery. */
#include "vdev/vpit.h"

#include "lib/string.h"

#define PORT_CH0  0x40
#define PORT_CTRL 0x43
#define PORT_B    0x61

#define RW_LSB   1
#define RW_MSB   2
#define RW_WORD0 3 /* both bytes, LSB next */
#define RW_WORD1 4 /* both bytes, MSB next */

#define P61_GATE2   0x01
#define P61_SPEAKER 0x02
#define P61_REFRESH 0x10
#define P61_OUT2    0x20
#define REFRESH_CLK 18 /* the DRAM refresh request toggles every ~15 us */

#define IRQ_PIT 0
/* Periodic IRQ 0 no faster than 5 kHz (KVM uses a similar floor): a tiny
 * reload must not turn into an exit storm. Reads still see the real count. */
#define MIN_IRQ_CLOCKS (VPIT_HZ / 5000)

/* Modes 6 and 7 are aliases of 2 and 3. */
static unsigned eff_mode(const struct vpit_channel *c)
{
    return c->mode > 5 ? c->mode - 4u : c->mode;
}

static uint64_t clocks(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    if (!c->running || now <= c->start_tsc)
        return c->d_base;
    return c->d_base + vdev_muldiv(now - c->start_tsc, VPIT_HZ, t->tsc_hz);
}

/* First TSC at which the running counter has counted d clocks. */
static uint64_t tsc_at(const struct vpit *t, const struct vpit_channel *c, uint64_t d)
{
    if (d <= c->d_base)
        return c->start_tsc;
    return c->start_tsc + vdev_muldiv_ceil(d - c->d_base, t->tsc_hz, VPIT_HZ);
}

static bool out_at(const struct vpit_channel *c, uint64_t d)
{
    unsigned mode = eff_mode(c);
    if (!c->armed)
        return mode != 0; /* mode 0 drives OUT low from the control word on */
    switch (mode) {
    case 0:
        return d >= c->count;
    case 1:
        return !c->running || d >= c->count;
    case 2:
        return d % c->count != c->count - 1; /* low for the clock before reload */
    case 3:
        return d % c->count < (c->count + 1) / 2;
    case 4:
        return d != c->count;
    default: /* 5 */
        return !c->running || d != c->count;
    }
}

static uint32_t count_at(const struct vpit_channel *c, uint64_t d)
{
    uint32_t m = c->bcd ? 10000 : 65536;
    uint32_t v;
    if (!c->armed)
        return c->count % m;
    switch (eff_mode(c)) {
    case 2:
        v = c->count - (uint32_t)(d % c->count);
        break;
    case 3: /* counts down by two each clock */
        v = c->count - (uint32_t)((2 * d) % c->count);
        break;
    default: /* one-shots wrap past zero and keep counting */
        v = (uint32_t)((c->count + m - d % m) % m);
        break;
    }
    return v % m;
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

static uint32_t from_bcd(uint16_t v)
{
    /* Invalid digits (A-F) are taken at face value, like the counter would. */
    return (v & 0xf) + (v >> 4 & 0xf) * 10 + (v >> 8 & 0xf) * 100 + (v >> 12 & 0xf) * 1000u;
}

static uint16_t read_value(const struct vpit *t, const struct vpit_channel *c, uint64_t now)
{
    uint32_t v = count_at(c, clocks(t, c, now));
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static void set_irq(struct vpit *t, bool high)
{
    if (t->irq_level == high)
        return;
    t->irq_level = high;
    if (t->irq)
        t->irq(t->irq_ctx, IRQ_PIT, high);
}

/* Channel 0: the next output edge that becomes an IRQ 0 event. */
static void schedule_irq(struct vpit *t, uint64_t now)
{
    struct vpit_channel *c = &t->ch[0];
    t->irq_deadline = VDEV_NEVER;
    if (!c->armed || !c->running)
        return;
    uint64_t d = clocks(t, c, now);
    switch (eff_mode(c)) {
    case 0:
    case 4:
        if (d < c->count || (eff_mode(c) == 0 && !t->irq_level))
            t->irq_deadline = tsc_at(t, c, c->count);
        break;
    case 2:
    case 3:
        t->irq_period = d / c->count; /* the period of the last edge */
        if (c->count < MIN_IRQ_CLOCKS)
            d += MIN_IRQ_CLOCKS;
        t->irq_deadline = tsc_at(t, c, (d / c->count + 1) * c->count);
        break;
    default: /* 1 and 5 need a gate edge, which channel 0 never gets */
        break;
    }
}

static void load_count(struct vpit *t, unsigned idx, uint16_t raw, uint64_t now)
{
    struct vpit_channel *c = &t->ch[idx];
    uint32_t v = c->bcd ? from_bcd(raw) : raw;
    if (v == 0)
        v = c->bcd ? 10000 : 65536;
    c->count = v;
    c->armed = true;
    c->null_count = false;
    c->d_base = 0;
    c->start_tsc = now;
    /* Modes 1 and 5 wait for a rising gate edge. */
    c->running = (eff_mode(c) == 1 || eff_mode(c) == 5) ? false : c->gate;
    if (idx == 0) {
        set_irq(t, false);
        schedule_irq(t, now);
    }
}

static void set_gate(struct vpit *t, unsigned idx, bool gate, uint64_t now)
{
    struct vpit_channel *c = &t->ch[idx];
    if (c->gate == gate)
        return;
    c->gate = gate;
    switch (eff_mode(c)) {
    case 0:
    case 4: /* gate low suspends counting */
        if (!gate) {
            c->d_base = clocks(t, c, now);
            c->running = false;
        } else if (c->armed) {
            c->start_tsc = now;
            c->running = true;
        }
        break;
    case 1:
    case 5: /* a rising edge (re)triggers; low has no effect */
        if (gate && c->armed) {
            c->d_base = 0;
            c->start_tsc = now;
            c->running = true;
        }
        break;
    default: /* 2, 3: low stops and forces OUT high, rising edge reloads */
        c->d_base = 0;
        c->start_tsc = now;
        c->running = gate && c->armed;
        break;
    }
    if (idx == 0)
        schedule_irq(t, now);
}

static void latch_count(struct vpit *t, struct vpit_channel *c, uint64_t now)
{
    if (c->count_latched)
        return; /* a pending latch is kept until read */
    c->latched = read_value(t, c, now);
    c->count_latched = c->rw == 3 ? RW_WORD0 : c->rw;
}

static void latch_status(struct vpit *t, struct vpit_channel *c, uint64_t now)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)((out_at(c, clocks(t, c, now)) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
                          c->rw << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
    c->status_latched = true;
}

static void write_control(struct vpit *t, uint8_t val, uint64_t now)
{
    unsigned sel = val >> 6;
    if (sel == 3) { /* read-back: bits 1-3 select channels, active low bits 4-5 */
        for (unsigned i = 0; i < 3; i++) {
            if (!(val & (2u << i)))
                continue;
            if (!(val & 0x20))
                latch_count(t, &t->ch[i], now);
            if (!(val & 0x10))
                latch_status(t, &t->ch[i], now);
        }
        return;
    }
    struct vpit_channel *c = &t->ch[sel];
    unsigned rw = (val >> 4) & 3;
    if (rw == 0) {
        latch_count(t, c, now);
        return;
    }
    c->rw = (uint8_t)rw;
    c->mode = (val >> 1) & 7;
    c->bcd = val & 1;
    c->read_state = c->write_state = (uint8_t)rw;
    c->count_latched = 0;
    c->status_latched = false;
    c->armed = false;
    c->running = false;
    c->null_count = true;
    c->d_base = 0;
    c->start_tsc = now;
    if (sel == 0) {
        set_irq(t, false);
        schedule_irq(t, now);
    }
}

static void write_counter(struct vpit *t, unsigned idx, uint8_t val, uint64_t now)
{
    struct vpit_channel *c = &t->ch[idx];
    switch (c->write_state) {
    case RW_LSB:
        load_count(t, idx, val, now);
        break;
    case RW_MSB:
        load_count(t, idx, (uint16_t)(val << 8), now);
        break;
    case RW_WORD0:
        c->write_lsb = val;
        c->write_state = RW_WORD1;
        /* Mode 0: the first byte stops the count and drops OUT. */
        if (eff_mode(c) == 0) {
            c->armed = false;
            c->running = false;
            if (idx == 0) {
                set_irq(t, false);
                schedule_irq(t, now);
            }
        }
        break;
    case RW_WORD1:
        c->write_state = RW_WORD0;
        load_count(t, idx, (uint16_t)(c->write_lsb | val << 8), now);
        break;
    default: /* no control word yet: ignored */
        break;
    }
}

static uint8_t read_counter(struct vpit *t, unsigned idx, uint64_t now)
{
    struct vpit_channel *c = &t->ch[idx];
    uint16_t v;

    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    switch (c->count_latched) {
    case RW_LSB:
        c->count_latched = 0;
        return (uint8_t)c->latched;
    case RW_MSB:
        c->count_latched = 0;
        return (uint8_t)(c->latched >> 8);
    case RW_WORD0:
        c->count_latched = RW_MSB;
        return (uint8_t)c->latched;
    default:
        break;
    }
    v = read_value(t, c, now);
    switch (c->read_state) {
    case RW_LSB:
        return (uint8_t)v;
    case RW_MSB:
        return (uint8_t)(v >> 8);
    case RW_WORD0:
        c->read_state = RW_WORD1;
        return (uint8_t)v;
    case RW_WORD1:
        c->read_state = RW_WORD0;
        return (uint8_t)(v >> 8);
    default:
        return 0;
    }
}

void vpit_init(struct vpit *t, const struct vdev_clock *clk, irq_line_fn irq, void *irq_ctx)
{
    memset(t, 0, sizeof(*t));
    if (clk)
        t->clk = *clk;
    t->tsc_hz = vdev_tsc_hz(&t->clk);
    t->epoch = vdev_now(&t->clk);
    t->irq = irq;
    t->irq_ctx = irq_ctx;
    t->irq_deadline = VDEV_NEVER;
    for (unsigned i = 0; i < 3; i++) {
        t->ch[i].gate = i != 2; /* channel 2's gate is port 0x61 bit 0 */
        t->ch[i].mode = 3;
        t->ch[i].rw = 3;
        t->ch[i].read_state = t->ch[i].write_state = RW_WORD0;
        t->ch[i].count = 65536;
    }
}

bool vpit_io(struct vpit *t, uint16_t port, bool in, uint8_t *val)
{
    if (port != PORT_B && (port < PORT_CH0 || port > PORT_CTRL))
        return false;
    uint64_t now = vdev_now(&t->clk);

    if (port == PORT_B) {
        if (in) {
            struct vpit_channel *c = &t->ch[2];
            uint64_t ref = now > t->epoch ? vdev_muldiv(now - t->epoch, VPIT_HZ, t->tsc_hz) : 0;
            *val = (uint8_t)(t->port61 | ((ref / REFRESH_CLK) & 1 ? P61_REFRESH : 0) |
                             (out_at(c, clocks(t, c, now)) ? P61_OUT2 : 0));
        } else {
            t->port61 = *val & 0x0f;
            set_gate(t, 2, *val & P61_GATE2, now);
        }
        return true;
    }
    if (port == PORT_CTRL) {
        if (in)
            *val = 0xff; /* the control register is write-only */
        else
            write_control(t, *val, now);
        return true;
    }
    if (in)
        *val = read_counter(t, port - PORT_CH0, now);
    else
        write_counter(t, port - PORT_CH0, *val, now);
    return true;
}

uint64_t vpit_next_deadline(const struct vpit *t)
{
    return t->irq_deadline;
}

void vpit_tick(struct vpit *t, uint64_t now)
{
    if (now < t->irq_deadline)
        return;
    switch (eff_mode(&t->ch[0])) {
    case 0: /* terminal count: OUT stays high until reprogrammed */
        set_irq(t, true);
        break;
    case 2:
    case 3: { /* one edge however many periods passed */
        uint64_t reached = clocks(t, &t->ch[0], now) / t->ch[0].count;
        if (reached > t->irq_period + 1)
            t->coalesced += reached - t->irq_period - 1;
        set_irq(t, true);
        set_irq(t, false);
        break;
    }
    default: /* 4: the strobe */
        set_irq(t, true);
        set_irq(t, false);
        break;
    }
    t->irqs++;
    schedule_irq(t, now);
}
