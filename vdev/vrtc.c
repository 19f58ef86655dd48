/* MC146818 after the Motorola datasheet. The VM's time is a count of
 * seconds since 1970 at a base TSC; registers are encoded from it on
 * read, and parsed back when the guest ends a SET or writes a time
 * register. Flags are evaluated lazily from elapsed time, so C is right
 * whenever it is read; ticks are only needed for enabled interrupts. */
#include "vdev/vrtc.h"

#include "lib/string.h"

#define REG_SEC   0x00
#define REG_MIN   0x02
#define REG_HOUR  0x04
#define REG_WDAY  0x06
#define REG_MDAY  0x07
#define REG_MON   0x08
#define REG_YEAR  0x09
#define REG_A     0x0A
#define REG_B     0x0B
#define REG_C     0x0C
#define REG_D     0x0D
#define REG_ASEC  0x01
#define REG_AMIN  0x03
#define REG_AHOUR 0x05

#define A_UIP    0x80
#define A_RS     0x0f
#define B_SET    0x80
#define B_PIE    0x40
#define B_AIE    0x20
#define B_UIE    0x10
#define B_BINARY 0x04
#define B_24H    0x02
#define C_IRQF   0x80
#define C_PF     0x40
#define C_AF     0x20
#define C_UF     0x10
#define D_VRT    0x80
#define HOUR_PM  0x80
#define ALARM_DC 0xc0 /* "don't care" alarm bytes are 0xC0-0xFF */

/* UIP reads 1 this long before each update (244 us warning plus the
 * 1984 us update itself, moved before the edge so the time registers
 * change exactly when UIP falls). */
#define UIP_US 2228

static bool is_time_reg(unsigned idx)
{
    return idx == REG_SEC || idx == REG_MIN || idx == REG_HOUR || idx == REG_WDAY ||
           idx == REG_MDAY || idx == REG_MON || idx == REG_YEAR || idx == VRTC_REG_CENTURY;
}

static bool halted(const struct vrtc *r)
{
    return r->cmos[REG_B] & B_SET;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static uint8_t encode(const struct vrtc *r, unsigned v)
{
    v %= 100;
    return (uint8_t)((r->cmos[REG_B] & B_BINARY) ? v : (v / 10) << 4 | v % 10);
}

static unsigned decode(const struct vrtc *r, uint8_t v)
{
    return (r->cmos[REG_B] & B_BINARY) ? v : (v >> 4) * 10u + (v & 0x0f);
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int64_t now_secs(const struct vrtc *r, uint64_t now)
{
    if (halted(r) || now <= r->base_tsc)
        return r->base_secs;
    return r->base_secs + (int64_t)((now - r->base_tsc) / r->tsc_hz);
}

static uint8_t encode_hour(const struct vrtc *r, unsigned hour)
{
    if (r->cmos[REG_B] & B_24H)
        return encode(r, hour);
    unsigned h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(encode(r, h12) | (hour >= 12 ? HOUR_PM : 0));
}

static void write_time_regs(struct vrtc *r, int64_t secs)
{
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int64_t year;
    unsigned mon, mday;

    civil_from_days(days, &year, &mon, &mday);
    r->cmos[REG_SEC] = encode(r, (unsigned)(sod % 60));
    r->cmos[REG_MIN] = encode(r, (unsigned)(sod / 60 % 60));
    r->cmos[REG_HOUR] = encode_hour(r, (unsigned)(sod / 3600));
    r->cmos[REG_WDAY] = encode(r, (unsigned)(((days % 7) + 7 + 4) % 7) + 1); /* 1970-01-01: Thu */
    r->cmos[REG_MDAY] = encode(r, mday);
    r->cmos[REG_MON] = encode(r, mon);
    r->cmos[REG_YEAR] = encode(r, (unsigned)(year % 100));
    r->cmos[VRTC_REG_CENTURY] = encode(r, (unsigned)(year / 100));
}

/* Guest-written registers back to seconds; nonsense is clamped, never
 * trusted as an index. */
static int64_t read_time_regs(const struct vrtc *r)
{
    unsigned sec = clampu(decode(r, r->cmos[REG_SEC]), 0, 59);
    unsigned min = clampu(decode(r, r->cmos[REG_MIN]), 0, 59);
    uint8_t h = r->cmos[REG_HOUR];
    unsigned hour;
    if (r->cmos[REG_B] & B_24H) {
        hour = clampu(decode(r, h), 0, 23);
    } else {
        hour = clampu(decode(r, h & 0x7f), 1, 12) % 12 + ((h & HOUR_PM) ? 12 : 0);
    }
    unsigned mday = clampu(decode(r, r->cmos[REG_MDAY]), 1, 31);
    unsigned mon = clampu(decode(r, r->cmos[REG_MON]), 1, 12);
    unsigned year = clampu(decode(r, r->cmos[REG_YEAR]), 0, 99);
    unsigned century = clampu(decode(r, r->cmos[VRTC_REG_CENTURY]), 19, 99);
    return days_from_civil(century * 100 + year, mon, mday) * 86400 + hour * 3600 + min * 60 + sec;
}

static void rebase(struct vrtc *r, uint64_t now)
{
    r->base_secs = read_time_regs(r);
    r->base_tsc = now;
    r->last_sec = r->base_secs;
}

static uint64_t ticks_32k(const struct vrtc *r, uint64_t now)
{
    return now > r->epoch ? vdev_muldiv(now - r->epoch, 32768, r->tsc_hz) : 0;
}

/* Periodic interrupt period in 32.768 kHz ticks; 0 when off. */
static uint64_t pf_period(const struct vrtc *r)
{
    unsigned rs = r->cmos[REG_A] & A_RS;
    if (rs == 0)
        return 0;
    if (rs < 3)
        return 64u << rs; /* rates 1 and 2 alias 256 and 128 Hz */
    return 1u << (rs - 1);
}

static bool alarm_match(const struct vrtc *r)
{
    static const uint8_t pairs[3][2] = {
        {REG_ASEC, REG_SEC}, {REG_AMIN, REG_MIN}, {REG_AHOUR, REG_HOUR}};
    for (unsigned i = 0; i < 3; i++) {
        uint8_t a = r->cmos[pairs[i][0]];
        if ((a & ALARM_DC) != ALARM_DC && a != r->cmos[pairs[i][1]])
            return false;
    }
    return true;
}

static void set_line(struct vrtc *r, bool high)
{
    if (r->irq_level == high)
        return;
    r->irq_level = high;
    r->irqs += high;
    if (r->irq)
        r->irq(r->irq_ctx, VRTC_IRQ, high);
}

/* Bring the flags up to now, drive IRQ 8, pick the next deadline. */
static void advance(struct vrtc *r, uint64_t now)
{
    uint64_t n32 = ticks_32k(r, now);
    uint64_t period = pf_period(r);
    uint8_t b = r->cmos[REG_B];

    if (period && n32 / period != r->last_32k / period) {
        /* All of them merge into an interrupt still pending (C unread);
         * all but the latest otherwise. */
        uint64_t missed = n32 / period - r->last_32k / period - (r->irq_level ? 0 : 1);
        if ((b & B_PIE) && n32 > r->last_32k)
            r->coalesced += missed;
        r->cmos[REG_C] |= C_PF;
    }
    r->last_32k = n32;
    if (!halted(r)) {
        int64_t s = now_secs(r, now);
        if (s != r->last_sec) {
            /* Several missed seconds are one update, the alarm checked
             * against the latest. */
            r->cmos[REG_C] |= C_UF;
            write_time_regs(r, s);
            if (alarm_match(r))
                r->cmos[REG_C] |= C_AF;
            r->last_sec = s;
        }
    }
    if (r->cmos[REG_C] & b & (C_PF | C_AF | C_UF))
        r->cmos[REG_C] |= C_IRQF;
    set_line(r, r->cmos[REG_C] & C_IRQF);

    /* Nothing new to signal until the guest reads C. */
    r->deadline = VDEV_NEVER;
    if (r->irq_level)
        return;
    if ((b & B_PIE) && period)
        r->deadline = r->epoch + vdev_muldiv_ceil((n32 / period + 1) * period, r->tsc_hz, 32768);
    if ((b & (B_UIE | B_AIE)) && !halted(r)) {
        uint64_t next_sec =
            r->base_tsc + ((uint64_t)(now_secs(r, now) - r->base_secs) + 1) * r->tsc_hz;
        if (next_sec < r->deadline)
            r->deadline = next_sec;
    }
}

static bool uip(const struct vrtc *r, uint64_t now)
{
    if (halted(r) || now < r->base_tsc)
        return false;
    uint64_t frac = (now - r->base_tsc) % r->tsc_hz;
    return frac >= r->tsc_hz - r->tsc_hz / 1000000 * UIP_US;
}

void vrtc_init(struct vrtc *r, const struct vdev_clock *clk, const struct rtc_time *start,
               irq_line_fn irq, void *ctx)
{
    static const struct rtc_time y2k = {0, 0, 0, 1, 1, 2000};
    if (!start)
        start = &y2k;
    memset(r, 0, sizeof(*r));
    if (clk)
        r->clk = *clk;
    r->tsc_hz = vdev_tsc_hz(&r->clk);
    r->irq = irq;
    r->irq_ctx = ctx;
    r->cmos[REG_A] = 0x26; /* 32.768 kHz divider, 1024 Hz rate */
    r->cmos[REG_B] = B_24H;
    r->cmos[REG_D] = D_VRT;
    uint64_t now = vdev_now(&r->clk);
    r->epoch = now;
    unsigned year = clampu(start->year, 1900, 9999);
    r->base_secs =
        days_from_civil(year, clampu(start->mon, 1, 12), clampu(start->day, 1, 31)) * 86400 +
        clampu(start->hour, 0, 23) * 3600 + clampu(start->min, 0, 59) * 60 +
        clampu(start->sec, 0, 59);
    r->base_tsc = now;
    r->last_sec = r->base_secs;
    write_time_regs(r, r->base_secs);
    r->deadline = VDEV_NEVER;
}

void vrtc_cmos_set(struct vrtc *r, unsigned idx, uint8_t val)
{
    if (idx >= 0x0e && idx < VRTC_CMOS_SIZE && idx != VRTC_REG_CENTURY)
        r->cmos[idx] = val;
}

static uint8_t read_reg(struct vrtc *r, unsigned idx, uint64_t now)
{
    uint8_t v;
    switch (idx) {
    case REG_A:
        return (uint8_t)((r->cmos[REG_A] & ~A_UIP) | (uip(r, now) ? A_UIP : 0));
    case REG_C:
        v = r->cmos[REG_C];
        r->cmos[REG_C] = 0;
        advance(r, now); /* drops IRQ 8, re-arms the deadline */
        return v;
    case REG_D:
        return D_VRT;
    default:
        if (is_time_reg(idx) && !halted(r))
            write_time_regs(r, now_secs(r, now));
        return r->cmos[idx];
    }
}

static void write_reg(struct vrtc *r, unsigned idx, uint8_t val, uint64_t now)
{
    uint8_t old;
    switch (idx) {
    case REG_A: /* UIP is read-only */
        r->cmos[REG_A] = val & ~A_UIP;
        break;
    case REG_B:
        old = r->cmos[REG_B];
        if (val & B_SET)
            val &= ~B_UIE; /* datasheet: SET clears UIE */
        if (!(old & B_SET) && (val & B_SET)) {
            r->base_secs = now_secs(r, now); /* freeze */
            r->cmos[REG_B] = val;
            write_time_regs(r, r->base_secs);
        } else {
            r->cmos[REG_B] = val;
            if ((old & B_SET) && !(val & B_SET))
                rebase(r, now);
        }
        break;
    case REG_C:
    case REG_D: /* read-only */
        break;
    default:
        if (is_time_reg(idx) && !halted(r)) {
            /* Running clock: apply the one field to the current time. */
            write_time_regs(r, now_secs(r, now));
            r->cmos[idx] = val;
            rebase(r, now);
        } else {
            r->cmos[idx] = val;
        }
        break;
    }
    advance(r, now);
}

bool vrtc_io(struct vrtc *r, uint16_t port, bool in, uint8_t *val)
{
    if (port == 0x70) {
        if (in)
            *val = 0xff; /* the index register is write-only */
        else
            r->index = *val & 0x7f; /* bit 7: NMI mask, not ours */
        return true;
    }
    if (port != 0x71)
        return false;
    uint64_t now = vdev_now(&r->clk);
    unsigned idx = r->index & (VRTC_CMOS_SIZE - 1);
    if (in) {
        advance(r, now);
        *val = read_reg(r, idx, now);
    } else {
        write_reg(r, idx, *val, now);
    }
    return true;
}

uint64_t vrtc_next_deadline(const struct vrtc *r)
{
    return r->deadline;
}

uint64_t vrtc_next_periodic(const struct vrtc *r, uint64_t now)
{
    uint64_t period = pf_period(r);
    if (!(r->cmos[REG_B] & B_PIE) || !period)
        return VDEV_NEVER;
    uint64_t n32 = ticks_32k(r, now);
    return r->epoch + vdev_muldiv_ceil((n32 / period + 1) * period, r->tsc_hz, 32768);
}

void vrtc_tick(struct vrtc *r, uint64_t now)
{
    if (now >= r->deadline)
        advance(r, now);
}
