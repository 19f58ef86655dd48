/* libFuzzer target: the guest page walker (ept/gwalk.c) on arbitrary page
 * tables and guest state. The input's first 32 bytes choose the registers,
 * the linear address and the access; the rest is guest-physical memory from
 * 0 (CR3 points into it). Besides the sanitizers it checks what callers rely
 * on: a translation keeps the page offset, error codes use defined bits
 * only, and, when the walk writes nothing (no accessed/dirty update: with
 * it, tables that overlap themselves legitimately change under the next
 * walk), a permitted write implies a permitted read and a second walk
 * agrees with the first. */
/* fuzz-srcs: ept/gwalk.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ept/gwalk.h"

#define HDR 32

struct fake_mem {
    uint8_t *bytes;
    size_t size;
};

static int fake_read(void *ctx, uint64_t gpa, void *buf, unsigned len)
{
    struct fake_mem *m = ctx;
    if (gpa >= m->size || m->size - gpa < len)
        return -1;
    memcpy(buf, m->bytes + gpa, len);
    return 0;
}

static int fake_cmpxchg(void *ctx, uint64_t gpa, unsigned len, uint64_t old_val, uint64_t new_val)
{
    struct fake_mem *m = ctx;
    uint64_t cur = 0;
    if ((len != 4 && len != 8) || gpa >= m->size || m->size - gpa < len)
        return -1;
    memcpy(&cur, m->bytes + gpa, len);
    if (len == 4)
        cur = (uint32_t)cur;
    if (cur != old_val)
        return 1;
    memcpy(m->bytes + gpa, &new_val, len);
    return 0;
}

static uint64_t take64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR)
        return 0;
    uint64_t la = take64(data);
    uint64_t cr3 = take64(data + 8) & 0xffff; /* tables inside the input */
    uint8_t f = data[16], g = data[17];
    uint64_t pdpte_seed = take64(data + 24);
    struct gwalk_regs r = {
        .cr0 = ((f & 1) ? GWALK_CR0_PG : 0) | ((f & 2) ? GWALK_CR0_WP : 0) | 1,
        .cr3 = cr3,
        .cr4 = ((f & 4) ? GWALK_CR4_PAE : 0) | ((f & 8) ? GWALK_CR4_PSE : 0) |
               ((f & 16) ? GWALK_CR4_LA57 : 0) | ((f & 32) ? GWALK_CR4_SMEP : 0) |
               ((f & 64) ? GWALK_CR4_SMAP : 0),
        .efer = ((f & 128) ? GWALK_EFER_LMA : 0) | ((g & 1) ? GWALK_EFER_NXE : 0),
        .rflags = (g & 2) ? GWALK_RFLAGS_AC : 0,
        .cpl = (g >> 2) & 3,
        .maxphyaddr = data[18],
        .gbpages = g & 16,
    };
    uint64_t pdptes[4] = {pdpte_seed, pdpte_seed >> 13, ~pdpte_seed, pdpte_seed * 7};
    if (g & 32)
        r.pdptes = pdptes;
    enum gwalk_access acc = (enum gwalk_access)(data[19] % 3);

    /* A private copy: reads past the end hit ASan's redzone. */
    struct fake_mem m = {malloc(size - HDR ? size - HDR : 1), size - HDR};
    if (!m.bytes)
        return 0;
    memcpy(m.bytes, data + HDR, size - HDR);
    const struct gwalk_mem mem = {fake_read, (g & 64) ? fake_cmpxchg : NULL, &m};

    struct gwalk_result a, b;
    enum gwalk_status s1 = gwalk_translate(&r, &mem, la, acc, &a);
    if (s1 == GWALK_OK) {
        if (!a.page_size || (a.page_size & (a.page_size - 1)) || a.page_size > (1ULL << 32))
            abort();
        if ((a.gpa ^ la) & (a.page_size - 1) & 0xfffffffffULL)
            abort();
        if (!mem.cmpxchg && acc == GWALK_WRITE &&
            gwalk_translate(&r, &mem, la, GWALK_READ, &b) != GWALK_OK)
            abort();
    }
    if (s1 == GWALK_PAGE_FAULT &&
        (a.error & ~(uint32_t)(PF_ERR_P | PF_ERR_W | PF_ERR_U | PF_ERR_RSVD | PF_ERR_I)))
        abort();
    enum gwalk_status s2 = gwalk_translate(&r, &mem, la, acc, &b);
    if (!mem.cmpxchg &&
        (s2 != s1 || (s1 == GWALK_OK && (b.gpa != a.gpa || b.page_size != a.page_size))))
        abort();
    free(m.bytes);
    return 0;
}
