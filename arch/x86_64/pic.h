/* The legacy 8259 pair: remapped off the exception vectors and masked. */
#ifndef ARCH_X86_64_PIC_H
#define ARCH_X86_64_PIC_H

/* Moves the master to VEC_PIC_BASE and the slave to VEC_PIC_BASE + 8, then
 * masks every line: interrupts come through the IOAPIC. */
void pic_remap_and_mask(void);

#endif
