/* The UART's transmit queue (drivers/uart_txq.c): \n stored as \r\n, a
 * write whole or not at all, oldest byte first, room accounting across
 * wrap-around and counter overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/uart_txq.h"

static struct uart_txq q;

static void take_all(struct uart_txq *t, char *out, size_t max, size_t *n)
{
    char c;
    *n = 0;
    while (*n < max && uart_txq_take(t, &c))
        out[(*n)++] = c;
}

static void test_crlf_and_order(void **state)
{
    char out[64];
    size_t n;
    memset(&q, 0, sizeof(q));
    assert_int_equal(uart_txq_cost("ab\ncd\n", 6), 8);
    assert_true(uart_txq_put(&q, "ab\n", 3));
    assert_true(uart_txq_put(&q, "cd\n", 3));
    assert_int_equal(uart_txq_used(&q), 8);
    assert_int_equal(uart_txq_room(&q), UART_TXQ_SIZE - 8);
    take_all(&q, out, sizeof(out), &n);
    assert_int_equal(n, 8);
    assert_memory_equal(out, "ab\r\ncd\r\n", 8);
    char c;
    assert_false(uart_txq_take(&q, &c));
    assert_int_equal(uart_txq_room(&q), UART_TXQ_SIZE);
}

static void test_whole_or_nothing(void **state)
{
    static char big[UART_TXQ_SIZE];
    memset(&q, 0, sizeof(q));
    memset(big, 'x', sizeof(big));
    assert_true(uart_txq_put(&q, big, UART_TXQ_SIZE - 3));
    /* "a\nb" needs 4 bytes: refused, nothing stored. */
    assert_false(uart_txq_put(&q, "a\nb", 3));
    assert_int_equal(uart_txq_used(&q), UART_TXQ_SIZE - 3);
    /* "a\n" needs 3: fits exactly. */
    assert_true(uart_txq_put(&q, "a\n", 2));
    assert_int_equal(uart_txq_room(&q), 0);
    assert_false(uart_txq_put(&q, "z", 1));
    /* An empty write always fits. */
    assert_true(uart_txq_put(&q, "", 0));
}

static void test_wraps_and_counters_overflow(void **state)
{
    char out[16], c;
    size_t n;
    memset(&q, 0, sizeof(q));
    /* Counters just below 2^32: used and room stay right past the wrap. */
    q.head = q.tail = 0xfffffff0u;
    for (int round = 0; round < 3 * UART_TXQ_SIZE / 10; round++) {
        assert_true(uart_txq_put(&q, "0123\n6789", 9));
        assert_int_equal(uart_txq_used(&q), 10);
        take_all(&q, out, sizeof(out), &n);
        assert_int_equal(n, 10);
        assert_memory_equal(out, "0123\r\n6789", 10);
    }
    assert_true(q.head < 0xfffffff0u); /* wrapped */
    assert_false(uart_txq_take(&q, &c));
    assert_int_equal(uart_txq_room(&q), UART_TXQ_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crlf_and_order),
        cmocka_unit_test(test_whole_or_nothing),
        cmocka_unit_test(test_wraps_and_counters_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
