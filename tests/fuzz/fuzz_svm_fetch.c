/* libFuzzer target: the SVM backend's instruction fetch (svm/svm_fetch.c)
 * from arbitrary guest state and guest memory: CS:RIP, CR0/CR3/CR4/EFER,
 * CPL, the CS segment and the VMCB's DecodeAssists bytes all come from the
 * guest. The input's first 64 bytes set the VMCB; the rest is
 * guest-physical memory from 0. Besides the sanitizers it checks what the
 * decoder relies on: never more than asked (and never more than 15)
 * bytes, nothing on a failure, the VMCB's bytes when DecodeAssists gave
 * some, and with paging off exactly the bytes at CS.base + EIP. */
/* fuzz-srcs: svm/svm_fetch.c ept/gwalk.c vcpu/x86_operand.c vcpu/insn_len.c */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svm/svm_fetch.h"
#include "vcpu/insn_len.h"
#include "vcpu/x86_operand.h"

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

/* LMSW at the fetched bytes, as vcpu/exit_lmsw.c handles it. */
static void lmsw_path(const uint8_t *data, const struct vmcb *v, const uint8_t *buf, unsigned len,
                      bool long64)
{
    unsigned mode = long64 ? 64 : (v->save.cs.attrib & VMCB_ATTR_DB) ? 32 : 16;
    struct x86_lmsw in;
    if (!x86_decode_lmsw(buf, len, mode, &in))
        return;
    if (in.len < 3 || in.len > len || in.len > 15)
        abort();
    /* The two decoders agree where insn_len.c knows the length (it gives
     * 0 for a REX before a legacy prefix, which the CPU ignores). */
    unsigned other = x86_insn_length(buf, len, mode);
    if (other && other != in.len)
        abort();
    if (!in.mem) {
        if (in.gpr > 15 || (mode != 64 && in.gpr > 7))
            abort();
        return;
    }
    const struct x86_mem_operand *op = &in.op;
    if (op->seg < HVM_SEG_ES || op->seg > HVM_SEG_GS || op->base < -1 || op->base > 15 ||
        op->index < -1 || op->index > 15 || op->index == 4 ||
        (op->scale != 1 && op->scale != 2 && op->scale != 4 && op->scale != 8))
        abort();
    if (mode == 64 ? op->addr_size != 8 && op->addr_size != 4
                   : op->addr_size != 2 && op->addr_size != 4)
        abort();
    uint64_t gprs[16];
    for (unsigned i = 0; i < 16; i++)
        gprs[i] = take64(data + (i * 8) % 56) * (i + 1);
    uint64_t off = x86_operand_offset(op, gprs, v->save.rip + in.len);
    if (op->addr_size < 8 && off >> (8 * op->addr_size))
        abort();
    uint16_t a = v->save.cs.attrib;
    struct hvm_segment sd = {
        .base = take64(data + 8),
        .limit = take32(data + 40),
        .attr = (a & 0xffU) | ((a & 0xf00U) << 4) | ((data[63] & 0x80U) << 9),
    };
    enum x86_cpu_mode m = long64              ? X86_MODE_64
                          : (v->save.cr0 & 1) ? X86_MODE_PROTECTED
                                              : X86_MODE_REAL;
    unsigned va_bits = (v->save.cr4 & (1ULL << 12)) ? 57 : 48;
    uint64_t la;
    int seg = data[63] % 6;
    enum x86_seg_check c = x86_segment_linear(&sd, seg, m, va_bits, off, 2, data[63] & 0x40, &la);
    if (c == X86_SEG_OK && m != X86_MODE_64 && la >> 32)
        abort();
    if (c == X86_SEG_OK && m == X86_MODE_64) {
        int64_t s = (int64_t)(la << (64 - va_bits)) >> (64 - va_bits);
        if ((uint64_t)s != la)
            abort();
    }
    if (c == X86_SEG_SS && seg != HVM_SEG_SS)
        abort();
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
    if (r.status == SVM_FETCH_OK)
        lmsw_path(data, &v, buf, r.len, long64);
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
