/* XSAVEC checked before guests are shown it (vcpu/xsavec_check.h). The
 * hypervisor itself never uses XSAVEC: the vCPU switch uses XSAVE and the
 * standard format (vcpu/vcpu_switch.c). */
#include "vcpu/xsavec_check.h"

#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/string.h"

#define CPUID_D1_XSAVEC (1U << 1)

static volatile bool xsavec_faulty;

bool xsavec_usable(void)
{
    return !xsavec_faulty;
}

void xsavec_probe_cpu(void)
{
    struct cpuid_regs r = {0, 0, 0, 0};
    cpuid_count(0xd, 1, &r);
    if (!(r.eax & CPUID_D1_XSAVEC) || !(xgetbv(0) & XSAVEC_XCR0_AVX))
        return;
    static uint8_t area[4096] __attribute__((aligned(64)));
    static uint8_t ymm[32] __attribute__((aligned(32)));
    memset(area, 0, sizeof(area));
    memset(ymm, XSAVEC_PROBE_BYTE, sizeof(ymm));
    /* Root mode has no SIMD state of its own (-mgeneral-regs-only) and no
     * guest's is loaded yet: YMM0 is free. Cleared again afterwards. */
    __asm__ volatile("vmovdqu (%0), %%ymm0\n\t"
                     "xsavec64 (%1)\n\t"
                     "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
                     "vzeroupper" ::"r"(ymm),
                     "r"(area), "a"((uint32_t)XSAVEC_PROBE_RFBM), "d"(0)
                     : "memory");
    if (xsavec_image_ok(area))
        return;
    if (!xsavec_faulty)
        pr_warn("fpu: this CPU's XSAVEC writes the AVX state at the wrong offset (compacted "
                "format): XSAVEC is not shown to guests");
    xsavec_faulty = true;
}
