/* Host MC146818 CMOS RTC: one read of the calendar time at boot, for the
 * VMs' vRTC. Called once, before other CPUs run, so no lock on ports
 * 0x70/0x71. */
#include "drivers/rtc.h"

#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "lib/log.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

#define REG_SEC     0x00
#define REG_MIN     0x02
#define REG_HOUR    0x04
#define REG_DAY     0x07
#define REG_MON     0x08
#define REG_YEAR    0x09
#define REG_A       0x0A
#define REG_B       0x0B
#define REG_CENTURY 0x32 /* the FADT's CENTURY names this register */

#define A_UIP    0x80
#define B_24H    0x02
#define B_BINARY 0x04
#define HOUR_PM  0x80

/* UIP stays high at most 2228 us (244 us warning + 1984 us update); one
 * port read takes about a microsecond, far longer under emulation. */
#define UIP_SPINS    200000
#define READ_RETRIES 5

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg); /* bit 7 clear: NMI left enabled */
    return inb(CMOS_DATA);
}

static bool wait_uip_clear(void)
{
    for (unsigned i = 0; i < UIP_SPINS; i++)
        if (!(cmos_read(REG_A) & A_UIP))
            return true;
    return false;
}

struct raw_time {
    uint8_t sec, min, hour, day, mon, year, century;
};

static bool read_raw(struct raw_time *r)
{
    if (!wait_uip_clear())
        return false;
    r->sec = cmos_read(REG_SEC);
    r->min = cmos_read(REG_MIN);
    r->hour = cmos_read(REG_HOUR);
    r->day = cmos_read(REG_DAY);
    r->mon = cmos_read(REG_MON);
    r->year = cmos_read(REG_YEAR);
    r->century = cmos_read(REG_CENTURY);
    return true;
}

static uint8_t bcd(uint8_t v)
{
    return (uint8_t)((v >> 4) * 10 + (v & 0x0f));
}

static uint8_t clamp(uint8_t v, uint8_t lo, uint8_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int host_rtc_read(struct rtc_time *t)
{
    struct raw_time a, b;
    int tries = 0;

    /* An update between two reads shows as a difference: read until two
     * consecutive snapshots agree. */
    if (!read_raw(&a))
        goto fail;
    for (;;) {
        if (!read_raw(&b))
            goto fail;
        if (a.sec == b.sec && a.min == b.min && a.hour == b.hour && a.day == b.day &&
            a.mon == b.mon && a.year == b.year && a.century == b.century)
            break;
        if (++tries >= READ_RETRIES)
            goto fail;
        a = b;
    }

    uint8_t regb = cmos_read(REG_B);
    bool pm = b.hour & HOUR_PM;
    uint8_t hour = b.hour & 0x7f;
    if (!(regb & B_BINARY)) {
        b.sec = bcd(b.sec);
        b.min = bcd(b.min);
        hour = bcd(hour);
        b.day = bcd(b.day);
        b.mon = bcd(b.mon);
        b.year = bcd(b.year);
        b.century = bcd(b.century);
    }
    if (!(regb & B_24H)) {
        /* 12-hour: 12 AM is midnight, 12 PM noon. */
        hour %= 12;
        if (pm)
            hour += 12;
    }
    /* Many boards leave the century register unset. */
    unsigned century = (b.century >= 19 && b.century <= 21) ? b.century : 20;

    t->sec = clamp(b.sec, 0, 59);
    t->min = clamp(b.min, 0, 59);
    t->hour = clamp(hour, 0, 23);
    t->day = clamp(b.day, 1, 31);
    t->mon = clamp(b.mon, 1, 12);
    t->year = (uint16_t)(century * 100 + clamp(b.year, 0, 99));
    return 0;

fail:
    pr_warn("rtc: host CMOS clock did not settle");
    return -1;
}
