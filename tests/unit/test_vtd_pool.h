/* A fake physical page pool for the VT-d table tests: pages come back dirty
 * (the code under test must zero them), frees are checked and poisoned,
 * allocation can be made to fail, and every cache-line flush is recorded. */
#ifndef TEST_VTD_POOL_H
#define TEST_VTD_POOL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/vtd_pt.h"

#define POOL_PAGES 1024
#define POOL_BASE  0x10000000ULL

struct pool {
    uint8_t *mem;
    uint8_t used[POOL_PAGES];
    unsigned allocs, frees;
    int fail_after;   /* -1: never; n: the (n+1)th allocation from now fails */
    uint8_t *flushed; /* one flag per 64-byte line of the pool */
    unsigned flushes;
    struct vtd_pt_ops ops;
};

static uint64_t pool_alloc(void *ctx)
{
    struct pool *p = ctx;
    if (p->fail_after == 0)
        return 0;
    if (p->fail_after > 0)
        p->fail_after--;
    for (unsigned i = 0; i < POOL_PAGES; i++)
        if (!p->used[i]) {
            p->used[i] = 1;
            p->allocs++;
            memset(p->mem + (size_t)i * 4096, 0xff, 4096);
            return POOL_BASE + (uint64_t)i * 4096;
        }
    return 0;
}

static void pool_free(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    unsigned i = (unsigned)((phys - POOL_BASE) / 4096);
    if (phys < POOL_BASE || i >= POOL_PAGES || (phys & 0xfff) || !p->used[i])
        abort(); /* bad or double free */
    p->used[i] = 0;
    memset(p->mem + (size_t)i * 4096, 0xa5, 4096);
    p->frees++;
}

static void *pool_virt(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    if (phys >= POOL_BASE && phys < POOL_BASE + POOL_PAGES * 4096ULL)
        return p->mem + (phys - POOL_BASE);
    return NULL;
}

static void pool_flush(void *ctx, const void *ptr, size_t len)
{
    struct pool *p = ctx;
    size_t off = (size_t)((const uint8_t *)ptr - p->mem);
    for (size_t a = off & ~(size_t)63; a < off + len; a += 64)
        p->flushed[a / 64] = 1;
    p->flushes++;
}

static struct pool *pool_new(bool coherent)
{
    struct pool *p = calloc(1, sizeof(*p));
    p->mem = aligned_alloc(4096, POOL_PAGES * 4096);
    p->flushed = calloc(POOL_PAGES * 4096 / 64, 1);
    p->fail_after = -1;
    p->ops = (struct vtd_pt_ops){pool_alloc, pool_free, pool_virt, coherent ? NULL : pool_flush, p};
    return p;
}

static void pool_delete(struct pool *p)
{
    free(p->mem);
    free(p->flushed);
    free(p);
}

/* The 64-bit word at a fake physical address. */
static uint64_t pool_word(struct pool *p, uint64_t phys)
{
    return *(uint64_t *)pool_virt(p, phys);
}

static int pool_line_flushed(struct pool *p, uint64_t phys)
{
    return p->flushed[(phys - POOL_BASE) / 64];
}

#endif
