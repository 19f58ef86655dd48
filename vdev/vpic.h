/* Two cascaded 8259A PICs of one VM: master at 0x20/0x21, slave at
 * 0xA0/0xA1 on master IR2, edge/level control registers (ELCR) at
 * 0x4D0/0x4D1. Pure state machine; the caller serialises access.
 *
 * Edge-triggered inputs latch IRR on a rising edge and keep it until the
 * acknowledge; level-triggered inputs (ICW1 LTIM or the ELCR bit) follow
 * the line, so a request that drops before the acknowledge becomes the
 * spurious vector IR7 (15 on the slave). */
#ifndef VDEV_VPIC_H
#define VDEV_VPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vpic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;        /* input levels as last driven */
    uint8_t elcr;         /* ELCR: 1 = level-triggered */
    uint8_t elcr_mask;    /* ELCR bits that exist */
    uint8_t cascade_in;   /* master IR2: the slave's INT, sampled as a level so a
                           * slave request never waits for a fresh edge */
    uint8_t vector_base;  /* ICW2 & 0xF8 */
    uint8_t priority_add; /* the lowest-priority IR + 1 (rotation) */
    uint8_t init_state;   /* 0 ready, 1 wants ICW2, 2 ICW3, 3 ICW4 */
    uint8_t icw3;
    bool ltim; /* ICW1 bit 3: all inputs level-triggered */
    bool init4, single;
    bool auto_eoi, rotate_on_aeoi;
    bool read_isr; /* OCW3 RR/RIS: which of IRR/ISR port A reads */
    bool poll;     /* OCW3 P: the next read is a poll */
    bool special_mask;
    bool sfnm; /* special fully nested mode (ICW4 bit 4) */
};

struct vpic {
    struct vpic_chip chip[2]; /* 0 master, 1 slave */
};

void vpic_init(struct vpic *p);
/* One byte at port (0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1); false when the
 * port is not the PIC's. */
bool vpic_io(struct vpic *p, uint16_t port, bool in, uint8_t *val);
/* Drive ISA IRQ irq (0-15). IRQ 2 is the cascade input: ignored. */
void vpic_set_irq(struct vpic *p, unsigned irq, bool high);
/* The master's INTR output to the CPU. */
bool vpic_output(const struct vpic *p);
/* Interrupt acknowledge: the vector to deliver (IRR -> ISR unless
 * auto-EOI), the spurious IR7 vector of the chip concerned when no
 * request remains. Call only when vpic_output() was true. */
int vpic_ack(struct vpic *p);

#endif
