/* Line editor: editing keys, history, escape sequences, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/lineedit.h"

static char screen[8192];
static size_t screen_len;

static void term_write(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n && screen_len + 1 < sizeof(screen); i++)
        screen[screen_len++] = s[i];
    screen[screen_len] = '\0';
}

static enum lineedit_event feed(struct lineedit *le, const char *s)
{
    enum lineedit_event ev = LE_NONE;
    for (; *s; s++) {
        ev = lineedit_feed(le, *s);
        if (ev != LE_NONE && s[1])
            fail_msg("event before the end of input");
    }
    return ev;
}

static void setup_le(struct lineedit *le)
{
    screen_len = 0;
    screen[0] = '\0';
    lineedit_init(le, term_write, NULL);
}

static void test_plain_line(void **state)
{
    struct lineedit le;
    setup_le(&le);
    assert_int_equal(feed(&le, "list --all\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "list --all");
}

static void test_crlf_is_one_enter(void **state)
{
    struct lineedit le;
    setup_le(&le);
    assert_int_equal(feed(&le, "a\r"), LE_LINE);
    assert_int_equal(lineedit_feed(&le, '\n'), LE_NONE);
    assert_int_equal(feed(&le, "\n"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "");
}

static void test_backspace_and_cursor_edits(void **state)
{
    struct lineedit le;
    setup_le(&le);
    feed(&le, "stat");
    feed(&le, "\x7f\x7f");
    feed(&le, "art");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "start");
    /* Left arrow twice, insert, Home, delete key, End. */
    feed(&le, "abcd\x1b[D\x1b[DX");
    feed(&le, "\x1b[H\x1b[3~");
    feed(&le, "\x1b[FZ");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "bXcdZ");
    /* Backspace at column 0 does nothing. */
    feed(&le, "q\x01\x7f");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "q");
}

static void test_ctrl_keys(void **state)
{
    struct lineedit le;
    setup_le(&le);
    feed(&le, "destroy web");
    assert_int_equal(lineedit_feed(&le, 0x03), LE_INTERRUPT);
    assert_non_null(strstr(screen, "^C"));
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "");
    feed(&le, "junk\x15ok");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "ok");
    feed(&le, "bc\x01"
              "a\x05"
              "d");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "abcd");
}

static void test_history(void **state)
{
    struct lineedit le;
    setup_le(&le);
    feed(&le, "one\r");
    feed(&le, "two\r");
    feed(&le, "two\r"); /* a repeat is stored once */
    feed(&le, "par");
    feed(&le, "\x1b[A");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "two");
    feed(&le, "\x1b[A\x1b[A\x1b[A\x1b[A"); /* past the oldest stays there */
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "one");
    /* Down past the newest brings back the line being typed. */
    feed(&le, "new\x1b[A\x1b[B");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "new");
}

static void test_history_wraps(void **state)
{
    struct lineedit le;
    char cmd[16];
    setup_le(&le);
    for (int i = 0; i < LINEEDIT_HISTORY + 5; i++) {
        snprintf(cmd, sizeof(cmd), "c%d\r", i);
        feed(&le, cmd);
    }
    for (int i = 0; i < LINEEDIT_HISTORY + 3; i++)
        feed(&le, "\x1b[A");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "c5"); /* the oldest kept */
}

static void test_limits_and_garbage(void **state)
{
    struct lineedit le;
    setup_le(&le);
    for (int i = 0; i < LINEEDIT_MAX; i++)
        lineedit_feed(&le, 'x');
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_int_equal(strlen(lineedit_line(&le)), LINEEDIT_MAX);
    /* Control bytes, high bytes and unknown or malformed escapes insert nothing. */
    feed(&le, "\x02\x07\x80\xff\x1b[99Z\x1b[1;5C\x1bZ"
              "ok");
    assert_int_equal(feed(&le, "\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "ok");
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* A line cut at the limit is refused on Enter, never run cut short. */
static void test_over_long_line_is_refused(void **state)
{
    struct lineedit le;
    setup_le(&le);
    for (int i = 0; i < LINEEDIT_MAX + 50; i++)
        lineedit_feed(&le, 'x');
    assert_int_equal(count_char(screen, '\a'), 1); /* one bell, not 50 */
    /* Editing does not make it whole again: the lost characters are lost. */
    feed(&le, "\x7f\x7f");
    assert_int_equal(feed(&le, "\r"), LE_TOO_LONG);
    assert_string_equal(lineedit_line(&le), "");
    /* Not in the history; the next line is fine. */
    assert_int_equal(feed(&le, "\x1b[A\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "");
    assert_int_equal(feed(&le, "list\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "list");
    /* Ctrl-U starts afresh. */
    for (int i = 0; i < LINEEDIT_MAX + 1; i++)
        lineedit_feed(&le, 'y');
    assert_int_equal(feed(&le, "\x15ok\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "ok");
}

static void test_redraw(void **state)
{
    struct lineedit le;
    setup_le(&le);
    feed(&le, "abc\x1b[D");
    screen_len = 0;
    lineedit_redraw(&le, "bulkhead> ");
    assert_string_equal(screen, "bulkhead> abc\b");
}

/* Output while a line is edited: erase the prompt's line, the output, then
 * the prompt, the line and the cursor as they were; editing goes on. */
static void test_hide_output_redraw(void **state)
{
    struct lineedit le;
    setup_le(&le);
    feed(&le, "lst\x1b[D\x1b[D");
    screen_len = 0;
    lineedit_hide(&le);
    term_write(NULL, "[spin1] spin spin1: 3\n", 22);
    lineedit_redraw(&le, "bulkhead> ");
    assert_string_equal(screen, "\r\x1b[K\x1b[A\n[spin1] spin spin1: 3\nbulkhead> lst\b\b");
    /* The cursor is still after the "l": the missing letter goes there. */
    assert_int_equal(feed(&le, "i\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "list");
    /* Hiding is stateless: it changes nothing of the line. */
    feed(&le, "ab");
    lineedit_hide(&le);
    lineedit_hide(&le);
    assert_int_equal(feed(&le, "c\r"), LE_LINE);
    assert_string_equal(lineedit_line(&le), "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_line),
        cmocka_unit_test(test_crlf_is_one_enter),
        cmocka_unit_test(test_backspace_and_cursor_edits),
        cmocka_unit_test(test_ctrl_keys),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_history_wraps),
        cmocka_unit_test(test_limits_and_garbage),
        cmocka_unit_test(test_over_long_line_is_refused),
        cmocka_unit_test(test_redraw),
        cmocka_unit_test(test_hide_output_redraw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
