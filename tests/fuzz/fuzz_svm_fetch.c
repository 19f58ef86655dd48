/* libFuzzer target: the SVM backend's instruction fetch (svm/svm_fetch.c)
 * from arbitrary guest state and guest memory: CS:RIP, CR0/CR3/CR4/EFER,
 * CPL, the CS segment and the VMCB's DecodeAssists bytes all come from the
 * guest. The input's first 64 bytes set the VMCB; the rest is
 * guest-physical memory from 0. Besides the sanitizers it checks what the
 * decoder relies on: never more than asked (and never more than 15)
 * bytes, nothing on a failure, the VMCB's bytes when DecodeAssists gave
 * some, and with paging off exactly the bytes at CS.base + EIP. */
/* fuzz-srcs: svm/svm_fetch.c ept/gwalk.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svm/svm_fetch.h"

#define HDR 64

struct fake_mem {
    const uint8_t *bytes;
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

static uint64_t take64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t take32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR)
        return 0;
    static struct vmcb v;
    memset(&v, 0, sizeof(v));
    v.save.cr0 = take64(data);
    v.save.cr3 = take64(data + 8);
    v.save.cr4 = take64(data + 16);
    v.save.efer = take64(data + 24);
    v.save.rip = take64(data + 32);
    v.save.cs.limit = take32(data + 40);
    v.save.cs.base = take32(data + 44);
    v.save.cs.attrib = (uint16_t)(data[48] | (data[49] << 8));
    v.save.cpl = data[50] & 3;
    unsigned want = data[51];
    v.control.insn_len = data[52] & 0xf;
    memcpy(v.control.insn_bytes, data + 53, 8);
    unsigned maxphyaddr = 32 + data[61] % 21;
    v.save.rflags = 2 | ((data[62] & 1ULL) << 18);

    struct fake_mem mem = {data + HDR, size - HDR};
    struct gwalk_mem gm = {fake_read, NULL, &mem};
    uint8_t buf[32];
    memset(buf, 0xcc, sizeof(buf));
    struct svm_fetch_result r;
    svm_fetch_insn(&v, &gm, maxphyaddr, buf, want, &r);

    unsigned cap = want < SVM_MAX_INSN_LEN ? want : SVM_MAX_INSN_LEN;
    if (r.len > cap)
        abort();
    for (unsigned i = r.len; i < sizeof(buf); i++)
        if (buf[i] != 0xcc) /* nothing written past what was returned */
            abort();
    if (r.status != SVM_FETCH_OK && r.len)
        abort();
    if (r.from_decode_assists) {
        if (r.len > v.control.insn_len || memcmp(buf, v.control.insn_bytes, r.len))
            abort();
        return 0;
    }
    bool long64 = (v.save.efer & (1ULL << 10)) && (v.save.cs.attrib & VMCB_ATTR_L);
    if (r.status == SVM_FETCH_OK && !(v.save.cr0 & (1ULL << 31)) && !long64) {
        /* Paging off: guest-physical = linear, wrapping at 4 GiB. */
        for (unsigned i = 0; i < r.len; i++) {
            uint64_t a = (r.la + i) & 0xffffffff;
            if (a >= mem.size || buf[i] != mem.bytes[a])
                abort();
        }
    }
    return 0;
}
