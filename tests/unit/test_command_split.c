/* Splitting console lines and exec= scripts at `;` (core/command_split.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/command_split.h"

/* Splits `s` into out[] ("!" marks a command that was too long). */
static int split(const char *s, size_t outlen, char out[][64], int max)
{
    const char *p = s, *end = s + strlen(s);
    int n = 0;
    enum command_split_result r;
    char buf[64];
    while ((r = command_split_next(&p, end, buf, outlen)) != SPLIT_END) {
        assert_true(n < max);
        assert_true(p <= end);
        if (r == SPLIT_TOO_LONG)
            strcpy(out[n++], "!");
        else
            strcpy(out[n++], buf);
    }
    return n;
}

static void test_semicolons_separate(void **state)
{
    char out[8][64];
    assert_int_equal(split("version; list --all;info spin1", 64, out, 8), 3);
    assert_string_equal(out[0], "version");
    assert_string_equal(out[1], " list --all");
    assert_string_equal(out[2], "info spin1");
    assert_int_equal(split("", 64, out, 8), 0);
    assert_int_equal(split("list", 64, out, 8), 1);
    assert_string_equal(out[0], "list");
}

static void test_empty_commands_kept(void **state)
{
    char out[8][64];
    /* Blank commands come out blank (the runner ignores them); a trailing
     * `;` adds nothing. */
    assert_int_equal(split("a;;b;", 64, out, 8), 3);
    assert_string_equal(out[0], "a");
    assert_string_equal(out[1], "");
    assert_string_equal(out[2], "b");
}

static void test_quotes_protect_semicolons(void **state)
{
    char out[8][64];
    assert_int_equal(split("info \"a;b\"; list", 64, out, 8), 2);
    assert_string_equal(out[0], "info \"a;b\"");
    assert_string_equal(out[1], " list");
    /* An unterminated quote runs to the end (the tokenizer refuses it). */
    assert_int_equal(split("info \"a;b", 64, out, 8), 1);
    assert_string_equal(out[0], "info \"a;b");
}

static void test_too_long_skipped(void **state)
{
    char out[8][64];
    /* With room for 5 characters and the NUL: the long one is skipped,
     * the ones around it still come out. */
    assert_int_equal(split("ok;toolong;fine", 6, out, 8), 3);
    assert_string_equal(out[0], "ok");
    assert_string_equal(out[1], "!");
    assert_string_equal(out[2], "fine");
    assert_int_equal(split("sixsix", 6, out, 8), 1);
    assert_string_equal(out[0], "!");
    assert_int_equal(split("fivee", 6, out, 8), 1);
    assert_string_equal(out[0], "fivee");
}

static void test_stops_at_end_and_nul(void **state)
{
    const char s[] = "a;b;c";
    const char *p = s;
    char buf[8];
    /* Only the first three bytes are the script. */
    assert_int_equal(command_split_next(&p, s + 3, buf, sizeof(buf)), SPLIT_COMMAND);
    assert_string_equal(buf, "a");
    assert_int_equal(command_split_next(&p, s + 3, buf, sizeof(buf)), SPLIT_COMMAND);
    assert_string_equal(buf, "b");
    assert_int_equal(command_split_next(&p, s + 3, buf, sizeof(buf)), SPLIT_END);
    const char t[] = "x\0y;z";
    p = t;
    assert_int_equal(command_split_next(&p, t + sizeof(t) - 1, buf, sizeof(buf)), SPLIT_COMMAND);
    assert_string_equal(buf, "x");
    assert_int_equal(command_split_next(&p, t + sizeof(t) - 1, buf, sizeof(buf)), SPLIT_END);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semicolons_separate),
        cmocka_unit_test(test_empty_commands_kept),
        cmocka_unit_test(test_quotes_protect_semicolons),
        cmocka_unit_test(test_too_long_skipped),
        cmocka_unit_test(test_stops_at_end_and_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
