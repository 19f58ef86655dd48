/* libFuzzer target: PCI configuration mechanism #1 (vdev/vpci.c) driven
 * by a random sequence of accesses of every width to 0xCF8-0xCFF and the
 * ports around them. Checks: the address latch never holds reserved bits;
 * the bus is empty, so every data read is all ones of its width; the 0xCF9
 * byte (reset control) and ports outside the range are never claimed. */
/* fuzz-srcs: vdev/vpci.c */
#include <stdint.h>
#include <stdlib.h>

#include "vdev/vpci.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    uint32_t addr = 0;
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        uint16_t port = (uint16_t)(0xcf6 + ((op >> 1) & 0xf)); /* 0xCF6-0xD05 */
        unsigned sz = fuzz_size(&in);
        if (sz > 4)
            sz = 4; /* port I/O is 1, 2 or 4 bytes */
        uint32_t val = fuzz_u32(&in);
        bool in_ = op & 1;
        bool claimed = vpci_io(&addr, port, sz, in_, &val);
        bool ours = port >= 0xcf8 && port <= 0xcff && !(port == 0xcf9 && sz == 1);
        FUZZ_CHECK(claimed == ours);
        FUZZ_CHECK((addr & ~VPCI_ADDR_WRITABLE) == 0);
        if (claimed && in_ && !(port == VPCI_ADDR_PORT && sz == 4))
            FUZZ_CHECK(val == (sz == 4 ? 0xffffffffU : (1U << (8 * sz)) - 1));
    }
    return 0;
}
