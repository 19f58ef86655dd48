/* The guest page walker (see gwalk.h): Intel SDM Vol. 3A, 4.3-4.8. */
#include "ept/gwalk.h"

#define MAX_LEVELS  5
#define MAX_RETRIES 4

/* One paging entry the walk used, for the accessed/dirty update. */
struct used_entry {
    uint64_t gpa, val;
    unsigned len;
};

struct walk {
    const struct gwalk_regs *r;
    const struct gwalk_mem *m;
    uint64_t la;
    enum gwalk_access acc;
    struct used_entry used[MAX_LEVELS];
    unsigned nr_used;
    bool us, rw, xd; /* accumulated over the levels */
    uint64_t gpa, page_size;
    uint32_t rsvd_fault; /* nonzero: stop with a reserved-bit fault */
};

static uint64_t bits(unsigned hi, unsigned lo)
{
    if (hi < lo)
        return 0;
    uint64_t top = hi >= 63 ? ~0ULL : (1ULL << (hi + 1)) - 1;
    return top & ~((1ULL << lo) - 1);
}

bool gwalk_reports_fetch(const struct gwalk_regs *r)
{
    return (r->cr4 & GWALK_CR4_SMEP) || ((r->cr4 & GWALK_CR4_PAE) && (r->efer & GWALK_EFER_NXE));
}

static int read_entry(struct walk *w, uint64_t gpa, unsigned len, uint64_t *val)
{
    uint64_t v = 0;
    if (w->m->read(w->m->ctx, gpa, &v, len))
        return -1;
    *val = len == 4 ? (uint32_t)v : v;
    return 0;
}

static void note_used(struct walk *w, uint64_t gpa, uint64_t val, unsigned len)
{
    w->used[w->nr_used++] = (struct used_entry){gpa, val, len};
}

static void accumulate(struct walk *w, uint64_t e, bool nxe)
{
    w->us &= (e & GPTE_US) != 0;
    w->rw &= (e & GPTE_RW) != 0;
    if (nxe)
        w->xd |= (e & GPTE_XD) != 0;
}

/* 32-bit paging: two levels of 4-byte entries; 4 MiB pages with CR4.PSE,
 * whose bits 20:13 carry physical bits 39:32 (PSE-36). */
static enum gwalk_status walk32(struct walk *w)
{
    const struct gwalk_regs *r = w->r;
    uint64_t pde_gpa = (r->cr3 & 0xfffff000ULL) + ((w->la >> 22) & 0x3ff) * 4;
    uint64_t pde, pte;

    if (read_entry(w, pde_gpa, 4, &pde))
        return GWALK_BAD_TABLE;
    if (!(pde & GPTE_P))
        return GWALK_PAGE_FAULT;
    note_used(w, pde_gpa, pde, 4);
    accumulate(w, pde, false);
    if ((pde & GPTE_PS) && (r->cr4 & GWALK_CR4_PSE)) {
        unsigned high = (r->maxphyaddr > 40 ? 40 : r->maxphyaddr) - 32;
        if (pde & bits(21, 13 + high)) {
            w->rsvd_fault = 1;
            return GWALK_PAGE_FAULT;
        }
        uint64_t hi = high ? (pde >> 13) & ((1ULL << high) - 1) : 0;
        w->gpa = (pde & 0xffc00000ULL) | (hi << 32) | (w->la & 0x3fffff);
        w->page_size = 4ULL << 20;
        return GWALK_OK;
    }
    uint64_t pte_gpa = (pde & 0xfffff000ULL) + ((w->la >> 12) & 0x3ff) * 4;
    if (read_entry(w, pte_gpa, 4, &pte))
        return GWALK_BAD_TABLE;
    if (!(pte & GPTE_P))
        return GWALK_PAGE_FAULT;
    note_used(w, pte_gpa, pte, 4);
    accumulate(w, pte, false);
    w->gpa = (pte & 0xfffff000ULL) | (w->la & 0xfff);
    w->page_size = 4096;
    return GWALK_OK;
}

/* The reserved bits of a present entry at `level` (1 = PTE) that is a leaf
 * (`leaf`) or points to a table. */
static uint64_t reserved_bits(const struct gwalk_regs *r, unsigned level, bool leaf, bool long_mode)
{
    bool nxe = r->efer & GWALK_EFER_NXE;
    uint64_t rsvd = long_mode ? bits(51, r->maxphyaddr) : bits(62, r->maxphyaddr);
    if (!nxe)
        rsvd |= GPTE_XD;
    if (leaf && level == 2)
        rsvd |= bits(20, 13); /* 2 MiB page: address bits below 21 */
    if (leaf && level == 3)
        rsvd |= bits(29, 13); /* 1 GiB page */
    return rsvd;
}

/* PAE, 4-level and 5-level paging: 8-byte entries, 9 index bits a level
 * (2 at PAE's top level, which is the PDPTE registers). */
static enum gwalk_status walk64(struct walk *w)
{
    const struct gwalk_regs *r = w->r;
    bool long_mode = r->efer & GWALK_EFER_LMA;
    bool nxe = r->efer & GWALK_EFER_NXE;
    unsigned levels = long_mode ? ((r->cr4 & GWALK_CR4_LA57) ? 5 : 4) : 3;
    uint64_t addr_mask = bits(r->maxphyaddr - 1, 12);
    uint64_t table = r->cr3 & addr_mask;
    unsigned level = levels;

    if (!long_mode) {
        /* PDPTEs: no permission bits, never accessed/dirty (bits 8:5 are
         * reserved). */
        unsigned idx = (w->la >> 30) & 3;
        uint64_t pdpte;
        if (r->pdptes)
            pdpte = r->pdptes[idx];
        else if (read_entry(w, (r->cr3 & 0xffffffe0ULL) + idx * 8, 8, &pdpte))
            return GWALK_BAD_TABLE;
        if (!(pdpte & GPTE_P))
            return GWALK_PAGE_FAULT;
        /* Read from memory (AMD), bit 5 may be the accessed bit: QEMU
         * TCG sets it on the PDPTEs of an SVM guest's PAE walk. */
        uint64_t rsvd = bits(63, r->maxphyaddr) | bits(8, 5) | bits(2, 1);
        if (!r->pdptes)
            rsvd &= ~GPTE_A;
        if (pdpte & rsvd) {
            w->rsvd_fault = 1;
            return GWALK_PAGE_FAULT;
        }
        table = pdpte & addr_mask;
        level = 2;
    }
    for (; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t e_gpa = table + ((w->la >> shift) & 511) * 8;
        uint64_t e;
        if (read_entry(w, e_gpa, 8, &e))
            return GWALK_BAD_TABLE;
        if (!(e & GPTE_P))
            return GWALK_PAGE_FAULT;
        bool ps = level == 1 ? false : (e & GPTE_PS) != 0;
        /* PS is reserved above the page directory pointer level, and at
         * that level without 1 GiB page support. */
        bool ps_reserved = ps && (level > 3 || (level == 3 && !r->gbpages));
        bool leaf = level == 1 || (ps && !ps_reserved);
        if (ps_reserved || (e & reserved_bits(r, level, leaf, long_mode))) {
            w->rsvd_fault = 1;
            return GWALK_PAGE_FAULT;
        }
        note_used(w, e_gpa, e, 8);
        accumulate(w, e, nxe);
        if (leaf) {
            w->page_size = 1ULL << shift;
            w->gpa = (e & addr_mask & ~(w->page_size - 1)) | (w->la & (w->page_size - 1));
            return GWALK_OK;
        }
        table = e & addr_mask;
    }
    return GWALK_BAD_TABLE; /* not reached: level 1 is always a leaf */
}

/* SDM 4.6: may this access go ahead with the accumulated rights? */
static bool access_allowed(const struct walk *w)
{
    const struct gwalk_regs *r = w->r;
    bool wp = r->cr0 & GWALK_CR0_WP;
    if (r->cpl == 3) {
        if (!w->us)
            return false;
        if (w->acc == GWALK_WRITE)
            return w->rw;
        if (w->acc == GWALK_FETCH)
            return !w->xd;
        return true;
    }
    if (w->acc == GWALK_FETCH)
        return !w->xd && !(w->us && (r->cr4 & GWALK_CR4_SMEP));
    /* Supervisor data access to a user page: SMAP unless RFLAGS.AC. */
    if (w->us && (r->cr4 & GWALK_CR4_SMAP) && !(r->rflags & GWALK_RFLAGS_AC))
        return false;
    if (w->acc == GWALK_WRITE && !w->rw && wp)
        return false;
    return true;
}

/* Sets A on every entry used and D on the leaf for a write. 0 done, 1 an
 * entry changed meanwhile (walk again), -1 an entry cannot be written. */
static int set_accessed_dirty(struct walk *w)
{
    if (!w->m->cmpxchg)
        return 0;
    for (unsigned i = 0; i < w->nr_used; i++) {
        struct used_entry *u = &w->used[i];
        uint64_t want = u->val | GPTE_A;
        if (i == w->nr_used - 1 && w->acc == GWALK_WRITE)
            want |= GPTE_D;
        if (want == u->val)
            continue;
        int rc = w->m->cmpxchg(w->m->ctx, u->gpa, u->len, u->val, want);
        if (rc)
            return rc;
    }
    return 0;
}

static uint32_t base_error(const struct gwalk_regs *r, enum gwalk_access acc)
{
    uint32_t err = 0;
    if (acc == GWALK_WRITE)
        err |= PF_ERR_W;
    if (r->cpl == 3)
        err |= PF_ERR_U;
    if (acc == GWALK_FETCH && gwalk_reports_fetch(r))
        err |= PF_ERR_I;
    return err;
}

static bool canonical(uint64_t la, unsigned width)
{
    int64_t s = (int64_t)(la << (64 - width)) >> (64 - width);
    return (uint64_t)s == la;
}

enum gwalk_status gwalk_translate(const struct gwalk_regs *r, const struct gwalk_mem *m,
                                  uint64_t la, enum gwalk_access acc, struct gwalk_result *out)
{
    *out = (struct gwalk_result){0, 0, 0, false};
    if (!(r->cr0 & GWALK_CR0_PG)) {
        out->gpa = la & 0xffffffffULL;
        out->page_size = 1ULL << 32;
        out->writable = true;
        return GWALK_OK;
    }
    bool long_mode = r->efer & GWALK_EFER_LMA;
    if (long_mode) {
        if (!canonical(la, (r->cr4 & GWALK_CR4_LA57) ? 57 : 48))
            return GWALK_GP;
    } else {
        la &= 0xffffffffULL;
    }
    /* A physical-address width outside what x86 defines is treated as
     * the nearest legal one. */
    struct gwalk_regs regs = *r;
    if (regs.maxphyaddr < 32)
        regs.maxphyaddr = 32;
    if (regs.maxphyaddr > 52)
        regs.maxphyaddr = 52;

    for (unsigned attempt = 0; attempt < MAX_RETRIES; attempt++) {
        struct walk w = {.r = &regs, .m = m, .la = la, .acc = acc, .us = true, .rw = true};
        enum gwalk_status st = (regs.cr4 & GWALK_CR4_PAE) ? walk64(&w) : walk32(&w);
        if (st == GWALK_BAD_TABLE)
            return st;
        if (st == GWALK_PAGE_FAULT) {
            out->error = base_error(&regs, acc) | (w.rsvd_fault ? PF_ERR_P | PF_ERR_RSVD : 0);
            return st;
        }
        if (!access_allowed(&w)) {
            out->error = base_error(&regs, acc) | PF_ERR_P;
            return GWALK_PAGE_FAULT;
        }
        int rc = set_accessed_dirty(&w);
        if (rc < 0)
            return GWALK_BAD_TABLE;
        if (rc > 0)
            continue;
        out->gpa = w.gpa;
        out->page_size = w.page_size;
        out->writable = w.rw || (regs.cpl < 3 && !(regs.cr0 & GWALK_CR0_WP));
        return GWALK_OK;
    }
    return GWALK_RETRY;
}
