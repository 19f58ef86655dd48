/* libFuzzer target: the ACPI PM1 event/control blocks, the PM timer and
 * the reset ports (vdev/vpm.c) driven by a random sequence of port
 * accesses of any width and offset, power-button presses, clock steps and
 * ticks. Checks: a read returns no bits beyond its width; after a tick at
 * `now` the next deadline lies after `now`; the SCI is IRQ 9. */
/* fuzz-srcs: vdev/vpm.c lib/log.c lib/format.c lib/strutil.c */
#include <stdint.h>
#include <stdlib.h>

#include "vdev/acpi_gen.h"
#include "vdev/vpm.h"
#include "tests/fuzz/fuzz_input.h"

static unsigned resets, power_offs;

static void irq_line(void *ctx, unsigned irq, bool high)
{
    FUZZ_CHECK(irq == ACPI_GEN_SCI_IRQ);
}

static void power_off(void *ctx)
{
    power_offs++;
}

static void reset(void *ctx)
{
    resets++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    static struct vpm p;
    struct vdev_clock clk = {NULL, fuzz_clock_now, fuzz_tsc_khz(&in)};
    fuzz_tsc = fuzz_u32(&in); /* the TSC at boot */
    vpm_init(&p, &clk, ACPI_GEN_PM1A_EVT, ACPI_GEN_PM1A_CNT, ACPI_GEN_PM_TMR, ACPI_GEN_S5_TYP,
             irq_line, NULL, power_off, reset, NULL);
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        /* Every port of the three blocks (and one past each), the reset ports. */
        uint16_t port = op & 0x80 ? (op & 0x40 ? VPM_RESET_PORT : VPM_PORT92)
                                  : (uint16_t)(ACPI_GEN_PM1A_EVT + ((op >> 2) & 0xf));
        unsigned sz = fuzz_size(&in);
        uint32_t val = fuzz_u32(&in);
        switch (op & 3) {
        case 0:
            (void)vpm_io(&p, port, sz, false, &val);
            break;
        case 1:
            if (vpm_io(&p, port, sz, true, &val) && sz < 4)
                FUZZ_CHECK(val < (1u << (8 * sz)));
            break;
        case 2:
            if (val & 1)
                vpm_power_button(&p);
            else
                fuzz_advance(&in);
            break;
        case 3:
            vpm_tick(&p, fuzz_tsc);
            FUZZ_CHECK(vpm_next_deadline(&p) > fuzz_tsc);
            break;
        }
    }
    return 0;
}
