/* The interrupt stub of pcitest (vector 0x40). */
    .text
    .globl pcitest_isr
pcitest_isr:
    pushal
    cld
    call pcitest_irq
    popal
    iret
