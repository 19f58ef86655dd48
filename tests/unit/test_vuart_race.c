/* The vUART shared by several vCPUs: threads writing its THR at once must
 * never push the line past its buffer (ASan reports that), lose a byte, or
 * emit a line longer than VUART_LINE_MAX; the receive FIFO keeps its count
 * while the console pushes and a vCPU pops. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vuart.h"

#define WRITERS 2
/* Small: a ticket lock whose holder is descheduled stalls every waiter,
 * and the test machines are oversubscribed. */
#define BYTES 5000

static struct vuart g_u;
static unsigned long g_emitted, g_lines, g_bad_lines;

/* Runs under the vUART's lock: one line at a time. */
static void count_line(void *ctx, const char *line, unsigned len)
{
    (void)ctx;
    if (len == 0 || len > VUART_LINE_MAX)
        __atomic_add_fetch(&g_bad_lines, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < len; i++)
        if (line[i] < 'a' || line[i] >= 'a' + WRITERS)
            __atomic_add_fetch(&g_bad_lines, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_emitted, len, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_lines, 1, __ATOMIC_RELAXED);
}

static void *writer(void *arg)
{
    char c = (char)(uintptr_t)arg;
    for (unsigned i = 0; i < BYTES; i++) {
        vuart_write(&g_u, 0, (uint8_t)c);
        if (i % 1000 == 999)
            vuart_write(&g_u, 0, '\n');
        (void)vuart_read(&g_u, 5); /* LSR, as a polling driver does */
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    (void)state;
    pthread_t t[WRITERS];
    vuart_init(&g_u, 0x3f8, count_line, NULL);
    g_emitted = g_lines = g_bad_lines = 0;
    for (unsigned i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(uintptr_t)('a' + i)), 0);
    for (unsigned i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    vuart_flush(&g_u);
    assert_int_equal(g_bad_lines, 0);
    assert_int_equal(g_emitted, (unsigned long)WRITERS * BYTES); /* no byte lost */
    assert_true(g_lines >= (unsigned long)WRITERS * BYTES / VUART_LINE_MAX);
}

static unsigned long g_pushed, g_popped;
static volatile int g_stop;

static void *pusher(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < BYTES; i++)
        if (vuart_push_rx(&g_u, (uint8_t)'x'))
            g_pushed++;
    g_stop = 1;
    return NULL;
}

static void test_rx_push_and_pop(void **state)
{
    (void)state;
    pthread_t t;
    vuart_init(&g_u, 0x3f8, count_line, NULL);
    g_pushed = g_popped = 0;
    g_stop = 0;
    assert_int_equal(pthread_create(&t, NULL, pusher, NULL), 0);
    for (;;) {
        int done = __atomic_load_n(&g_stop, __ATOMIC_ACQUIRE);
        while (vuart_read(&g_u, 5) & 1) { /* LSR.DR: a byte waits */
            assert_int_equal(vuart_read(&g_u, 0), 'x');
            g_popped++;
        }
        if (done)
            break;
    }
    pthread_join(t, NULL);
    while (vuart_read(&g_u, 5) & 1) {
        assert_int_equal(vuart_read(&g_u, 0), 'x');
        g_popped++;
    }
    assert_int_equal(g_popped, g_pushed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_rx_push_and_pop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
