/* 16550 UART: the hypervisor's serial console (port I/O or MMIO). */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uart_config {
    bool mmio;
    uint64_t base;      /* I/O port or physical address */
    unsigned reg_shift; /* MMIO register stride: 1 << reg_shift bytes */
    unsigned baud;
    unsigned irq; /* ISA IRQ for port UARTs (4 for COM1, 3 for COM2) */
};

/* Parses the `console=` value: com1, com2, 0xNNN (port), mmio,0xADDR
 * (optionally mmio32,0xADDR for 4-byte register stride), with an optional
 * ",BAUD" suffix. Returns 0 or -1 (cfg untouched). */
int uart_parse_console(const char *s, size_t len, struct uart_config *cfg);

void uart_init(const struct uart_config *cfg);
bool uart_present(void);
void uart_putc(char c);
/* Writes and waits for the transmitter (translates \n to \r\n), after
 * what was queued before. */
void uart_write(const char *s, size_t n);
/* The same, but only after the rest of the queued line the transmitter has
 * begun: the other queued lines stay queued (a log line from an exit
 * handler waits for one line, not for the whole queue). */
void uart_write_between_lines(const char *s, size_t n);
/* Queues the bytes without waiting: the UART's interrupt (uart_rx_interrupt)
 * feeds them to the transmitter while the CPU does other work. All or
 * nothing: false when the transmit interrupt is not wired, interrupts are
 * off, another CPU is writing, or the queue lacks room (the caller then
 * writes with uart_write, which keeps the order). */
bool uart_write_queued(const char *s, size_t n);
/* Free bytes in the queue (each \n takes two); 0 when queueing is off. */
size_t uart_tx_room(void);
/* Queued bytes still waiting for the transmitter. */
size_t uart_tx_queued(void);
bool uart_tx_queue_enabled(void);
/* Feeds queued bytes to the transmitter if it is empty, without waiting. */
void uart_tx_pump(void);
/* Non-blocking read of one received byte: -1 when none. */
int uart_getc(void);
/* Switches receive to interrupt-driven: bytes land in a ring the console
 * reads. The same interrupt then empties the transmit queue. */
void uart_enable_rx_interrupt(void);
/* The interrupt handler's work: moves received bytes into the ring and
 * feeds queued bytes to the transmitter. */
void uart_rx_interrupt(void);
const struct uart_config *uart_get_config(void);
/* Whether receive is interrupt-driven (uart_enable_rx_interrupt worked). */
bool uart_rx_interrupt_enabled(void);
/* How long the receive FIFO takes to fill at the line's speed (us): input
 * must be drained at least this often or bytes are lost. */
unsigned uart_rx_fifo_fill_us(void);
/* Received bytes lost so far: FIFO overruns (counted once per overrun seen)
 * and bytes dropped because the ring was full. */
unsigned long long uart_rx_lost(void);
/* Before a reset: lets the transmitter empty, then puts the UART back in
 * its power-on state (FIFOs and interrupts off) for the firmware. */
void uart_reset_for_firmware(void);

#endif
