/* The XSAVEC image check (vcpu/xsavec_check.h): pure, shared by the
 * boot-time probe (vcpu/xsavec_check.c) and the unit test. */
#include "vcpu/xsavec_check.h"

#define XSAVE_HDR       512
#define XSAVE_EXT_START 576 /* the first extended component, compacted */
#define XCOMP_COMPACTED (1ULL << 63)
#define YMM0_HI_BYTES   16

bool xsavec_image_ok(const uint8_t *area)
{
    uint64_t hdr[8] = {0};
    for (unsigned i = 0; i < sizeof(hdr); i++) /* the area need not be 8-byte aligned */
        hdr[i / 8] |= (uint64_t)area[XSAVE_HDR + i] << (8 * (i % 8));
    if (hdr[1] != (XCOMP_COMPACTED | XSAVEC_PROBE_RFBM))
        return false;
    for (unsigned i = 2; i < 8; i++) /* reserved: XRSTOR faults on anything else */
        if (hdr[i])
            return false;
    if (!(hdr[0] & XSAVEC_XCR0_AVX)) /* YMM0's upper half is not in its initial state */
        return false;
    for (unsigned i = 0; i < YMM0_HI_BYTES; i++)
        if (area[XSAVE_EXT_START + i] != XSAVEC_PROBE_BYTE)
            return false;
    return true;
}
