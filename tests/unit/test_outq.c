/* The per-VM console output queue (vm/outq.c): records in a byte ring,
 * whole or not at all, oldest first, wrap-around, the refusal count, and
 * appending to the newest record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vm/outq.h"

static char storage[256];

static void take(struct outq *q, uint64_t seq, unsigned kind, const char *text)
{
    char buf[OUTQ_REC_MAX];
    struct outq_rec r;
    assert_true(outq_peek(q, &r));
    assert_int_equal(r.seq, seq);
    assert_int_equal(r.kind, kind);
    assert_int_equal(r.len, strlen(text));
    assert_int_equal(outq_get(q, &r, buf, sizeof(buf)), strlen(text));
    assert_memory_equal(buf, text, strlen(text));
}

static void test_fifo_order_and_empty(void **state)
{
    struct outq q;
    outq_init(&q, storage, sizeof(storage));
    struct outq_rec r;
    char buf[8];
    assert_true(outq_empty(&q));
    assert_false(outq_peek(&q, &r));
    assert_int_equal(outq_get(&q, &r, buf, sizeof(buf)), 0);
    assert_true(outq_put(&q, 7, 1, "one\n", 4));
    assert_true(outq_put(&q, 9, 2, "two\n", 4));
    assert_int_equal(outq_used(&q), 2 * (OUTQ_HEADER + 4));
    take(&q, 7, 1, "one\n");
    take(&q, 9, 2, "two\n");
    assert_true(outq_empty(&q));
}

/* Full: a record that does not fit is refused whole and counted; space
 * freed by the reader is usable again, across the end of the ring. */
static void test_budget_and_wrap(void **state)
{
    struct outq q;
    outq_init(&q, storage, sizeof(storage));
    char line[40];
    memset(line, 'a', sizeof(line));
    unsigned stored = 0;
    for (unsigned i = 0; i < 10; i++)
        stored += outq_put(&q, i, 0, line, sizeof(line));
    assert_int_equal(stored, sizeof(storage) / (OUTQ_HEADER + sizeof(line)));
    assert_int_equal(q.refused, 10 - stored);
    assert_true(outq_used(&q) <= sizeof(storage));
    /* Reading and writing in turn for many rounds wraps the ring often. */
    uint64_t next_out = 0, next_in = 100;
    for (unsigned round = 0; round < 200; round++) {
        char buf[OUTQ_REC_MAX];
        struct outq_rec r;
        assert_int_equal(outq_get(&q, &r, buf, sizeof(buf)), sizeof(line));
        assert_true(r.seq == next_out || r.seq >= 100);
        next_out++;
        line[0] = (char)('A' + round % 26);
        assert_true(outq_put(&q, next_in++, 0, line, sizeof(line)));
    }
    /* The newest record came out intact after all that wrapping. */
    char buf[OUTQ_REC_MAX];
    struct outq_rec r;
    uint64_t last_seq = 0;
    while (outq_get(&q, &r, buf, sizeof(buf)))
        last_seq = r.seq;
    assert_int_equal(last_seq, next_in - 1);
    assert_int_equal(buf[0], 'A' + 199 % 26);
}

static void test_oversized_record_refused(void **state)
{
    struct outq q;
    outq_init(&q, storage, sizeof(storage));
    static char big[OUTQ_REC_MAX + 1];
    assert_false(outq_put(&q, 1, 0, big, sizeof(big)));
    assert_false(outq_put(&q, 1, 0, big, sizeof(storage)));
    assert_int_equal(q.refused, 2);
    assert_true(outq_empty(&q));
}

/* Single bytes (an attached console) join the newest record of their kind
 * while it is queued; a record of another kind, or a consumed one, starts
 * a new record. */
static void test_append_joins_newest(void **state)
{
    struct outq q;
    outq_init(&q, storage, sizeof(storage));
    assert_true(outq_append(&q, 1, 1, "h", 1));
    assert_true(outq_append(&q, 2, 1, "i", 1));
    assert_true(outq_append(&q, 3, 1, "!", 1));
    assert_int_equal(outq_used(&q), OUTQ_HEADER + 3);
    assert_true(outq_put(&q, 4, 0, "line\n", 5));
    assert_true(outq_append(&q, 5, 1, "x", 1));
    take(&q, 1, 1, "hi!");
    take(&q, 4, 0, "line\n");
    take(&q, 5, 1, "x");
    assert_true(outq_append(&q, 6, 1, "y", 1)); /* the newest was consumed */
    take(&q, 6, 1, "y");
}

/* A caller's buffer smaller than the record gets a prefix; the record is
 * still consumed whole. */
static void test_short_read(void **state)
{
    struct outq q;
    outq_init(&q, storage, sizeof(storage));
    assert_true(outq_put(&q, 1, 0, "abcdef", 6));
    assert_true(outq_put(&q, 2, 0, "gh", 2));
    char buf[3];
    struct outq_rec r;
    assert_int_equal(outq_get(&q, &r, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "abc", 3);
    take(&q, 2, 0, "gh");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_order_and_empty),
        cmocka_unit_test(test_budget_and_wrap),
        cmocka_unit_test(test_oversized_record_refused),
        cmocka_unit_test(test_append_joins_newest),
        cmocka_unit_test(test_short_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
