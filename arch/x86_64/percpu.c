#include "arch/x86_64/percpu.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "lib/string.h"
#include "mm/pmm.h"

struct percpu *cpus[MAX_CPUS];
unsigned nr_cpus;

/* The boot CPU's IST stacks, each above an unmapped guard page. The main
 * stack and its guard are in boot/entry.asm. */
struct boot_ist {
    uint8_t guard[PAGE_SIZE];
    uint8_t stack[IST_STACK_SIZE];
};
static struct boot_ist boot_ist[3] __attribute__((section(".bss.stack"), aligned(4096)));
static struct percpu boot_cpu;
extern char bsp_stack_guard[], bsp_stack_top[];

struct percpu *percpu_boot_cpu(void)
{
    if (!boot_cpu.self) {
        boot_cpu.self = &boot_cpu;
        boot_cpu.stack_base = (uint64_t)bsp_stack_guard + PAGE_SIZE;
        boot_cpu.stack_top = (uint64_t)bsp_stack_top;
        for (int i = 0; i < 3; i++)
            boot_cpu.ist_base[i + 1] = (uint64_t)boot_ist[i].stack;
        cpus[0] = &boot_cpu;
    }
    return &boot_cpu;
}

/* Guards go in once paging is ours (the boot tables use 2 MiB pages). */
void percpu_guard_boot_stacks(void)
{
    for (int i = 0; i < 3; i++)
        paging_unmap((uint64_t)boot_ist[i].guard, PAGE_SIZE);
}

void percpu_init_cpu(struct percpu *pc)
{
    memset(&pc->tss, 0, sizeof(pc->tss));
    for (int i = 1; i < 4; i++)
        pc->tss.ist[i] = pc->ist_base[i] + IST_STACK_SIZE;
    pc->tss.iomap_base = sizeof(pc->tss); /* no I/O bitmap: ring 3 never runs here */
    gdt_load(pc->gdt, &pc->tss);
    wrmsr(MSR_IA32_GS_BASE, (uint64_t)pc);
    wrmsr(MSR_IA32_KERNEL_GS_BASE, 0);
    idt_load();
}

struct percpu *percpu_alloc(unsigned cpu_id, uint32_t apic_id)
{
    /* guard, main stack, then guard + stack for each IST. */
    const uint64_t main_pages = CPU_STACK_SIZE / PAGE_SIZE;
    const uint64_t ist_pages = IST_STACK_SIZE / PAGE_SIZE;
    const uint64_t total = 1 + main_pages + 3 * (1 + ist_pages);
    const uint64_t pc_pages = (sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE;

    if (cpu_id >= MAX_CPUS)
        return NULL;
    uint64_t stacks = pmm_alloc(total, 1, "cpu stacks");
    uint64_t block = pmm_alloc(pc_pages, 1, "per-cpu data");
    if (!stacks || !block) {
        if (stacks)
            pmm_free(stacks, total);
        if (block)
            pmm_free(block, pc_pages);
        return NULL;
    }
    struct percpu *pc = (struct percpu *)block;
    memset(pc, 0, sizeof(*pc));
    pc->self = pc;
    pc->cpu_id = cpu_id;
    pc->apic_id = apic_id;
    uint64_t p = stacks;
    paging_unmap(p, PAGE_SIZE);
    pc->stack_base = p + PAGE_SIZE;
    pc->stack_top = pc->stack_base + CPU_STACK_SIZE;
    p = pc->stack_top;
    for (int i = 1; i < 4; i++) {
        paging_unmap(p, PAGE_SIZE);
        pc->ist_base[i] = p + PAGE_SIZE;
        p = pc->ist_base[i] + IST_STACK_SIZE;
    }
    cpus[cpu_id] = pc;
    return pc;
}
