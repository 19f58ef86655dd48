#ifndef ARCH_X86_64_GDT_H
#define ARCH_X86_64_GDT_H

#include <stdint.h>

/* Selectors match the boot GDT in boot/entry.asm and the AP trampoline. */
#define KERNEL_CS   0x08
#define KERNEL_DS   0x10
#define KERNEL_TSS  0x18
#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[8]; /* ist[0] unused: IST indices are 1..7 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct descriptor_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

void gdt_load(uint64_t *gdt, struct tss64 *tss);

#endif
