#include "arch/x86_64/lapic.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "drivers/acpi.h"
#include "lib/log.h"

#define APIC_BASE_BSP  (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_EN   (1ULL << 11)
#define APIC_BASE_ADDR 0x000ffffffffff000ULL

#define X2APIC_ICR_MSR 0x830
/* ICR delivery normally completes in well under a microsecond. */
#define ICR_SPIN_LIMIT 1000000

static volatile uint32_t *xapic;
static bool x2apic;
static bool tsc_deadline;
static volatile uint64_t apic_errors;

bool lapic_is_x2apic(void)
{
    return x2apic;
}

bool lapic_has_tsc_deadline(void)
{
    return tsc_deadline;
}

uint32_t lapic_read(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
    return xapic[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t val)
{
    if (x2apic)
        wrmsr(MSR_X2APIC_BASE + (reg >> 4), val);
    else
        xapic[reg / 4] = val;
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

static int xapic_wait_icr(void)
{
    for (int i = 0; i < ICR_SPIN_LIMIT; i++) {
        if (!(xapic[LAPIC_ICR_LO / 4] & ICR_DELIV_STATUS))
            return 0;
        cpu_relax();
    }
    return -1;
}

static int send_icr(uint32_t dest, uint32_t low)
{
    if (x2apic) {
        /* WRMSR to the x2APIC is not serialising: make earlier stores
         * visible before the target runs. */
        __asm__ volatile("mfence" ::: "memory");
        wrmsr(MSR_X2APIC_BASE + (LAPIC_ICR_LO >> 4), ((uint64_t)dest << 32) | low);
        return 0;
    }
    if (dest > 0xff)
        return -1;
    /* The two halves must not be split by an interrupt that sends too. */
    unsigned long flags = irq_save();
    int r = xapic_wait_icr();
    if (!r) {
        xapic[LAPIC_ICR_HI / 4] = dest << 24;
        xapic[LAPIC_ICR_LO / 4] = low;
        r = xapic_wait_icr();
    }
    irq_restore(flags);
    return r;
}

int lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    return send_icr(apic_id, ICR_DM_FIXED | ICR_LEVEL_ASSERT | vector);
}

int lapic_send_nmi(uint32_t apic_id)
{
    return send_icr(apic_id, ICR_DM_NMI | ICR_LEVEL_ASSERT);
}

int lapic_send_init(uint32_t apic_id)
{
    /* No INIT level de-assert: ignored since the Pentium 4, refused in x2APIC mode. */
    return send_icr(apic_id, ICR_DM_INIT | ICR_LEVEL_ASSERT);
}

int lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
    return send_icr(apic_id, ICR_DM_STARTUP | ICR_LEVEL_ASSERT | page);
}

int lapic_broadcast_nmi_others(void)
{
    return send_icr(0, ICR_DM_NMI | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF);
}

static void lapic_error_irq(struct irq_frame *f, void *arg)
{
    /* ESR latches on a write; read it back afterwards. */
    lapic_write(LAPIC_ESR, 0);
    uint32_t esr = lapic_read(LAPIC_ESR);
    uint64_t n = __atomic_add_fetch(&apic_errors, 1, __ATOMIC_RELAXED);
    if (n <= 10 || n % 1000 == 0)
        pr_warn("lapic: error interrupt on apic id %u: esr 0x%x (%llu so far)", lapic_id(), esr,
                (unsigned long long)n);
}

void lapic_init_cpu(bool bsp)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    /* Never clear EN: some LAPICs (Bochs) cannot be re-enabled afterwards. */
    if (!(base & APIC_BASE_EN)) {
        base |= APIC_BASE_EN;
        wrmsr(MSR_IA32_APIC_BASE, base);
    }
    if (x2apic && !(base & APIC_BASE_EXTD))
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);

    uint32_t maxlvt = (lapic_read(LAPIC_VERSION) >> 16) & 0xff;
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TMR, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED); /* ExtINT from the masked 8259 */
    lapic_write(LAPIC_LVT_LINT1, bsp ? ICR_DM_NMI : LAPIC_LVT_MASKED);
    if (maxlvt >= 4)
        lapic_write(LAPIC_LVT_PMC, LAPIC_LVT_MASKED);
    if (maxlvt >= 5)
        lapic_write(LAPIC_LVT_THM, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_ERR, VEC_APIC_ERROR);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
    /* Drop anything the firmware left in service. */
    lapic_eoi();
}

int lapic_init(void)
{
    struct cpuid_regs r = cpuid(1);
    if (!(r.edx & (1u << 9))) {
        pr_err("lapic: CPUID reports no local APIC");
        return -1;
    }
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    x2apic = (r.ecx & (1u << 21)) || (base & APIC_BASE_EXTD);
    tsc_deadline = r.ecx & (1u << 24);
    if (!x2apic) {
        uint64_t phys = base & APIC_BASE_ADDR;
        /* The MSR is what the hardware decodes; the MADT only reports it. */
        if (acpi.lapic_addr && acpi.lapic_addr != phys)
            pr_warn("lapic: MADT says 0x%llx, IA32_APIC_BASE says 0x%llx; using the MSR",
                    (unsigned long long)acpi.lapic_addr, (unsigned long long)phys);
        if (paging_map_mmio(phys, PAGE_SIZE)) {
            pr_err("lapic: cannot map xAPIC page at 0x%llx", (unsigned long long)phys);
            return -1;
        }
        xapic = (volatile uint32_t *)phys;
    }
    irq_register(VEC_APIC_ERROR, lapic_error_irq, NULL);
    lapic_init_cpu(true);
    irq_eoi_hook = lapic_eoi;
    pr_info("lapic: %s mode, apic id %u, version 0x%x%s", x2apic ? "x2APIC" : "xAPIC", lapic_id(),
            lapic_read(LAPIC_VERSION) & 0xff, tsc_deadline ? ", TSC-deadline timer" : "");
    return 0;
}

void lapic_timer_setup(uint8_t vector, bool deadline_mode)
{
    lapic_write(LAPIC_LVT_TMR, LAPIC_LVT_MASKED | vector);
    lapic_write(LAPIC_TMR_ICR, 0);
    lapic_write(LAPIC_TMR_DCR, LAPIC_DCR_DIV16);
    lapic_write(LAPIC_LVT_TMR, vector | (deadline_mode ? LAPIC_LVT_TSC_DEADLINE : 0));
    /* SDM 10.5.4.1: order the LVT write before the first IA32_TSC_DEADLINE write. */
    if (deadline_mode)
        __asm__ volatile("mfence" ::: "memory");
}

void lapic_timer_oneshot(uint32_t count)
{
    lapic_write(LAPIC_TMR_ICR, count);
}

uint32_t lapic_timer_current(void)
{
    return lapic_read(LAPIC_TMR_CCR);
}

void lapic_timer_deadline(uint64_t tsc)
{
    wrmsr(MSR_IA32_TSC_DEADLINE, tsc);
}
