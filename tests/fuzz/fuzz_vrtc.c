/* libFuzzer target: the MC146818 model (vdev/vrtc.c) driven by a random
 * sequence of index/data port accesses (every CMOS index, registers A-D,
 * SET, binary/BCD, 12/24 h, alarms, periodic rates), clock steps and
 * ticks, from a random start time. Checks: after a tick at `now` the next
 * deadline lies after `now`; the IRQ line is only ever IRQ 8. */
/* fuzz-srcs: vdev/vrtc.c */
#include <stdint.h>
#include <stdlib.h>

#include "vdev/vrtc.h"
#include "tests/fuzz/fuzz_input.h"

static void irq_line(void *ctx, unsigned irq, bool high)
{
    FUZZ_CHECK(irq == VRTC_IRQ);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[4] = {0x70, 0x71, 0x72, 0x73};
    struct fuzz_input in = {data, size, 0};
    static struct vrtc r;
    struct vdev_clock clk = {NULL, fuzz_clock_now, fuzz_tsc_khz(&in)};
    /* Whatever the host RTC said, valid or not. */
    struct rtc_time start = {
        .year = fuzz_u16(&in),
        .mon = fuzz_u8(&in),
        .day = fuzz_u8(&in),
        .hour = fuzz_u8(&in),
        .min = fuzz_u8(&in),
        .sec = fuzz_u8(&in),
    };
    fuzz_tsc = fuzz_u32(&in); /* the TSC at boot */
    vrtc_init(&r, &clk, &start, irq_line, NULL);
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        uint8_t val = 0;
        switch (op & 3) {
        case 0:
            val = fuzz_u8(&in);
            (void)vrtc_io(&r, ports[(op >> 2) & 3], false, &val);
            break;
        case 1:
            (void)vrtc_io(&r, ports[(op >> 2) & 3], true, &val);
            break;
        case 2:
            fuzz_advance(&in);
            break;
        case 3:
            vrtc_tick(&r, fuzz_tsc);
            FUZZ_CHECK(vrtc_next_deadline(&r) > fuzz_tsc);
            break;
        }
        FUZZ_CHECK(r.index < VRTC_CMOS_SIZE);
    }
    return 0;
}
