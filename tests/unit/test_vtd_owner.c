/* Hypervisor memory is never in an IOMMU domain: the mapping check against
 * the real page allocator refuses the hypervisor image, the allocator's own
 * table, other owners, free memory and non-RAM (unless an RMRR domain asks),
 * and accepts exactly what the domain's owner was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/vtd_owner.h"
#include "drivers/vtd_pt.h"
#include "lib/log.h"
#include "mm/memmap.h"
#include "mm/pmm.h"

#define MiB (1024ull * 1024)
#define PG  4096ull

static void *table_buf;
static uint64_t table_phys;

static void *fake_phys_to_virt(uint64_t phys)
{
    table_phys = phys;
    return table_buf;
}

static int setup(void **state)
{
    struct mem_region map[] = {
        {0x0, 0x9f000, MEM_USABLE},
        {0x100000, 63 * MiB, MEM_USABLE},
        {0xfed90000, 0x1000, MEM_RESERVED},
    };
    unsigned n = 3;
    pmm_test_reset();
    log_set_level(LOG_ERR);
    assert_int_equal(memmap_normalize(map, &n, 3), 0);
    assert_int_equal(pmm_reserve(0x1000000, 2 * MiB, "hypervisor"), 0);
    table_buf = malloc(pmm_table_bytes(map, n));
    assert_int_equal(pmm_init(map, n, fake_phys_to_virt), 0);
    return 0;
}

static int teardown(void **state)
{
    free(table_buf);
    return 0;
}

static void test_owner_memory_only(void **state)
{
    char why[128];
    uint64_t dma = pmm_alloc(4, 1, "vm web");
    uint64_t other = pmm_alloc(1, 1, "vm rtos");
    assert_true(dma && other);
    assert_int_equal(vtd_hpa_check(dma, 4 * PG, "vm web", false, why, sizeof(why)), VTD_OK);
    assert_int_equal(vtd_hpa_check(dma + PG, PG, "vm web", false, why, sizeof(why)), VTD_OK);
    /* The hypervisor image: refused, and the reason names it. */
    assert_int_equal(vtd_hpa_check(0x1000000, PG, "vm web", false, why, sizeof(why)),
                     VTD_ERR_DENIED);
    assert_non_null(strstr(why, "hypervisor"));
    /* Allowing non-RAM (RMRR domains) does not open RAM: still refused. */
    assert_int_equal(vtd_hpa_check(0x1000000, PG, "vm web", true, why, sizeof(why)),
                     VTD_ERR_DENIED);
    /* The allocator's own table. */
    assert_int_equal(vtd_hpa_check(table_phys & ~(PG - 1), PG, "vm web", false, why, sizeof(why)),
                     VTD_ERR_DENIED);
    assert_non_null(strstr(why, "pmm"));
    /* Another VM's page, even as the tail of an otherwise good range. */
    assert_int_equal(vtd_hpa_check(other, PG, "vm web", false, why, sizeof(why)), VTD_ERR_DENIED);
    assert_non_null(strstr(why, "vm rtos"));
    /* Free memory: it may be the hypervisor's tomorrow. */
    uint64_t freed = pmm_alloc(1, 1, "vm web");
    pmm_free(freed, 1);
    assert_int_equal(vtd_hpa_check(freed, PG, "vm web", false, why, sizeof(why)), VTD_ERR_DENIED);
    assert_non_null(strstr(why, "free"));
    /* A range that runs from owned into someone else's. */
    assert_int_equal(vtd_hpa_check(dma, 64 * MiB, "vm web", false, why, sizeof(why)),
                     VTD_ERR_DENIED);
}

static void test_non_ram_and_bad_arguments(void **state)
{
    char why[128];
    /* Outside usable RAM (an RMRR-style reserved range): only when allowed. */
    assert_int_equal(vtd_hpa_check(0xfed90000, PG, "rmrr", false, why, sizeof(why)),
                     VTD_ERR_DENIED);
    assert_non_null(strstr(why, "not (all) RAM"));
    assert_int_equal(vtd_hpa_check(0xfed90000, PG, "rmrr", true, why, sizeof(why)), VTD_OK);
    /* ...but RAM inside such a range still has to be the owner's. */
    assert_int_equal(vtd_hpa_check(0x9e000, 0x3000, "rmrr", true, why, sizeof(why)),
                     VTD_ERR_DENIED);
    /* No owner, the "free" pseudo-owner, empty or wrapping ranges. */
    assert_int_equal(vtd_hpa_check(0x200000, PG, NULL, false, why, sizeof(why)), VTD_ERR_DENIED);
    assert_int_equal(vtd_hpa_check(0x200000, PG, "", false, why, sizeof(why)), VTD_ERR_DENIED);
    assert_int_equal(vtd_hpa_check(0x200000, PG, "free", false, why, sizeof(why)), VTD_ERR_DENIED);
    assert_int_equal(vtd_hpa_check(0x200000, 0, "x", false, why, sizeof(why)), VTD_ERR_DENIED);
    assert_int_equal(vtd_hpa_check(~0xfffULL, 2 * PG, "x", true, why, sizeof(why)), VTD_ERR_DENIED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_owner_memory_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_ram_and_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
