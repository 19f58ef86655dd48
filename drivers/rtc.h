/* The host's CMOS real-time clock, read once (the VMs' vRTC starts from it).
 * struct rtc_time has no arch dependency so guest/vrtc.h can share it. */
#ifndef DRIVERS_RTC_H
#define DRIVERS_RTC_H

#include <stdint.h>

/* Calendar time, binary, 24-hour: sec 0-59, min 0-59, hour 0-23, day 1-31,
 * mon 1-12, year full (e.g. 2024). */
struct rtc_time {
    uint8_t sec, min, hour, day, mon;
    uint16_t year;
};

/* Reads the host RTC (kernel only): 0, or -1 when the update-in-progress
 * flag never cleared or two consecutive reads never agreed. */
int host_rtc_read(struct rtc_time *t);

#endif
