/* The log: ring buffer (wrap-around, a reader that fell behind), levels and
 * sinks, level names. The ring is global, so tests work relative to its head. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"

#define RING_SIZE (64 * 1024) /* LOG_RING_SIZE in lib/log.c */

static char sink_buf[8192];
static size_t sink_len;
static unsigned sink_calls, sink2_calls;

static void sink(const char *s, size_t n)
{
    assert_true(sink_len + n < sizeof(sink_buf));
    memcpy(sink_buf + sink_len, s, n);
    sink_len += n;
    sink_buf[sink_len] = '\0';
    sink_calls++;
}

static void sink2(const char *s, size_t n)
{
    sink2_calls++;
}

static void sink_nop(const char *s, size_t n) {}

static int group_setup(void **state)
{
    /* Four sinks fit; a fifth is refused. */
    if (log_add_sink(sink) || log_add_sink(sink2) || log_add_sink(sink_nop) ||
        log_add_sink(sink_nop))
        return -1;
    if (log_add_sink(sink_nop) != -1)
        return -1;
    return 0;
}

static int setup(void **state)
{
    sink_len = 0;
    sink_buf[0] = '\0';
    sink_calls = sink2_calls = 0;
    log_set_level(LOG_INFO);
    return 0;
}

/* Everything written since pos, as a string. */
static char *ring_since(unsigned long long pos)
{
    static char buf[RING_SIZE + 1];
    size_t n = log_ring_read(&pos, buf, RING_SIZE);
    buf[n] = '\0';
    return buf;
}

static void test_write_and_read(void **state)
{
    unsigned long long start = log_ring_head();
    pr_info("hello %d", 42);
    assert_int_equal(log_ring_head(), start + strlen("hello 42\n"));
    assert_string_equal(ring_since(start), "hello 42\n");
    assert_string_equal(sink_buf, "hello 42\n");
    assert_int_equal(sink_calls, 1);
    assert_int_equal(sink2_calls, 1);
}

static void test_prefixes_and_newline(void **state)
{
    unsigned long long start = log_ring_head();
    pr_err("disk %s", "gone");
    pr_warn("hot");
    pr_info("already terminated\n");
    pr_info("%s", "");
    assert_string_equal(ring_since(start),
                        "error: disk gone\nwarning: hot\nalready terminated\n\n");
    assert_string_equal(sink_buf, "error: disk gone\nwarning: hot\nalready terminated\n\n");
}

static void test_levels(void **state)
{
    unsigned long long start = log_ring_head();
    log_set_level(LOG_WARN);
    assert_int_equal(log_get_level(), LOG_WARN);
    pr_err("e");
    pr_warn("w");
    pr_info("i");
    pr_debug("d");
    pr_trace("t");
    /* The ring keeps everything; sinks only get the level and below. */
    assert_string_equal(ring_since(start), "error: e\nwarning: w\ni\nd\nt\n");
    assert_string_equal(sink_buf, "error: e\nwarning: w\n");
    assert_int_equal(sink_calls, 2);

    sink_len = 0;
    log_set_level(LOG_TRACE);
    pr_trace("t2");
    assert_string_equal(sink_buf, "t2\n");

    sink_len = 0;
    log_set_level(LOG_ERR);
    pr_warn("quiet");
    pr_err("loud");
    assert_string_equal(sink_buf, "error: loud\n");
}

static void test_set_level_rejects_bad(void **state)
{
    log_set_level(LOG_DEBUG);
    log_set_level(-1);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_set_level(5);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_set_level(LOG_ERR);
    assert_int_equal(log_get_level(), LOG_ERR);
}

static void test_puts_and_sinks_write(void **state)
{
    unsigned long long start = log_ring_head();
    log_set_level(LOG_ERR);
    /* log_puts: ring and sinks whatever the level, no newline added. */
    log_puts("banner", 6);
    assert_string_equal(ring_since(start), "banner");
    assert_string_equal(sink_buf, "banner");
    /* log_sinks_write: sinks only. */
    log_sinks_write("reply\n", 6);
    assert_string_equal(sink_buf, "bannerreply\n");
    assert_int_equal(log_ring_head(), start + 6);
    /* Length is honoured (no strlen). */
    log_puts("abcdef", 3);
    assert_string_equal(ring_since(start), "bannerabc");
}

static void test_long_message_truncated(void **state)
{
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    unsigned long long start = log_ring_head();
    pr_warn("%s", big);
    const char *r = ring_since(start);
    size_t n = strlen(r);
    /* One line of at most LOG_LINE_MAX (512) bytes, still ending in '\n'. */
    assert_true(n > 400 && n < 512);
    assert_int_equal(r[n - 1], '\n');
    assert_memory_equal(r, "warning: xxx", 12);
    assert_ptr_equal(strchr(r, '\n'), r + n - 1); /* a single line */
    assert_int_equal(sink_len, n);
}

static void test_partial_reads(void **state)
{
    unsigned long long pos = log_ring_head();
    pr_info("0123456789");
    char buf[4];
    assert_int_equal(log_ring_read(&pos, buf, 4), 4);
    assert_memory_equal(buf, "0123", 4);
    assert_int_equal(log_ring_read(&pos, buf, 4), 4);
    assert_memory_equal(buf, "4567", 4);
    assert_int_equal(log_ring_read(&pos, buf, 4), 3);
    assert_memory_equal(buf, "89\n", 3);
    assert_int_equal(log_ring_read(&pos, buf, 4), 0);
    assert_int_equal(pos, log_ring_head());
    assert_int_equal(log_ring_read(&pos, buf, 0), 0);
    /* A position from the future is clamped to the head. */
    pos = log_ring_head() + 100;
    assert_int_equal(log_ring_read(&pos, buf, 4), 0);
    assert_int_equal(pos, log_ring_head());
}

static void test_wrap_around(void **state)
{
    /* Write well over the ring size of numbered lines; a reader that is
     * exactly one ring behind reads all of it, in order, across the wrap. */
    log_set_level(LOG_ERR); /* keep the sinks out of it */
    unsigned long long start = log_ring_head();
    unsigned i = 0;
    while (log_ring_head() - start < RING_SIZE * 2 + 777)
        pr_info("line %06u", i++);
    unsigned long long head = log_ring_head();
    unsigned long long pos = head - RING_SIZE;
    char *buf = malloc(RING_SIZE + 1);
    assert_non_null(buf);
    size_t n = log_ring_read(&pos, buf, RING_SIZE + 1);
    assert_int_equal(n, RING_SIZE);
    assert_int_equal(pos, head);
    buf[n] = '\0';
    /* Skip the first partial line, then every line follows the previous one. */
    char *p = strchr(buf, '\n') + 1;
    unsigned prev = 0;
    int first = 1, count = 0;
    while (*p) {
        unsigned v;
        assert_int_equal(sscanf(p, "line %06u\n", &v), 1);
        if (!first)
            assert_int_equal(v, prev + 1);
        first = 0;
        prev = v;
        count++;
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    assert_int_equal(prev, i - 1);
    assert_true(count > RING_SIZE / 12 - 2);
    assert_int_equal(sink_calls, 0);
    free(buf);
}

static void test_reader_fell_behind(void **state)
{
    log_set_level(LOG_ERR);
    unsigned long long stale = log_ring_head();
    pr_info("old message");
    unsigned i = 0;
    while (log_ring_head() - stale < RING_SIZE + 5000)
        pr_info("filler %u", i++);
    pr_info("newest");
    /* The stale reader skips ahead to the oldest byte still in the ring. */
    unsigned long long pos = stale;
    char *buf = malloc(RING_SIZE * 2);
    assert_non_null(buf);
    size_t n = log_ring_read(&pos, buf, RING_SIZE * 2);
    assert_int_equal(n, RING_SIZE);
    assert_int_equal(pos, log_ring_head());
    buf[n] = '\0';
    assert_null(strstr(buf, "old message"));
    assert_non_null(strstr(buf, "newest\n"));
    assert_memory_equal(buf + n - 7, "newest\n", 7);
    /* One byte behind the limit: nothing is skipped. */
    pos = log_ring_head() - RING_SIZE;
    assert_int_equal(log_ring_read(&pos, buf, 1), 1);
    assert_int_equal(pos, log_ring_head() - RING_SIZE + 1);
    free(buf);
}

static void test_level_from_name(void **state)
{
    assert_int_equal(log_level_from_name("err", 3), LOG_ERR);
    assert_int_equal(log_level_from_name("error", 5), LOG_ERR);
    assert_int_equal(log_level_from_name("warn", 4), LOG_WARN);
    assert_int_equal(log_level_from_name("warning", 7), LOG_WARN);
    assert_int_equal(log_level_from_name("info", 4), LOG_INFO);
    assert_int_equal(log_level_from_name("debug", 5), LOG_DEBUG);
    assert_int_equal(log_level_from_name("trace", 5), LOG_TRACE);
    for (int d = 0; d <= 4; d++) {
        char c = (char)('0' + d);
        assert_int_equal(log_level_from_name(&c, 1), d);
    }
    /* The length bounds the name: "info" out of "info trailing". */
    assert_int_equal(log_level_from_name("info trailing", 4), LOG_INFO);
    assert_int_equal(log_level_from_name("debug", 4), -1); /* "debu" */
    assert_int_equal(log_level_from_name("5", 1), -1);
    assert_int_equal(log_level_from_name("9", 1), -1);
    assert_int_equal(log_level_from_name("10", 2), -1);
    assert_int_equal(log_level_from_name("", 0), -1);
    assert_int_equal(log_level_from_name("inf", 3), -1);
    assert_int_equal(log_level_from_name("infos", 5), -1);
    assert_int_equal(log_level_from_name("INFO", 4), -1);
    assert_int_equal(log_level_from_name("verbose", 7), -1);
}

static void test_level_name(void **state)
{
    assert_string_equal(log_level_name(LOG_ERR), "err");
    assert_string_equal(log_level_name(LOG_WARN), "warn");
    assert_string_equal(log_level_name(LOG_INFO), "info");
    assert_string_equal(log_level_name(LOG_DEBUG), "debug");
    assert_string_equal(log_level_name(LOG_TRACE), "trace");
    assert_string_equal(log_level_name(-1), "?");
    assert_string_equal(log_level_name(5), "?");
    /* Round trip. */
    for (int l = LOG_ERR; l <= LOG_TRACE; l++)
        assert_int_equal(log_level_from_name(log_level_name(l), strlen(log_level_name(l))), l);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(test_write_and_read),        T(test_prefixes_and_newline), T(test_levels),
        T(test_set_level_rejects_bad), T(test_puts_and_sinks_write), T(test_long_message_truncated),
        T(test_partial_reads),         T(test_wrap_around),          T(test_reader_fell_behind),
        T(test_level_from_name),       T(test_level_name),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
