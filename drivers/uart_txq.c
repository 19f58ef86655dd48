#include "drivers/uart_txq.h"

size_t uart_txq_used(const struct uart_txq *q)
{
    return q->head - q->tail;
}

size_t uart_txq_room(const struct uart_txq *q)
{
    return UART_TXQ_SIZE - uart_txq_used(q);
}

size_t uart_txq_cost(const char *s, size_t n)
{
    size_t len = n;
    for (size_t i = 0; i < n; i++)
        len += s[i] == '\n';
    return len;
}

bool uart_txq_put(struct uart_txq *q, const char *s, size_t n)
{
    if (uart_txq_cost(s, n) > uart_txq_room(q))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            q->buf[q->head++ % UART_TXQ_SIZE] = '\r';
        q->buf[q->head++ % UART_TXQ_SIZE] = s[i];
    }
    return true;
}

bool uart_txq_take(struct uart_txq *q, char *c)
{
    if (q->head == q->tail)
        return false;
    *c = q->buf[q->tail++ % UART_TXQ_SIZE];
    return true;
}
