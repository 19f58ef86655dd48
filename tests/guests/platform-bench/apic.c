/* The local APIC as platform-bench drives it (pbench.h): x2APIC MSRs by
 * default, or with apic=xapic the xAPIC MMIO page at IA32_APIC_BASE (the
 * registers at the same offsets: MSR 0x800 + offset / 16). */
#include "tests/guests/platform-bench/pbench.h"

#define MSR_APIC_BASE 0x1b
#define APIC_ICR_HI   0x310

bool pbench_xapic;
static volatile uint8_t *apic_page = (volatile uint8_t *)(uintptr_t)0xfee00000u;

void pbench_apic_mode_from_cmdline(void)
{
    char mode[8] = "x2apic";
    cmdline_get("apic", mode, sizeof(mode));
    pbench_xapic = !strcmp(mode, "xapic");
}

void pbench_apic_set_page(uint32_t base)
{
    apic_page = (volatile uint8_t *)(uintptr_t)base;
}

uint32_t pbench_apic_read(unsigned off)
{
    if (pbench_xapic)
        return *(volatile uint32_t *)(apic_page + off);
    return (uint32_t)rdmsr(0x800 + off / 16);
}

void pbench_apic_write(unsigned off, uint32_t val)
{
    if (pbench_xapic)
        *(volatile uint32_t *)(apic_page + off) = val;
    else
        wrmsr(0x800 + off / 16, val);
}

void pbench_apic_eoi(void)
{
    pbench_apic_write(APIC_EOI, 0);
}

void pbench_apic_self_ipi(uint32_t icr_lo)
{
    if (pbench_xapic) {
        pbench_apic_write(APIC_ICR_HI, 0);
        pbench_apic_write(APIC_ICR, icr_lo);
    } else {
        wrmsr(0x830, icr_lo); /* x2APIC: one 64-bit ICR */
    }
}

uint32_t pbench_apic_id(void)
{
    uint32_t id = pbench_apic_read(APIC_ID);
    return pbench_xapic ? id >> 24 : id;
}

/* Enabled (EN), in x2APIC mode unless apic=xapic. */
void pbench_apic_enable(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    uint64_t want = pbench_xapic ? 0x800 : 0xc00;
    if ((base & 0xc00) != want)
        wrmsr(MSR_APIC_BASE, (base & ~0xc00ULL) | want);
    pbench_apic_set_page((uint32_t)base & 0xfffff000u);
}
