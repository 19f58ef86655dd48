/* libFuzzer target: the 16550 model (vdev/vuart.c) driven by a random
 * sequence of register reads and writes, received bytes, flushes and
 * console attach/detach. Checks: a line handed to the console is 1 to
 * VUART_LINE_MAX bytes with no control byte other than tab (they would
 * reach the host terminal), the receive FIFO never holds more than 16. */
/* fuzz-srcs: vdev/vuart.c */
#include <stdint.h>
#include <stdlib.h>

#include "vdev/vuart.h"
#include "tests/fuzz/fuzz_input.h"

static void output(void *ctx, const char *line, unsigned len)
{
    FUZZ_CHECK(ctx == (void *)output);
    FUZZ_CHECK(len >= 1 && len <= VUART_LINE_MAX);
    for (unsigned i = 0; i < len; i++) {
        uint8_t c = (uint8_t)line[i];
        FUZZ_CHECK(c == '\t' || (c >= 0x20 && c < 0x7f) || c >= 0xa0);
    }
}

static void raw_output(void *ctx, const char *bytes, unsigned len)
{
    FUZZ_CHECK(ctx == (void *)output && len == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    static struct vuart u;
    vuart_init(&u, 0x3f8, output, (void *)output);
    u.raw_output = raw_output;
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        /* Offsets 0-7 are what the port dispatch passes; others too, rarely. */
        unsigned off = op & 0x40 ? fuzz_u8(&in) : (op >> 3) & 7;
        switch (op & 7) {
        case 0:
        case 1:
        case 2:
            vuart_write(&u, off, fuzz_u8(&in));
            break;
        case 3:
        case 4:
            (void)vuart_read(&u, off);
            break;
        case 5:
            (void)vuart_push_rx(&u, fuzz_u8(&in));
            break;
        case 6:
            vuart_flush(&u);
            break;
        case 7:
            u.raw = !u.raw;
            break;
        }
        (void)vuart_irq_pending(&u);
        FUZZ_CHECK(u.rx_count <= VUART_RX_FIFO && u.rx_head < VUART_RX_FIFO);
        FUZZ_CHECK(u.line_len < VUART_LINE_MAX);
    }
    vuart_flush(&u);
    return 0;
}
