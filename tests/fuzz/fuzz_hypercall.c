/* libFuzzer target: the hypercall argument checks (vcpu/hypercall_args.c)
 * against a fake guest memory: 32 pages at a base the input chooses (near
 * 0, anywhere, or at the top of the 64-bit space), each present or absent.
 * Checks, for every console-write call the input makes:
 *   - too long: HC_EINVAL; any byte of the buffer outside RAM, or a buffer
 *     that wraps: HC_EFAULT; and in both cases nothing reaches the console;
 *   - otherwise the console gets exactly the buffer's bytes, in chunks of
 *     at most HC_CONSOLE_CHUNK, and the call returns the length;
 *   - memory is only ever read inside [gpa, gpa + len);
 *   - a 32-bit guest's arguments have their upper halves cleared. */
/* fuzz-srcs: vcpu/hypercall_args.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu/hypercall_args.h"
#include "include/bulkhead/hypercall.h"
#include "tests/fuzz/fuzz_input.h"

#define PAGES 32

struct fake_mem {
    uint64_t base;    /* guest-physical address of page 0 */
    uint32_t present; /* bit i: page i is RAM */
    uint64_t lo, hi;  /* the call's buffer, [lo, hi) (hi may be 0: wrapped) */
};

static uint8_t byte_at(uint64_t gpa)
{
    return (uint8_t)((gpa * 0x9e3779b97f4a7c15ULL) >> 56);
}

static bool ram(const struct fake_mem *m, uint64_t gpa)
{
    uint64_t page = (gpa - m->base) >> 12;
    return gpa >= m->base && page < PAGES && ((m->present >> page) & 1);
}

static int fake_read(void *ctx, uint64_t gpa, void *buf, uint64_t len)
{
    const struct fake_mem *m = ctx;
    /* Only bytes of the buffer the guest named. */
    FUZZ_CHECK(len >= 1 && gpa >= m->lo && gpa + len > gpa && gpa + len <= m->hi);
    for (uint64_t i = 0; i < len; i++) {
        if (!ram(m, gpa + i))
            return -1;
        ((uint8_t *)buf)[i] = byte_at(gpa + i);
    }
    return 0;
}

static uint8_t out[HC_CONSOLE_MAX];
static unsigned out_len;

static void put(void *ctx, const char *bytes, unsigned len)
{
    FUZZ_CHECK(len >= 1 && len <= HC_CONSOLE_CHUNK && out_len + len <= sizeof(out));
    memcpy(out + out_len, bytes, len);
    out_len += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    struct fake_mem m;
    uint8_t where = fuzz_u8(&in);
    m.base = where & 1 ? 0 : where & 2 ? 0 - (uint64_t)PAGES * 4096 : fuzz_u64(&in) & ~0xfffULL;
    m.present = fuzz_u32(&in);
    const struct hc_guest_mem mem = {&m, fake_read};

    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        bool long_mode = op & 1;
        /* The registers as the guest left them; the offset mostly lands in
         * or near the fake RAM, the length mostly near the limit. */
        uint64_t rbx =
            op & 2 ? fuzz_u64(&in) : m.base + (fuzz_u32(&in) % ((PAGES + 2) * 4096)) - 4096;
        uint64_t rcx = op & 4 ? fuzz_u64(&in) : fuzz_u16(&in) & 0x1fff;
        uint64_t gpa = hc_arg(rbx, long_mode), len = hc_arg(rcx, long_mode);
        if (!long_mode)
            FUZZ_CHECK(gpa >> 32 == 0 && len >> 32 == 0);
        m.lo = gpa;
        m.hi = gpa + len;

        out_len = 0;
        int64_t r = hc_console_write(&mem, gpa, len, put, NULL);
        bool fits = len <= HC_CONSOLE_MAX, wraps = gpa + len < gpa, all_ram = !wraps;
        for (uint64_t i = 0; fits && all_ram && i < len; i++)
            all_ram = ram(&m, gpa + i);
        if (!fits) {
            FUZZ_CHECK(r == HC_EINVAL && out_len == 0);
        } else if (!all_ram) {
            FUZZ_CHECK(r == HC_EFAULT && out_len == 0);
        } else {
            FUZZ_CHECK(r == (int64_t)len && out_len == len);
            for (uint64_t i = 0; i < len; i++)
                FUZZ_CHECK(out[i] == byte_at(gpa + i));
        }
    }
    return 0;
}
