/* Which XSAVE components a guest may enable and which every vCPU switch
 * saves and restores (vcpu/cpuid.h): PKRU (component 9) is switched
 * whenever the CPU has it, so a VM's protection-key rights never reach the
 * next VM on that CPU (issue 10 item 8); components no guest may enable
 * (MPX, PT, AMX, supervisor state) are neither offered nor switched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vcpu/cpuid.h"

#define X87    (1ULL << 0)
#define SSE    (1ULL << 1)
#define AVX    (1ULL << 2)
#define MPX    (3ULL << 3)
#define AVX512 (7ULL << 5)
#define PT     (1ULL << 8)
#define PKRU   (1ULL << 9)
#define AMX    (3ULL << 17)

static void test_pkru_switched_when_present(void **state)
{
    uint64_t icelake = X87 | SSE | AVX | AVX512 | PKRU;
    uint64_t guest = xcr0_guest_mask(icelake);
    assert_true(guest & PKRU);
    assert_int_equal(guest, icelake);
    assert_true(xsave_switch_mask(guest) & PKRU);
}

static void test_no_pkru_without_cpu_support(void **state)
{
    uint64_t skylake = X87 | SSE | AVX | MPX | AVX512;
    uint64_t guest = xcr0_guest_mask(skylake);
    assert_false(guest & PKRU);
    assert_false(guest & MPX); /* MPX is not offered */
    assert_int_equal(xsave_switch_mask(guest), X87 | SSE | AVX | AVX512);
}

static void test_never_offered(void **state)
{
    uint64_t all = ~0ULL;
    uint64_t guest = xcr0_guest_mask(all);
    assert_int_equal(guest, X87 | SSE | AVX | AVX512 | PKRU);
    assert_false(guest & (MPX | PT | AMX));
}

static void test_switch_always_has_x87_sse(void **state)
{
    assert_int_equal(xsave_switch_mask(0), X87 | SSE);
    assert_int_equal(xsave_switch_mask(PKRU), X87 | SSE | PKRU);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkru_switched_when_present),
        cmocka_unit_test(test_no_pkru_without_cpu_support),
        cmocka_unit_test(test_never_offered),
        cmocka_unit_test(test_switch_always_has_x87_sse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
