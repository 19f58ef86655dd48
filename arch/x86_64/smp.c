#include "arch/x86_64/smp.h"

#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h"
#include "drivers/acpi.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"

#define TRAMPOLINE_LIMIT  0x100000ULL /* SIPI vectors address the first MiB */
#define INIT_DELAY_US     10000
#define SIPI_DELAY_US     200
#define AP_ONLINE_TIMEOUT 100000000ULL /* ns */

/* Read by the trampoline (offsets in trampoline.asm). */
struct ap_boot {
    uint64_t stack;
    uint64_t pc;
    uint64_t entry;
    uint32_t started;
};
_Static_assert(offsetof(struct ap_boot, entry) == 16 && offsetof(struct ap_boot, started) == 24,
               "struct ap_boot layout is shared with trampoline.asm");

/* At offset 8 of the trampoline; see trampoline.asm. */
struct trampoline_hdr {
    uint16_t gdtr_limit;
    uint32_t gdtr_base;
    uint16_t pad0;
    uint32_t ljmp32_off;
    uint16_t ljmp32_sel, pad1;
    uint32_t ljmp64_off;
    uint16_t ljmp64_sel, pad2;
    uint32_t cr3;
    uint32_t efer;
    uint64_t boot;
} __attribute__((packed));
_Static_assert(sizeof(struct trampoline_hdr) == 40, "trampoline header layout");
#define TRAMPOLINE_HDR_OFFSET 8

extern const char trampoline_start[], trampoline_end[];

void (*ap_idle_hook)(void);
static volatile struct ap_boot ap_boot;

static __attribute__((noreturn)) void ap_main(struct percpu *pc)
{
    percpu_init_cpu(pc);
    paging_init_ap();
    lapic_init_cpu(false);
    timer_init_cpu();
    uint32_t id = lapic_id();
    if (id != pc->apic_id)
        pr_warn("cpu %u: MADT apic id %u but the LAPIC says %u", pc->cpu_id, pc->apic_id, id);
    pr_info("cpu %u: online (apic id %u)", pc->cpu_id, id);
    __atomic_store_n(&pc->online, true, __ATOMIC_RELEASE);
    for (;;) {
        irq_disable();
        if (ap_idle_hook)
            ap_idle_hook();
        irq_enable_and_halt();
    }
}

static bool wait_flag(volatile uint32_t *flag, volatile bool *online, uint64_t ns)
{
    uint64_t end = rdtsc() + ns_to_tsc(ns);
    while (rdtsc() < end) {
        if ((flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE)) ||
            (online && __atomic_load_n(online, __ATOMIC_ACQUIRE)))
            return true;
        cpu_relax();
    }
    return false;
}

static bool start_ap(uint32_t apic_id, unsigned cpu_id, uint64_t page)
{
    struct percpu *pc = percpu_alloc(cpu_id, apic_id);
    if (!pc) {
        pr_err("smp: no memory for cpu %u (apic id %u); skipped", cpu_id, apic_id);
        return false;
    }
    ap_boot.stack = pc->stack_top;
    ap_boot.pc = (uint64_t)pc;
    ap_boot.entry = (uint64_t)ap_main;
    __atomic_store_n(&ap_boot.started, 0, __ATOMIC_SEQ_CST);

    uint8_t vector = page >> 12;
    int err = lapic_send_init(apic_id);
    udelay(INIT_DELAY_US);
    err |= lapic_send_sipi(apic_id, vector);
    /* The second SIPI only if the first was lost (SDM's MP protocol). */
    if (!wait_flag(&ap_boot.started, NULL, SIPI_DELAY_US * 1000ULL))
        err |= lapic_send_sipi(apic_id, vector);
    bool up = wait_flag(NULL, &pc->online, AP_ONLINE_TIMEOUT);
    if (up)
        return true;

    bool started = __atomic_load_n(&ap_boot.started, __ATOMIC_ACQUIRE);
    pr_err("smp: cpu %u (apic id %u) %s within 100 ms; skipped", cpu_id, apic_id,
           err       ? "could not be signalled (ICR busy)"
           : started ? "entered long mode but did not finish init"
                     : "did not answer INIT-SIPI-SIPI");
    /* Park it back in wait-for-SIPI so it cannot run later on memory that
     * is reused. Its stacks are leaked deliberately for the same reason. */
    lapic_send_init(apic_id);
    udelay(INIT_DELAY_US);
    cpus[cpu_id] = NULL;
    return false;
}

static bool apic_id_taken(uint32_t apic_id, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (cpus[i] && cpus[i]->apic_id == apic_id)
            return true;
    return false;
}

static uint64_t install_trampoline(void)
{
    uint64_t size = (uint64_t)(trampoline_end - trampoline_start);
    uint64_t cr3 = paging_root();
    if (size > PAGE_SIZE || !cr3 || cr3 >= (1ULL << 32)) {
        pr_err("smp: trampoline size %llu or CR3 0x%llx unusable; APs stay off",
               (unsigned long long)size, (unsigned long long)cr3);
        return 0;
    }
    uint64_t page = pmm_alloc_below(TRAMPOLINE_LIMIT, 1, "ap trampoline");
    if (!page || page >= TRAMPOLINE_LIMIT || (page & (PAGE_SIZE - 1))) {
        pr_err("smp: no page below 1 MiB for the AP trampoline; APs stay off");
        return 0;
    }
    /* Written while writable, then executable: never both at once. */
    if (paging_set(page, PAGE_SIZE, PG_W)) {
        pr_err("smp: cannot map the trampoline page 0x%llx", (unsigned long long)page);
        return 0;
    }
    memset((void *)page, 0, PAGE_SIZE);
    memcpy((void *)page, trampoline_start, size);
    struct trampoline_hdr *h = (struct trampoline_hdr *)(page + TRAMPOLINE_HDR_OFFSET);
    h->gdtr_base += (uint32_t)page;
    h->ljmp32_off += (uint32_t)page;
    h->ljmp64_off += (uint32_t)page;
    h->cr3 = (uint32_t)cr3;
    h->efer = EFER_LME | (paging_has_nx() ? EFER_NXE : 0);
    h->boot = (uint64_t)&ap_boot;
    if (paging_set(page, PAGE_SIZE, PG_X)) {
        pr_err("smp: cannot make the trampoline executable");
        return 0;
    }
    return page;
}

void smp_start_aps(void)
{
    struct percpu *bsp = this_cpu();
    unsigned n = nr_cpus ? nr_cpus : 1;

    if (!acpi.has_madt || acpi.nr_cpus <= 1) {
        nr_cpus = n;
        pr_info("smp: %s; running on the boot CPU only",
                acpi.has_madt ? "the MADT lists one CPU" : "no MADT");
        return;
    }
    uint64_t page = install_trampoline();
    if (!page) {
        nr_cpus = n;
        return;
    }
    unsigned listed = 0;
    bool bsp_seen = false;
    for (unsigned i = 0; i < acpi.nr_cpus && i < ACPI_MAX_CPUS; i++) {
        const struct acpi_cpu *c = &acpi.cpus[i];
        if (!c->enabled)
            continue;
        bool is_bsp = c->apic_id == bsp->apic_id;
        if ((is_bsp && bsp_seen) || (!is_bsp && apic_id_taken(c->apic_id, n))) {
            pr_warn("smp: MADT lists apic id %u twice; ignoring the repeat", c->apic_id);
            continue;
        }
        listed++;
        if (is_bsp) {
            bsp_seen = true;
            continue;
        }
        if (n >= MAX_CPUS) {
            pr_warn("smp: more than %d CPUs; the rest stay off", MAX_CPUS);
            break;
        }
        if (c->apic_id > 0xff && !lapic_is_x2apic()) {
            pr_warn("smp: apic id %u needs x2APIC mode; skipped", c->apic_id);
            continue;
        }
        if (start_ap(c->apic_id, n, page))
            n++;
    }
    /* Nothing runs there any more: back to read-only, non-executable. */
    paging_set(page, PAGE_SIZE, 0);
    nr_cpus = n;
    pr_info("smp: %u of %u CPUs online", n, listed);
}
