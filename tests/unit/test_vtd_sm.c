/* VT-d scalable-mode structures: root, context, PASID directory and PASID
 * table entry encodings (reserved bits zero, as QEMU's intel-iommu checks
 * them), the tables walked by hand the way the unit walks them, reuse and
 * rollback, and when a unit may run scalable mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/vtd_hw.h"
#include "drivers/vtd_pt.h"
#include "drivers/vtd_sm.h"
#include "drivers/vtd_tables.h"
#include "test_vtd_pool.h"

static void test_root_entry_format(void **state)
{
    struct vtd_entry128 e = vtd_sm_root_entry(0x12345000, 0);
    assert_int_equal(e.lo, 0x12345000 | 1);
    assert_int_equal(e.hi, 0);
    e = vtd_sm_root_entry(0, 0xabc000);
    assert_int_equal(e.lo, 0);
    assert_int_equal(e.hi, 0xabc000 | 1);
    e = vtd_sm_root_entry(0x1000, 0x2000);
    assert_int_equal(e.lo, 0x1000 | 1);
    assert_int_equal(e.hi, 0x2000 | 1);
    assert_int_equal(e.lo & VTD_SM_ROOT_RSVD, 0);
    assert_int_equal(e.hi & VTD_SM_ROOT_RSVD, 0);
    e = vtd_sm_root_entry(0, 0);
    assert_int_equal(e.lo | e.hi, 0);
}

static void test_context_entry_format(void **state)
{
    struct vtd_entry256 e = vtd_sm_context_entry(0x7654000);
    /* Present; FPD, DTE, PASIDE, PRE clear; PDTS 0; the directory. */
    assert_int_equal(e.q[0], 0x7654000 | 1);
    assert_int_equal(e.q[0] & 0x1e, 0);
    assert_int_equal(e.q[0] & VTD_SM_CTX_RSVD0, 0);
    assert_int_equal((e.q[0] >> 9) & 7, 0);
    /* RID_PASID 0, RID_PRIV clear, reserved bits zero. */
    assert_int_equal(e.q[1], 0);
    assert_int_equal(e.q[1] & VTD_SM_CTX_RSVD1, 0);
    assert_int_equal(e.q[2], 0);
    assert_int_equal(e.q[3], 0);
}

static void test_pasid_entry_format(void **state)
{
    assert_int_equal(vtd_sm_pasid_dir_entry(0x55000), 0x55000 | 1);
    assert_int_equal(vtd_sm_pasid_dir_entry(0x55000) & VTD_SM_PDE_RSVD, 0);

    struct vtd_pasid_entry e = vtd_sm_pasid_entry(0x1234, 0xabcde000, 3);
    /* P, FPD clear, AW 1 (39 bits, 3 levels), SLEE clear, PGTT 010b,
     * SLADE clear, the second-level tables. */
    assert_int_equal(e.q[0], 0xabcde000 | (2 << 6) | (1 << 2) | 1);
    assert_int_equal(VTD_SM_PE_PGTT(e.q[0]), 2);
    assert_int_equal(e.q[1], 0x1234); /* DID; snoop and memory-type bits clear */
    for (unsigned i = 2; i < 8; i++)
        assert_int_equal(e.q[i], 0);
    e = vtd_sm_pasid_entry(7, 0x1000, 4);
    assert_int_equal((e.q[0] >> 2) & 7, 2); /* 48 bits, 4 levels */
    assert_int_equal(e.q[0] & ~0xfffULL, 0x1000);
}

/* The walk QEMU's unit (and the spec) does for a request without PASID:
 * root entry (lower or upper half), context entry, PASID directory entry
 * RID_PASID >> 6, PASID table entry RID_PASID & 63. 0 when it stops. */
static int walk(struct pool *p, uint64_t root, uint8_t bus, uint8_t devfn,
                struct vtd_pasid_entry *out)
{
    uint64_t re = pool_word(p, root + 16 * bus + (devfn >= 128 ? 8 : 0));
    if (!(re & 1))
        return 0;
    uint64_t ce = (re & ~0xfffULL) + 32 * (devfn & 127);
    if (!(pool_word(p, ce) & 1))
        return 0;
    assert_int_equal(pool_word(p, ce + 8) & 0xfffff, VTD_SM_RID_PASID);
    uint64_t de = pool_word(p, pool_word(p, ce) & ~0xfffULL);
    if (!(de & 1))
        return 0;
    uint64_t pe = de & ~0xfffULL;
    for (unsigned i = 0; i < 8; i++)
        out->q[i] = pool_word(p, pe + 8 * i);
    return out->q[0] & 1;
}

static void test_tables_walk(void **state)
{
    struct pool *p = pool_new(false);
    struct vtd_ctx_tables t;
    struct vtd_pasid_entry pe;
    struct vtd_entry128 e;
    assert_int_equal(vtd_ctx_init_mode(&t, &p->ops, true), VTD_OK);
    assert_true(t.scalable);
    for (unsigned b = 0; b < 256; b++)
        assert_false(walk(p, t.root, (uint8_t)b, 0x28, &pe));
    /* Lower half (devfn 0x28) and upper half (devfn 0x85) of bus 2. */
    assert_int_equal(vtd_ctx_set(&t, 2, 0x28, 5, 0x3000, 3), VTD_OK);
    assert_true(walk(p, t.root, 2, 0x28, &pe));
    assert_int_equal(pe.q[0], 0x3000 | (2 << 6) | (1 << 2) | 1);
    assert_int_equal(pe.q[1], 5);
    assert_false(walk(p, t.root, 2, 0x85, &pe));
    assert_false(walk(p, t.root, 2, 0x29, &pe));
    assert_int_equal(t.upper[2], 0);
    assert_true(pool_line_flushed(p, t.root + 16 * 2));
    assert_true(pool_line_flushed(p, t.ctx[2] + 32 * 0x28));
    assert_int_equal(vtd_ctx_set(&t, 2, 0x85, 6, 0x4000, 4), VTD_OK);
    assert_true(walk(p, t.root, 2, 0x85, &pe));
    assert_int_equal(pe.q[1], 6);
    assert_int_equal((pe.q[0] >> 2) & 7, 2);
    assert_true(walk(p, t.root, 2, 0x28, &pe)); /* the lower half kept */
    assert_int_equal(pool_word(p, t.root + 16 * 2 + 8), t.upper[2] | 1);
    assert_int_equal(t.nr_present, 2);
    assert_true(vtd_ctx_get(&t, 2, 0x85, &e));
    /* Every byte of the context entries is as encoded (dirty pages zeroed). */
    for (unsigned i = 1; i < 4; i++)
        assert_int_equal(pool_word(p, t.upper[2] + 32 * 5 + 8 * i), 0);

    /* Another domain for 0x28: the same PASID pages, the entry rewritten. */
    unsigned allocs = p->allocs;
    assert_int_equal(vtd_ctx_set(&t, 2, 0x28, 9, 0x5000, 3), VTD_OK);
    assert_int_equal(p->allocs, allocs);
    assert_true(walk(p, t.root, 2, 0x28, &pe));
    assert_int_equal(pe.q[1], 9);
    assert_int_equal(pe.q[0] & ~0xfffULL, 0x5000);
    assert_int_equal(t.nr_present, 2);

    /* Cleared: blocked at the context entry and at the PASID entry; the
     * pages stay (the unit may cache them until invalidated) and are
     * reused by the next attach. */
    vtd_ctx_clear(&t, 2, 0x28);
    assert_false(walk(p, t.root, 2, 0x28, &pe));
    assert_false(vtd_ctx_get(&t, 2, 0x28, &e));
    assert_int_equal(t.nr_present, 1);
    vtd_ctx_clear(&t, 2, 0x28); /* twice: no change */
    assert_int_equal(t.nr_present, 1);
    vtd_ctx_clear(&t, 9, 0x28); /* never set */
    assert_int_equal(vtd_ctx_set(&t, 2, 0x28, 3, 0x6000, 3), VTD_OK);
    assert_int_equal(p->allocs, allocs);
    assert_true(walk(p, t.root, 2, 0x28, &pe));
    assert_int_equal(pe.q[1], 3);

    /* The same refusals as legacy mode. */
    assert_int_equal(vtd_ctx_set(&t, 1, 0, 0, 0x3000, 3), VTD_ERR_INVAL);
    assert_int_equal(vtd_ctx_set(&t, 1, 0, 1, 0x3001, 3), VTD_ERR_INVAL);
    assert_int_equal(vtd_ctx_set(&t, 1, 0, 1, 0x3000, 6), VTD_ERR_INVAL);
    assert_false(walk(p, t.root, 1, 0, &pe));
    vtd_ctx_destroy(&t);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

static void test_nomem_rolls_back(void **state)
{
    for (int fail = 0; fail < 3; fail++) {
        struct pool *p = pool_new(true);
        struct vtd_ctx_tables t;
        struct vtd_pasid_entry pe;
        assert_int_equal(vtd_ctx_init_mode(&t, &p->ops, true), VTD_OK);
        p->fail_after = fail; /* context table, PASID directory, PASID table */
        assert_int_equal(vtd_ctx_set(&t, 4, 0x90, 2, 0x3000, 3), VTD_ERR_NOMEM);
        assert_int_equal(t.nr_present, 0);
        assert_int_equal(pool_word(p, t.root + 16 * 4), 0);
        assert_int_equal(pool_word(p, t.root + 16 * 4 + 8), 0);
        assert_int_equal(t.upper[4], 0);
        assert_int_equal(p->allocs, p->frees + 1); /* the root only */
        p->fail_after = -1;
        assert_int_equal(vtd_ctx_set(&t, 4, 0x90, 2, 0x3000, 3), VTD_OK);
        assert_true(walk(p, t.root, 4, 0x90, &pe));
        vtd_ctx_destroy(&t);
        assert_int_equal(p->allocs, p->frees);
        pool_delete(p);
    }
}

static void test_refusal_and_mode(void **state)
{
    uint64_t all = VTD_ECAP_SMTS | VTD_ECAP_SLTS | VTD_ECAP_QI;
    assert_null(vtd_sm_refusal(all, true));
    assert_non_null(strstr(vtd_sm_refusal(all & ~VTD_ECAP_SMTS, true), "SMTS"));
    assert_non_null(strstr(vtd_sm_refusal(all & ~VTD_ECAP_SLTS, true), "SLTS"));
    assert_non_null(strstr(vtd_sm_refusal(all & ~VTD_ECAP_QI, false), "queue"));
    assert_non_null(strstr(vtd_sm_refusal(all, false), "iommu.qi=off"));

    bool sm = false;
    assert_int_equal(vtd_sm_parse_mode("scalable", &sm), 0);
    assert_true(sm);
    assert_int_equal(vtd_sm_parse_mode("legacy", &sm), 0);
    assert_false(sm);
    sm = true;
    assert_int_equal(vtd_sm_parse_mode("Scalable", &sm), -1);
    assert_int_equal(vtd_sm_parse_mode("", &sm), -1);
    assert_int_equal(vtd_sm_parse_mode("scalable ", &sm), -1);
    assert_true(sm); /* unchanged on error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_entry_format),  cmocka_unit_test(test_context_entry_format),
        cmocka_unit_test(test_pasid_entry_format), cmocka_unit_test(test_tables_walk),
        cmocka_unit_test(test_nomem_rolls_back),   cmocka_unit_test(test_refusal_and_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
