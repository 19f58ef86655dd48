/* Instruction fetch at CS:RIP for a backend without NRIPS/DecodeAssists;
 * see svm_fetch.h. */
#include "svm/svm_fetch.h"

#include "lib/string.h"

#define EFER_LMA (1ULL << 10)

/* Reads up to n bytes (n <= page remainder) at gpa through 8-byte aligned
 * reads, which never leave the page; returns how many it could read (the
 * rest lies outside guest memory). */
static unsigned read_bytes(const struct gwalk_mem *mem, uint64_t gpa, uint8_t *buf, unsigned n)
{
    unsigned done = 0;
    while (done < n) {
        uint64_t aligned = gpa & ~7ULL;
        unsigned skip = (unsigned)(gpa - aligned);
        uint8_t chunk[8];
        if (mem->read(mem->ctx, aligned, chunk, 8))
            break;
        unsigned take = 8 - skip < n - done ? 8 - skip : n - done;
        memcpy(buf + done, chunk + skip, take);
        gpa += take;
        done += take;
    }
    return done;
}

void svm_fetch_insn(const struct vmcb *v, const struct gwalk_mem *mem, unsigned maxphyaddr,
                    uint8_t *buf, unsigned want, struct svm_fetch_result *out)
{
    const struct vmcb_save_area *s = &v->save;
    memset(out, 0, sizeof(*out));
    if (want > SVM_MAX_INSN_LEN)
        want = SVM_MAX_INSN_LEN;

    if (v->control.insn_len) {
        unsigned n = v->control.insn_len < want ? v->control.insn_len : want;
        memcpy(buf, v->control.insn_bytes, n);
        out->len = n;
        out->from_decode_assists = 1;
        out->status = SVM_FETCH_OK;
        return;
    }

    bool long64 = (s->efer & EFER_LMA) && (s->cs.attrib & VMCB_ATTR_L);
    uint64_t la;
    if (long64) {
        la = s->rip;
    } else {
        /* Legacy and compatibility mode: the CS limit bounds the fetch. */
        uint64_t eip = s->rip & 0xffffffff;
        if (eip > s->cs.limit) {
            out->status = SVM_FETCH_OK; /* nothing fetchable: the decoder fails */
            return;
        }
        if (s->cs.limit - eip + 1 < want)
            want = (unsigned)(s->cs.limit - eip + 1);
        la = (s->cs.base + eip) & 0xffffffff;
    }
    out->la = la;

    struct gwalk_regs regs = {
        .cr0 = s->cr0,
        .cr3 = s->cr3,
        .cr4 = s->cr4,
        .efer = s->efer,
        .rflags = s->rflags,
        .cpl = s->cpl,
        .pdptes = NULL, /* AMD walks PAE PDPTEs from memory */
        .maxphyaddr = maxphyaddr,
        .gbpages = true,
    };
    unsigned got = 0;
    while (got < want) {
        uint64_t cur = long64 ? la + got : (la + got) & 0xffffffff;
        struct gwalk_result r;
        enum gwalk_status st = gwalk_translate(&regs, mem, cur, GWALK_FETCH, &r);
        if (st != GWALK_OK) { /* GWALK_GP: a non-canonical RIP cannot have run */
            if (got)
                break; /* the decoder may not need the second page */
            if (st == GWALK_PAGE_FAULT) {
                out->status = SVM_FETCH_PAGE_FAULT;
                out->fault = r;
            } else if (st == GWALK_RETRY) {
                out->status = SVM_FETCH_RETRY;
            } else {
                out->status = SVM_FETCH_BAD_MEMORY;
            }
            return;
        }
        unsigned in_page = (unsigned)(0x1000 - (cur & 0xfff));
        unsigned n = want - got < in_page ? want - got : in_page;
        unsigned read = read_bytes(mem, r.gpa, buf + got, n);
        got += read;
        if (read < n) {
            if (got)
                break; /* the bytes before the end of guest memory */
            out->status = SVM_FETCH_BAD_MEMORY;
            return;
        }
    }
    out->len = got;
    out->status = SVM_FETCH_OK;
}
