/* A 16550 UART model for one VM: transmit with line status, a receive
 * FIFO for the console's attach, the registers drivers probe. One lock
 * per vUART guards all of it: the VM's vCPUs, the console (input, attach)
 * and the stop path (flush) may touch it at once. Lock order: the
 * platform lock, then a vUART's; the output callbacks run under the
 * vUART's lock and must not come back into it. */
#ifndef VDEV_VUART_H
#define VDEV_VUART_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/spinlock.h"

#define VUART_LINE_MAX 240
#define VUART_RX_FIFO  16

struct vm;

struct vuart {
    uint16_t base;
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thre_pending; /* THR-empty interrupt condition */
    uint8_t rx[VUART_RX_FIFO];
    unsigned rx_head, rx_count;
    spinlock_t lock;
    char line[VUART_LINE_MAX + 1];
    unsigned line_len; /* < VUART_LINE_MAX outside the lock */
    /* Where complete lines go: (ctx, line, len). */
    void (*output)(void *ctx, const char *line, unsigned len);
    void *ctx;
    /* While set (console attached), bytes go out at once, unbuffered. */
    volatile bool raw;
    void (*raw_output)(void *ctx, const char *bytes, unsigned len);
};

void vuart_init(struct vuart *u, uint16_t base, void (*output)(void *, const char *, unsigned),
                void *ctx);
/* One register access; offset 0-7 from the base, one byte. */
uint8_t vuart_read(struct vuart *u, unsigned offset);
void vuart_write(struct vuart *u, unsigned offset, uint8_t val);
/* Console input for the guest; false when the FIFO is full. */
bool vuart_push_rx(struct vuart *u, uint8_t byte);
/* Emits a partial line (at VM stop, so nothing is lost). */
void vuart_flush(struct vuart *u);
/* The interrupt line level the model drives (IRQ 4 later). */
bool vuart_irq_pending(struct vuart *u);

#endif
