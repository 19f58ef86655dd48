/* libFuzzer target: the 8259A pair (vdev/vpic.c) driven by a random
 * sequence of port reads and writes (ICW/OCW sequences, ELCR), IRQ line
 * changes and interrupt acknowledges. Checks: an acknowledged vector is
 * vector_base + 0..7 of the chip that gave it. */
/* fuzz-srcs: vdev/vpic.c */
#include <stdint.h>
#include <stdlib.h>

#include "vdev/vpic.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[8] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x22, 0x4d2};
    struct fuzz_input in = {data, size, 0};
    static struct vpic p;
    vpic_init(&p);
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        uint16_t port = ports[(op >> 2) & 7];
        uint8_t val = 0;
        switch (op & 3) {
        case 0:
            val = fuzz_u8(&in);
            (void)vpic_io(&p, port, false, &val);
            break;
        case 1:
            (void)vpic_io(&p, port, true, &val);
            break;
        case 2:
            vpic_set_irq(&p, (op >> 5) | (fuzz_u8(&in) & 0x18), fuzz_u8(&in) & 1);
            break;
        case 3: {
            bool out = vpic_output(&p);
            int v = vpic_ack(&p);
            FUZZ_CHECK(v >= 0 && v <= 0xff);
            unsigned mb = p.chip[0].vector_base, sb = p.chip[1].vector_base;
            FUZZ_CHECK((v >= (int)mb && v <= (int)mb + 7) || (v >= (int)sb && v <= (int)sb + 7));
            (void)out;
            break;
        }
        }
    }
    return 0;
}
