#include "arch/x86_64/pic.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

#define ICW1_ICW4 0x01
#define ICW1_INIT 0x10
#define ICW4_8086 0x01

void pic_remap_and_mask(void)
{
    /* The BIOS leaves the master on vectors 8-15, which are exceptions. */
    outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
    io_delay();
    outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
    io_delay();
    outb(PIC1_DATA, VEC_PIC_BASE); /* ICW2: vector offset */
    io_delay();
    outb(PIC2_DATA, VEC_PIC_BASE + 8);
    io_delay();
    outb(PIC1_DATA, 1 << 2); /* ICW3: slave on IR2 */
    io_delay();
    outb(PIC2_DATA, 2); /* ICW3: cascade identity */
    io_delay();
    outb(PIC1_DATA, ICW4_8086);
    io_delay();
    outb(PIC2_DATA, ICW4_8086);
    io_delay();
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}
