/* The XSAVEC image check behind CPUID.(0xD,1):EAX[1] (vcpu/xsavec_check.h):
 * a correct compacted image passes; Bochs 2.7's (every component after SSE
 * written 160 bytes low, the AVX state over the XSAVE header) fails, as
 * does an image whose header or XCOMP_BV is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vcpu/xsavec_check.h"

static uint8_t area[4096];

static void put64(unsigned off, uint64_t v)
{
    memcpy(area + off, &v, 8);
}

/* An XSAVEC image of x87|SSE|AVX with YMM0's upper half full of the probe
 * byte and its AVX component at avx_off (576 on a correct CPU). */
static void image(unsigned avx_off)
{
    memset(area, 0, sizeof(area));
    memset(area + 160, 0x11, 16); /* XMM0 */
    memset(area + avx_off, XSAVEC_PROBE_BYTE, 16);
    put64(512, 6);                                /* XSTATE_BV: SSE, AVX in use */
    put64(520, (1ULL << 63) | XSAVEC_PROBE_RFBM); /* XCOMP_BV */
}

static void test_correct_image_passes(void **state)
{
    image(576);
    assert_true(xsavec_image_ok(area));
}

static void test_bochs_2_7_image_fails(void **state)
{
    /* AVX at 160 + 256 = 416: YMM0-5 upper halves at 416-511, YMM6 under
     * XSTATE_BV (rewritten after), YMM7-9 in the reserved header bytes. */
    image(416);
    memset(area + 528, 0x22, 48);
    put64(512, 6);
    put64(520, (1ULL << 63) | XSAVEC_PROBE_RFBM);
    assert_false(xsavec_image_ok(area));
    /* Even when YMM7-9 were 0 (the header looks fine), the AVX state is
     * not where XRSTOR reads it. */
    image(416);
    assert_false(xsavec_image_ok(area));
}

static void test_wrong_header_fails(void **state)
{
    image(576);
    put64(520, XSAVEC_PROBE_RFBM); /* not compacted */
    assert_false(xsavec_image_ok(area));
    image(576);
    put64(520, (1ULL << 63) | 3); /* AVX missing from XCOMP_BV */
    assert_false(xsavec_image_ok(area));
    image(576);
    put64(560, 1); /* a reserved header qword */
    assert_false(xsavec_image_ok(area));
    image(576);
    put64(512, 2); /* XSTATE_BV says AVX is in its initial state */
    assert_false(xsavec_image_ok(area));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_image_passes),
        cmocka_unit_test(test_bochs_2_7_image_fails),
        cmocka_unit_test(test_wrong_header_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
