/* The UART's transmit queue: bytes written without waiting, fed to the
 * transmitter by its interrupt (drivers/uart16550.c). A byte ring with
 * free-running counters; a write goes in whole or not at all, each \n
 * stored as \r\n as the serial console wants. Pure logic: the caller locks. */
#ifndef DRIVERS_UART_TXQ_H
#define DRIVERS_UART_TXQ_H

#include <stdbool.h>
#include <stddef.h>

/* About 0.36 s of the line at 115200 baud (a power of two: the counters
 * wrap cleanly). */
#define UART_TXQ_SIZE 4096

struct uart_txq {
    char buf[UART_TXQ_SIZE];
    unsigned head, tail; /* bytes ever queued, bytes ever taken */
};

/* Bytes the queue holds, and how many more it takes. */
size_t uart_txq_used(const struct uart_txq *q);
size_t uart_txq_room(const struct uart_txq *q);
/* The bytes s[0..n) occupy once queued (each \n counts two). */
size_t uart_txq_cost(const char *s, size_t n);
/* Queues s[0..n) with \n as \r\n; false (nothing queued) when it does not fit. */
bool uart_txq_put(struct uart_txq *q, const char *s, size_t n);
/* Takes the oldest byte into *c; false when empty. */
bool uart_txq_take(struct uart_txq *q, char *c);

#endif
