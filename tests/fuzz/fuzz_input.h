/* Reading a libFuzzer input as a stream of operations: every take_*
 * returns 0 once the input is used up, so a target loops while
 * fuzz_left() and never reads past the end. */
#ifndef TESTS_FUZZ_INPUT_H
#define TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct fuzz_input {
    const uint8_t *data;
    size_t size, pos;
};

static inline size_t fuzz_left(const struct fuzz_input *in)
{
    return in->size - in->pos;
}

static inline uint64_t fuzz_take(struct fuzz_input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->pos < in->size; i++)
        v |= (uint64_t)in->data[in->pos++] << (8 * i);
    return v;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
    return (uint8_t)fuzz_take(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
    return (uint16_t)fuzz_take(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
    return (uint32_t)fuzz_take(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
    return fuzz_take(in, 8);
}

/* 1, 2, 4 or 8 from two bits; fuzzers also try the sizes a CPU never makes. */
static inline unsigned fuzz_size(struct fuzz_input *in)
{
    static const unsigned sizes[8] = {1, 2, 4, 8, 1, 2, 4, 3};
    return sizes[fuzz_u8(in) & 7];
}

#endif

/* A fake host TSC the input moves forward: small steps usually, now and
 * then a large jump, never backwards (now() must be monotonic) and never
 * past 2^62 (a real TSC takes about 150 years at 1 GHz to get there). */
#define FUZZ_TSC_MAX (1ULL << 62)
static uint64_t fuzz_tsc;

static inline uint64_t fuzz_clock_now(void *ctx)
{
    (void)ctx;
    return fuzz_tsc;
}

static inline void fuzz_advance(struct fuzz_input *in)
{
    uint8_t kind = fuzz_u8(in);
    uint64_t step = kind & 0x80 ? fuzz_u64(in) >> (kind & 0x3f) : fuzz_u16(in);
    if (step <= FUZZ_TSC_MAX - fuzz_tsc)
        fuzz_tsc += step;
}

/* A TSC rate in kHz: 1 MHz to about 10 GHz, or 0 ("unknown": 1 GHz). */
static inline uint64_t fuzz_tsc_khz(struct fuzz_input *in)
{
    uint32_t r = fuzz_u32(in);
    return r & 1 ? 1000 + (r >> 1) % 10000000 : (r & 2 ? 0 : 2000000);
}

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)
