#include "arch/x86_64/gdt.h"

#include "lib/string.h"

/* Reloads CS through a far return; data segments get the flat selector. */
static void reload_segments(void)
{
    __asm__ volatile("pushq %0\n"
                     "leaq 1f(%%rip), %%rax\n"
                     "pushq %%rax\n"
                     "lretq\n"
                     "1:\n"
                     "movw %w1, %%ax\n"
                     "movw %%ax, %%ds\n"
                     "movw %%ax, %%es\n"
                     "movw %%ax, %%ss\n"
                     :
                     : "i"(KERNEL_CS), "i"(KERNEL_DS)
                     : "rax", "memory");
}

void gdt_load(uint64_t *gdt, struct tss64 *tss)
{
    uint64_t base = (uint64_t)tss;
    uint64_t limit = sizeof(*tss) - 1;

    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code, DPL 0 */
    gdt[2] = 0x00cf92000000ffffULL; /* data, DPL 0 */
    /* Available 64-bit TSS (type 9), present. */
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[4] = base >> 32;

    struct descriptor_ptr p = {GDT_ENTRIES * 8 - 1, (uint64_t)gdt};
    __asm__ volatile("lgdt %0" ::"m"(p) : "memory");
    reload_segments();
    __asm__ volatile("ltr %w0" ::"r"((uint16_t)KERNEL_TSS) : "memory");
}
