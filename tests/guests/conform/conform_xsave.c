/* XSAVE formats as the SDM (vol. 1, 13.4 and 13.8) defines them, with
 * YMM0's upper half full of a known byte: the standard format keeps it at
 * the offset CPUID.(0xD,2):EBX gives and XRSTOR brings it back; the
 * compacted format (XSAVEC), when CPUID.(0xD,1):EAX[1] offers it, puts the
 * AVX component right after the header (offset 576), leaves the header's
 * reserved bytes 0, and XRSTOR of its image brings YMM0 back. (Bochs 2.7's
 * XSAVEC writes the AVX state 160 bytes too low, over the header: the
 * hypervisor must not offer it there. vcpu/xsavec_check.h.) */
#include "tests/guests/conform/conform.h"

#define BYTE      0xa5
#define RFBM      7u /* x87 SSE AVX */
#define HDR       512
#define EXT_START 576

static uint8_t g_area[4096] __attribute__((aligned(64)));
static uint8_t g_ymm[32] __attribute__((aligned(32)));
static uint8_t g_back[32] __attribute__((aligned(32)));

static void ymm0_load(void)
{
    for (unsigned i = 0; i < 32; i++)
        g_ymm[i] = BYTE;
    __asm__ volatile("vmovdqu (%0), %%ymm0" ::"r"(g_ymm) : "memory");
}

static void ymm0_clear(void)
{
    __asm__ volatile("vpxor %%xmm0, %%xmm0, %%xmm0" ::
                         : "memory"); /* VEX: clears bits 128-255 too */
}

/* YMM0's upper half equals BYTE after XRSTOR of g_area (0: yes, else the
 * exception vector + 1 or 0x100 for a wrong value). */
static int xrstor_brings_back(void)
{
    ymm0_clear();
    int v = TRY("xrstor64 (%[a])", [a] "r"(g_area), "a"(RFBM), "d"(0));
    if (v >= 0)
        return v + 1;
    __asm__ volatile("vmovdqu %%ymm0, (%0)\n\tvpxor %%xmm0, %%xmm0, %%xmm0" ::"r"(g_back)
                     : "memory");
    for (unsigned i = 16; i < 32; i++)
        if (g_back[i] != BYTE)
            return 0x100;
    return 0;
}

static int find_byte_run(void)
{
    for (unsigned off = 416; off + 16 <= 1024; off += 16) { /* past XMM0-15 */
        unsigned n = 0;
        while (n < 16 && g_area[off + n] == BYTE)
            n++;
        if (n == 16)
            return (int)off;
    }
    return -1;
}

/* A zeroed save area and the YMM0 pattern loaded, before an XSAVE. */
static void area_clear_and_load_ymm0(void)
{
    for (unsigned i = 0; i < sizeof(g_area); i++)
        g_area[i] = 0;
    ymm0_load();
}

/* The check passes when XRSTOR of the image brings YMM0 back. */
static void report_xrstor(const char *name)
{
    int r = xrstor_brings_back();
    if (r)
        fail(name, "xrstor of the image: %s", r == 0x100 ? "wrong YMM0" : vector_name(r - 1));
    else
        pass(name);
}

static void check_standard(void)
{
    const char *name = "xsave_standard_keeps_ymm";
    uint32_t a, b, c, d;
    cpuid(0xd, 2, &a, &b, &c, &d);
    uint32_t ymm_off = b;
    area_clear_and_load_ymm0();
    __asm__ volatile("xsave64 (%0)" ::"r"(g_area), "a"(RFBM), "d"(0) : "memory");
    ymm0_clear();
    for (unsigned i = 0; i < 16; i++)
        if (g_area[ymm_off + i] != BYTE) {
            fail(name, "YMM0[255:128] not at offset %u (CPUID.(0xD,2):EBX)", ymm_off);
            return;
        }
    report_xrstor(name);
}

static void check_compacted(void)
{
    const char *name = "xsavec_offered_only_if_correct";
    uint32_t a, b, c, d;
    cpuid(0xd, 1, &a, &b, &c, &d);
    if (!(a & 2)) {
        printf("conform: xsavec not offered\n");
        pass(name);
        return;
    }
    area_clear_and_load_ymm0();
    __asm__ volatile("xsavec64 (%0)" ::"r"(g_area), "a"(RFBM), "d"(0) : "memory");
    ymm0_clear();
    const uint64_t *hdr = (const uint64_t *)(g_area + HDR);
    if (hdr[1] != ((1ull << 63) | RFBM)) {
        fail(name, "XCOMP_BV 0x%llx", (unsigned long long)hdr[1]);
        return;
    }
    for (unsigned i = 2; i < 8; i++)
        if (hdr[i]) {
            fail(name, "header qword %u is 0x%llx (reserved); YMM0[255:128] found at offset %d", i,
                 (unsigned long long)hdr[i], find_byte_run());
            return;
        }
    if (find_byte_run() != EXT_START) {
        fail(name, "YMM0[255:128] at offset %d, expected %d", find_byte_run(), EXT_START);
        return;
    }
    report_xrstor(name);
}

void check_xsave(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    bool avx = cpu_has_xsave() && (c & (1u << 28));
    if (avx) {
        cpuid(0xd, 0, &a, &b, &c, &d);
        avx = (a & RFBM) == RFBM && try_xsetbv0(RFBM) < 0;
    }
    if (!avx) {
        printf("conform: no AVX: xsave checks skipped\n");
        return;
    }
    check_standard();
    check_compacted();
}
