/* libFuzzer target: the 8254 model (vdev/vpit.c) driven by a random
 * sequence of port accesses (control words in every mode, BCD, latches,
 * read-back), port 0x61, clock steps and ticks, at a random TSC rate.
 * Checks: after a tick at `now` the next deadline lies after `now` (a
 * deadline in the past would make the run loop exit at once, forever). */
/* fuzz-srcs: vdev/vpit.c */
#include <stdint.h>
#include <stdlib.h>

#include "vdev/vpit.h"
#include "tests/fuzz/fuzz_input.h"

static void irq_line(void *ctx, unsigned irq, bool high)
{
    FUZZ_CHECK(irq == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[8] = {0x40, 0x41, 0x42, 0x43, 0x61, 0x43, 0x44, 0x60};
    struct fuzz_input in = {data, size, 0};
    static struct vpit t;
    struct vdev_clock clk = {NULL, fuzz_clock_now, fuzz_tsc_khz(&in)};
    fuzz_tsc = fuzz_u32(&in); /* the TSC at boot */
    vpit_init(&t, &clk, irq_line, NULL);
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        uint8_t val = 0;
        switch (op & 3) {
        case 0:
            val = fuzz_u8(&in);
            (void)vpit_io(&t, ports[(op >> 2) & 7], false, &val);
            break;
        case 1:
            (void)vpit_io(&t, ports[(op >> 2) & 7], true, &val);
            break;
        case 2:
            fuzz_advance(&in);
            break;
        case 3:
            vpit_tick(&t, fuzz_tsc);
            FUZZ_CHECK(vpit_next_deadline(&t) > fuzz_tsc);
            break;
        }
    }
    return 0;
}
