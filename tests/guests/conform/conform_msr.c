/* MSRs and CPUID bits the virtual CPU defines: IA32_MISC_ENABLE keeps the
 * bits a guest may write, CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN, and
 * IA32_TSC_ADJUST is present (CPUID.7.0:EBX[1]) and coupled with the TSC
 * both ways (SDM vol. 3 17.17.3), the TSC-deadline timer counting the
 * moved TSC. */
#include "tests/guests/conform/conform.h"

#define MSR_TSC          0x10u
#define MSR_APIC_BASE    0x1bu
#define MSR_TSC_ADJUST   0x3bu
#define MSR_MISC_ENABLE  0x1a0u
#define MSR_TSC_DEADLINE 0x6e0u
#define APIC_BASE_EN     (1ull << 11)
/* The bits docs/test-guests.md lists as writable: fast strings, automatic
 * thermal control, xTPR message disable. */
#define MISC_WRITABLE ((1ull << 0) | (1ull << 3) | (1ull << 23))

#define LAPIC_BASE      0xfee00000u
#define LAPIC_SVR       0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_IRR2      0x220 /* vectors 64-95 */
#define TIMER_VECTOR    0x40

static volatile uint32_t *lapic(unsigned off)
{
    return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + off);
}

static uint32_t cpuid_reg(uint32_t leaf, unsigned reg)
{
    uint32_t r[4];
    cpuid(leaf, 0, &r[0], &r[1], &r[2], &r[3]);
    return r[reg];
}

static void check_misc_enable(void)
{
    uint64_t v0 = 0, v;
    if (try_rdmsr(MSR_MISC_ENABLE, &v0) >= 0) {
        fail("misc_enable_keeps_writable_bits", "RDMSR 0x1a0 faulted");
        return;
    }
    bool ok = true;
    uint64_t patterns[2] = {v0 & ~MISC_WRITABLE, v0 | MISC_WRITABLE};
    for (unsigned i = 0; i < 2 && ok; i++) {
        int vec = try_wrmsr(MSR_MISC_ENABLE, patterns[i]);
        try_rdmsr(MSR_MISC_ENABLE, &v);
        if (vec >= 0 || v != patterns[i]) {
            fail("misc_enable_keeps_writable_bits", "wrote 0x%llx (exception %d), read 0x%llx",
                 (unsigned long long)patterns[i], vec, (unsigned long long)v);
            ok = false;
        }
    }
    if (ok)
        pass("misc_enable_keeps_writable_bits");
    expect_vector("misc_enable_reserved_bit_gp", try_wrmsr(MSR_MISC_ENABLE, v0 | (1ull << 63)),
                  VEC_GP);
    try_wrmsr(MSR_MISC_ENABLE, v0);
}

static void check_apic_cpuid(void)
{
    uint64_t base = rdmsr64(MSR_APIC_BASE);
    bool on_before = cpuid_reg(1, 3) & (1u << 9);
    int vec = try_wrmsr(MSR_APIC_BASE, base & ~APIC_BASE_EN);
    bool off = cpuid_reg(1, 3) & (1u << 9);
    int vec2 = try_wrmsr(MSR_APIC_BASE, base);
    bool on_after = cpuid_reg(1, 3) & (1u << 9);
    if (!(base & APIC_BASE_EN) || !on_before || vec >= 0 || vec2 >= 0)
        fail("cpuid_apic_follows_apic_base", "base 0x%llx, CPUID APIC %d, writes gave %d and %d",
             (unsigned long long)base, on_before, vec, vec2);
    else if (off || !on_after)
        fail("cpuid_apic_follows_apic_base", "CPUID.1:EDX.APIC %d with EN = 0, %d with EN = 1", off,
             on_after);
    else
        pass("cpuid_apic_follows_apic_base");
}

static uint64_t abs_diff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

/* The TSC-deadline timer fires for a deadline 20 million cycles after the
 * (moved) TSC: the vLAPIC counts the same TSC the guest reads. */
static bool deadline_fires(void)
{
    *lapic(LAPIC_SVR) = 0x1ff;
    *lapic(LAPIC_LVT_TIMER) = TIMER_VECTOR | (2u << 17);
    try_wrmsr(MSR_TSC_DEADLINE, rdtsc() + 20000000);
    uint64_t start = rdtsc();
    while (rdtsc() - start < 400000000ull)
        if (*lapic(LAPIC_IRR2) & (1u << (TIMER_VECTOR - 64)))
            return true;
    return false;
}

static void check_tsc_adjust(void)
{
    const uint64_t step = 1ull << 40, slack = 50000000; /* exits take cycles too */
    if (!(cpuid_reg(7, 1) & (1u << 1))) {
        fail("tsc_adjust_in_cpuid", "CPUID.7.0:EBX[1] is 0");
        return;
    }
    pass("tsc_adjust_in_cpuid");
    uint64_t adj0 = 0;
    if (try_rdmsr(MSR_TSC_ADJUST, &adj0) >= 0) {
        fail("tsc_adjust_write_moves_tsc", "RDMSR IA32_TSC_ADJUST faulted");
        return;
    }
    uint64_t t0 = rdtsc();
    int vec = try_wrmsr(MSR_TSC_ADJUST, adj0 + step);
    uint64_t t1 = rdtsc(), adj1 = 0;
    try_rdmsr(MSR_TSC_ADJUST, &adj1);
    if (vec >= 0 || adj1 != adj0 + step || t1 - t0 < step || t1 - t0 > step + slack)
        fail("tsc_adjust_write_moves_tsc",
             "exception %d, TSC moved by 0x%llx, TSC_ADJUST 0x%llx -> 0x%llx", vec,
             (unsigned long long)(t1 - t0), (unsigned long long)adj0, (unsigned long long)adj1);
    else
        pass("tsc_adjust_write_moves_tsc");
    if (deadline_fires())
        pass("tsc_adjust_moves_deadline_timer");
    else
        fail("tsc_adjust_moves_deadline_timer", "the TSC-deadline timer did not fire");

    /* WRMSR IA32_TSC changes TSC_ADJUST by the same amount. */
    uint64_t before = rdtsc();
    vec = try_wrmsr(MSR_TSC, before + step);
    uint64_t adj2 = 0;
    try_rdmsr(MSR_TSC_ADJUST, &adj2);
    if (vec >= 0 || abs_diff(adj2 - adj1, step) > slack)
        fail("tsc_write_moves_tsc_adjust", "exception %d, TSC_ADJUST 0x%llx -> 0x%llx", vec,
             (unsigned long long)adj1, (unsigned long long)adj2);
    else
        pass("tsc_write_moves_tsc_adjust");
}

static uint32_t mmio_read32(uint64_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}

/* Moving IA32_APIC_BASE moves the xAPIC window (SDM vol. 3 10.4.5): the
 * version register answers at the new page and no longer at the old one
 * (absent hardware there: all ones); a page holding RAM or another device
 * is refused with #GP. Last: a hypervisor that leaves the window behind
 * ends the VM at the first read of the new page. */
void check_apic_window(void)
{
    const uint64_t moved = 0xfed00000u;
    uint64_t base = rdmsr64(MSR_APIC_BASE), flags = base & 0xfff;
    expect_vector("apic_base_over_ram_gp", try_wrmsr(MSR_APIC_BASE, flags | 0x200000), VEC_GP);
    expect_vector("apic_base_over_ioapic_gp", try_wrmsr(MSR_APIC_BASE, flags | 0xfec00000u),
                  VEC_GP);
    int vec = try_wrmsr(MSR_APIC_BASE, flags | moved);
    if (vec >= 0) {
        fail("apic_base_moves_window", "moving the base to 0x%llx gave exception %d",
             (unsigned long long)moved, vec);
        return;
    }
    uint32_t ver_new = mmio_read32(moved + 0x30), ver_old = mmio_read32(LAPIC_BASE + 0x30);
    vec = try_wrmsr(MSR_APIC_BASE, base);
    uint32_t ver_back = mmio_read32(LAPIC_BASE + 0x30);
    if (vec >= 0 || (ver_new & 0xff) < 0x10 || (ver_new & 0xff) > 0x15 || ver_old != 0xffffffffu ||
        ver_back != ver_new)
        fail("apic_base_moves_window",
             "version 0x%x at the new base, 0x%x at the old one, 0x%x after moving back "
             "(exception %d)",
             ver_new, ver_old, ver_back, vec);
    else
        pass("apic_base_moves_window");
}

void check_msr(void)
{
    check_misc_enable();
    check_apic_cpuid();
    check_tsc_adjust();
}
