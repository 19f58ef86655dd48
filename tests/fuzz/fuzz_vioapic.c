/* libFuzzer target: the IOAPIC model (vdev/vioapic.c) driven by a random
 * sequence of MMIO reads and writes of any offset and width, pin level
 * changes and EOIs (of any vector, or of the last one delivered, as the
 * guest's vLAPIC would send after the interrupt ran). Checks: a delivery carries the vector
 * of an unmasked entry; Remote IRR is only ever set on a
 * level-triggered entry. */
/* fuzz-srcs: vdev/vioapic.c */
#include <stdint.h>
#include <stdlib.h>

#include "vdev/vioapic.h"
#include "tests/fuzz/fuzz_input.h"

static struct vioapic io;
static uint8_t last_vector;

static void deliver(void *ctx, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                    bool level)
{
    FUZZ_CHECK(ctx == &io && dest <= 0xff && mode <= 7);
    bool found = false;
    for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
        uint64_t e = io.redir[pin];
        if ((e & IOAPIC_RTE_VECTOR) == vector && !(e & IOAPIC_RTE_MASKED) &&
            (!level || (e & IOAPIC_RTE_LEVEL)))
            found = true;
    }
    FUZZ_CHECK(found);
    last_vector = vector;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    const struct vioapic_ops ops = {.ctx = &io, .deliver = deliver};
    vioapic_init(&io, 2, &ops);
    last_vector = 0;
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        uint64_t val;
        switch (op & 7) {
        case 0:
        case 1: {
            /* Mostly REGSEL and WIN, sometimes anywhere in (or past) the page. */
            uint32_t off = op & 0x80 ? fuzz_u16(&in) & 0x1fff : (op & 0x40 ? 0x10 : 0);
            unsigned sz = fuzz_size(&in);
            val = fuzz_u64(&in);
            if (op & 1)
                (void)vioapic_mmio_read(&io, off, sz, &val);
            else
                (void)vioapic_mmio_write(&io, off, sz, val);
            break;
        }
        case 2:
        case 3:
            vioapic_set_level(&io, fuzz_u8(&in) & 0x1f, op & 8);
            break;
        case 4:
            vioapic_eoi(&io, fuzz_u8(&in));
            break;
        case 5:
            vioapic_eoi(&io, last_vector);
            break;
        default:
            vioapic_write_reg(&io, fuzz_u8(&in), fuzz_u32(&in));
            break;
        }
        for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
            if (io.redir[pin] & IOAPIC_RTE_REMOTE)
                FUZZ_CHECK(io.redir[pin] & IOAPIC_RTE_LEVEL);
    }
    return 0;
}
