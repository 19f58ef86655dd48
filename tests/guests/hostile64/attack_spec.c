/* attack=spec-ctrl: the speculation controls a guest is shown
 * (arch/x86_64/spec_guest.c), and IA32_SPEC_CTRL across VM switches. Two
 * VMs share a CPU, each with its own value (value=N): each checks that the
 * MSR starts at 0 (the reset value, not root mode's or the neighbour's),
 * writes its value, yields, and reads it back, rounds=N times. Its reads
 * reach the MSR itself (they do not exit), so a value read back is the
 * one the CPU ran the guest with. Then the bits it may not set, IBPB and
 * the L1D flush (write-only), IA32_ARCH_CAPABILITIES (read-only). Without
 * IBRS/IBPB in CPUID.7.0:EDX it checks that the MSRs fault, as on a CPU
 * without them. hold=1 keeps it running with its value afterwards. */
#include "tests/guests/hostile64/hostile64.h"

#define MSR_SPEC_CTRL 0x48u
#define MSR_PRED_CMD  0x49u
#define MSR_ARCH_CAPS 0x10au
#define MSR_FLUSH_CMD 0x10bu

#define EDX_IBRS_IBPB (1u << 26)
#define EDX_STIBP     (1u << 27)
#define EDX_L1D_FLUSH (1u << 28)
#define EDX_ARCH_CAPS (1u << 29)
#define EDX_SSBD      (1u << 31)

/* RDMSR/WRMSR that may fault: the vector, or -1 (TRY64 needs RCX). */
static int try_rdmsr(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    trap_last_vector = -1;
    __asm__ volatile("leaq 1f(%%rip), %%r11\n\tmovq %%r11, %[resume]\n\trdmsr\n"
                     "1:\tmovq $0, %[resume]"
                     : [resume] "=m"(trap_resume_rip), "+a"(lo), "+d"(hi)
                     : "c"(msr)
                     : "memory", "r11");
    *val = lo | (uint64_t)hi << 32;
    return trap_last_vector;
}

static int try_wrmsr(uint32_t msr, uint64_t val)
{
    trap_last_vector = -1;
    __asm__ volatile("leaq 1f(%%rip), %%r11\n\tmovq %%r11, %[resume]\n\twrmsr\n"
                     "1:\tmovq $0, %[resume]"
                     : [resume] "=m"(trap_resume_rip)
                     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "memory", "r11");
    return trap_last_vector;
}

static void expect_gp(const char *what, int vec)
{
    if (vec != VEC_GP)
        breach("%s: exception %d, not #GP", what, vec);
}

static void not_offered(void)
{
    uint64_t v;
    printf("hostile: spec-ctrl: no IBRS/IBPB in CPUID.7.0:EDX\n");
    expect_gp("RDMSR IA32_SPEC_CTRL without the feature", try_rdmsr(MSR_SPEC_CTRL, &v));
    expect_gp("WRMSR IA32_SPEC_CTRL without the feature", try_wrmsr(MSR_SPEC_CTRL, 1));
    expect_gp("WRMSR IA32_PRED_CMD without the feature", try_wrmsr(MSR_PRED_CMD, 1));
}

void attack_spec_ctrl(void)
{
    uint32_t a, b, c, d;
    cpuid(7, 0, &a, &b, &c, &d);
    printf("hostile: spec-ctrl: CPUID.7.0:EDX 0x%x\n", d);
    if (!(d & EDX_IBRS_IBPB)) {
        not_offered();
        return;
    }
    uint64_t allowed = 1 | (d & EDX_STIBP ? 2 : 0) | (d & EDX_SSBD ? 4 : 0);
    uint64_t value = cmdline_get_u32("value", 1) & allowed;
    uint32_t rounds = cmdline_get_u32("rounds", 200);
    uint64_t v = ~0ull;
    hc_yield(); /* let the neighbour write its value first */
    int vec = try_rdmsr(MSR_SPEC_CTRL, &v);
    if (vec >= 0 || v != 0)
        breach("IA32_SPEC_CTRL reads 0x%llx at start (exception %d), not 0", (unsigned long long)v,
               vec);
    for (uint32_t round = 1; round <= rounds; round++) {
        uint64_t want = round & 1 ? value : 0; /* two values of our own */
        if ((vec = try_wrmsr(MSR_SPEC_CTRL, want)) >= 0) {
            breach("WRMSR IA32_SPEC_CTRL <- 0x%llx: exception %d", (unsigned long long)want, vec);
            return;
        }
        hc_yield();
        try_rdmsr(MSR_SPEC_CTRL, &v);
        if (v != want) {
            breach("IA32_SPEC_CTRL reads 0x%llx after a yield, wrote 0x%llx (round %u)",
                   (unsigned long long)v, (unsigned long long)want, round);
            return;
        }
    }
    try_wrmsr(MSR_SPEC_CTRL, value);
    /* Bits it was not shown: bit 3 is reserved everywhere, 63 too. */
    expect_gp("WRMSR IA32_SPEC_CTRL reserved bit 3", try_wrmsr(MSR_SPEC_CTRL, value | 8));
    expect_gp("WRMSR IA32_SPEC_CTRL bit 63", try_wrmsr(MSR_SPEC_CTRL, value | (1ull << 63)));
    try_rdmsr(MSR_SPEC_CTRL, &v);
    if (v != value)
        breach("a refused write changed IA32_SPEC_CTRL to 0x%llx", (unsigned long long)v);
    /* IBPB: a command, write-only. */
    if ((vec = try_wrmsr(MSR_PRED_CMD, 1)) >= 0)
        breach("WRMSR IA32_PRED_CMD <- 1 (IBPB): exception %d", vec);
    expect_gp("WRMSR IA32_PRED_CMD reserved bit", try_wrmsr(MSR_PRED_CMD, 2));
    expect_gp("RDMSR IA32_PRED_CMD", try_rdmsr(MSR_PRED_CMD, &v));
    if (d & EDX_L1D_FLUSH) {
        if ((vec = try_wrmsr(MSR_FLUSH_CMD, 1)) >= 0)
            breach("WRMSR IA32_FLUSH_CMD <- 1: exception %d", vec);
        expect_gp("WRMSR IA32_FLUSH_CMD reserved bit", try_wrmsr(MSR_FLUSH_CMD, 2));
        expect_gp("RDMSR IA32_FLUSH_CMD", try_rdmsr(MSR_FLUSH_CMD, &v));
    }
    if (d & EDX_ARCH_CAPS) {
        if ((vec = try_rdmsr(MSR_ARCH_CAPS, &v)) >= 0)
            breach("RDMSR IA32_ARCH_CAPABILITIES: exception %d", vec);
        else
            printf("hostile: spec-ctrl: IA32_ARCH_CAPABILITIES 0x%llx\n", (unsigned long long)v);
        expect_gp("WRMSR IA32_ARCH_CAPABILITIES", try_wrmsr(MSR_ARCH_CAPS, v));
    }
    printf("hostile: spec-ctrl 0x%llx kept over %u yields\n", (unsigned long long)value, rounds);
    /* hold=1: keep running with the value (exits and all), for the
     * console's look at root mode's IA32_SPEC_CTRL on this CPU. */
    if (cmdline_get_u32("hold", 0))
        for (;;)
            hc_yield();
}
