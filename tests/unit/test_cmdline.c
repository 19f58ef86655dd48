/* cmdline_parse: GRUB's quote placements, escapes, flags, repeats, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cmdline.h"

static struct cmdline c;
static char err[128];

static int parse(const char *s)
{
    memset(&c, 0xa5, sizeof(c));
    memset(err, 0, sizeof(err));
    return cmdline_parse(s, &c, err, sizeof(err));
}

static void expect_opt(unsigned i, const char *key, const char *value)
{
    assert_true(i < c.n);
    assert_string_equal(c.key[i], key);
    assert_string_equal(c.value[i], value);
}

static void test_empty(void **state)
{
    assert_int_equal(parse(""), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(parse("   \t\n\r  "), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(parse(NULL), 0);
    assert_int_equal(c.n, 0);
    assert_null(cmdline_get(&c, "x"));
}

static void test_simple(void **state)
{
    assert_int_equal(parse("console=com1 loglevel=debug panic=poweroff"), 0);
    assert_int_equal(c.n, 3);
    expect_opt(0, "console", "com1");
    expect_opt(1, "loglevel", "debug");
    expect_opt(2, "panic", "poweroff");
    assert_string_equal(cmdline_get(&c, "loglevel"), "debug");
    assert_null(cmdline_get(&c, "log"));
    assert_null(cmdline_get(&c, "loglevelx"));
}

static void test_separators(void **state)
{
    /* Tabs, newlines and CRs separate like spaces; runs of them collapse. */
    assert_int_equal(parse("\t a=1\t\tb=2\nc\r\nd=4  \n"), 0);
    assert_int_equal(c.n, 4);
    expect_opt(0, "a", "1");
    expect_opt(1, "b", "2");
    expect_opt(2, "c", "");
    expect_opt(3, "d", "4");
}

static void test_bare_flags(void **state)
{
    assert_int_equal(parse("quiet x= nosmp"), 0);
    assert_int_equal(c.n, 3);
    expect_opt(0, "quiet", "");
    expect_opt(1, "x", "");
    expect_opt(2, "nosmp", "");
    assert_non_null(cmdline_get(&c, "quiet"));
    assert_string_equal(cmdline_get(&c, "quiet"), "");
}

static void test_value_with_equals(void **state)
{
    /* Only the first '=' splits. */
    assert_int_equal(parse("vm=a,b.elf,cmdline=x=y,z"), 0);
    expect_opt(0, "vm", "a,b.elf,cmdline=x=y,z");
}

static void test_quotes_user_placement(void **state)
{
    assert_int_equal(parse("exec=\"version; poweroff 3\" panic=halt"), 0);
    assert_int_equal(c.n, 2);
    expect_opt(0, "exec", "version; poweroff 3");
    expect_opt(1, "panic", "halt");
}

static void test_quotes_grub_placement(void **state)
{
    /* GRUB re-quotes the whole argument. */
    assert_int_equal(parse("\"exec=version; poweroff 3\" panic=halt"), 0);
    assert_int_equal(c.n, 2);
    expect_opt(0, "exec", "version; poweroff 3");
    expect_opt(1, "panic", "halt");
}

static void test_quotes_inside_token(void **state)
{
    assert_int_equal(parse("a\"b c\"d=\"e\tf\"g"), 0);
    assert_int_equal(c.n, 1);
    expect_opt(0, "ab cd", "e\tfg");
    /* A quoted empty value. */
    assert_int_equal(parse("x=\"\" y"), 0);
    assert_int_equal(c.n, 2);
    expect_opt(0, "x", "");
    expect_opt(1, "y", "");
    /* A quoted '=' still splits (the first one wins). */
    assert_int_equal(parse("\"k=v=w\""), 0);
    expect_opt(0, "k", "v=w");
}

static void test_escapes(void **state)
{
    /* GRUB escapes quotes and backslashes inside its own quotes. */
    assert_int_equal(parse("\"exec=echo \\\"hi there\\\"; version\""), 0);
    assert_int_equal(c.n, 1);
    expect_opt(0, "exec", "echo \"hi there\"; version");

    assert_int_equal(parse("exec=\"a \\\\ b\""), 0);
    expect_opt(0, "exec", "a \\ b");

    /* An escaped quote outside quotes does not open a quoted run. */
    assert_int_equal(parse("a=\\\"x y"), 0);
    assert_int_equal(c.n, 2);
    expect_opt(0, "a", "\"x");
    expect_opt(1, "y", "");

    /* A backslash before anything else is kept. */
    assert_int_equal(parse("path=C:\\dir\\n"), 0);
    expect_opt(0, "path", "C:\\dir\\n");

    /* A trailing backslash is kept too. */
    assert_int_equal(parse("t=x\\"), 0);
    expect_opt(0, "t", "x\\");
}

static void test_repeated_keys(void **state)
{
    const char *vals[8];
    assert_int_equal(parse("vm=a,a.elf vm=b,b.elf loglevel=info vm=c,c.elf loglevel=trace"), 0);
    assert_int_equal(c.n, 5);
    assert_string_equal(cmdline_get(&c, "vm"), "c,c.elf");
    assert_string_equal(cmdline_get(&c, "loglevel"), "trace");

    assert_int_equal(cmdline_get_all(&c, "vm", vals, 8), 3);
    assert_string_equal(vals[0], "a,a.elf");
    assert_string_equal(vals[1], "b,b.elf");
    assert_string_equal(vals[2], "c,c.elf");

    /* max bounds the output. */
    vals[2] = NULL;
    assert_int_equal(cmdline_get_all(&c, "vm", vals, 2), 2);
    assert_string_equal(vals[0], "a,a.elf");
    assert_string_equal(vals[1], "b,b.elf");
    assert_null(vals[2]);
    assert_int_equal(cmdline_get_all(&c, "vm", vals, 0), 0);
    assert_int_equal(cmdline_get_all(&c, "nope", vals, 8), 0);
}

static void test_unterminated_quote(void **state)
{
    assert_int_equal(parse("a=1 exec=\"version; poweroff"), -1);
    assert_non_null(strstr(err, "unterminated"));
    assert_int_equal(parse("\"exec=x"), -1);
    assert_non_null(strstr(err, "unterminated"));
    /* An escaped closing quote does not close. */
    assert_int_equal(parse("exec=\"x\\\""), -1);
    assert_non_null(strstr(err, "unterminated"));
}

static void test_empty_name(void **state)
{
    assert_int_equal(parse("a=1 =2"), -1);
    assert_non_null(strstr(err, "empty name"));
    assert_int_equal(parse("\"\""), -1);
}

static void test_too_many(void **state)
{
    char buf[CMDLINE_MAX_ARGS * 4 + 16];
    size_t off = 0;
    for (int i = 0; i < CMDLINE_MAX_ARGS; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "k%d ", i % 10);
    assert_int_equal(parse(buf), 0);
    assert_int_equal(c.n, CMDLINE_MAX_ARGS);
    expect_opt(CMDLINE_MAX_ARGS - 1, "k3", "");

    snprintf(buf + off, sizeof(buf) - off, "x");
    assert_int_equal(parse(buf), -1);
    assert_non_null(strstr(err, "more than 64 options"));

    /* Trailing whitespace after the 64th option is not a 65th. */
    buf[off] = '\0';
    strcat(buf, " \t\n");
    assert_int_equal(parse(buf), 0);
    assert_int_equal(c.n, CMDLINE_MAX_ARGS);
}

static void test_too_long(void **state)
{
    size_t big = CMDLINE_POOL * 2;
    char *s = malloc(big + 1);
    assert_non_null(s);

    /* The longest single token that fits: the pool holds it and its NUL
     * with one byte to spare. */
    memset(s, 'a', big);
    s[0] = 'k';
    s[1] = '=';
    s[CMDLINE_POOL - 2] = '\0';
    assert_int_equal(parse(s), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(strlen(c.value[0]), CMDLINE_POOL - 4);

    s[CMDLINE_POOL - 2] = 'a';
    s[CMDLINE_POOL - 1] = '\0';
    assert_int_equal(parse(s), -1);
    assert_non_null(strstr(err, "longer than"));

    s[big] = '\0';
    assert_int_equal(parse(s), -1);
    assert_non_null(strstr(err, "longer than"));

    /* Many short options adding up past the pool. */
    size_t off = 0;
    for (int i = 0; i < 40; i++) {
        memset(s + off, 'b', 150);
        off += 150;
        s[off++] = ' ';
    }
    s[off] = '\0';
    assert_int_equal(parse(s), -1);
    assert_non_null(strstr(err, "longer than"));
    free(s);
}

static void test_small_error_buffer(void **state)
{
    char small[8];
    memset(small, 'Z', sizeof(small));
    assert_int_equal(cmdline_parse("x=\"abc", &c, small, sizeof(small)), -1);
    assert_int_equal(small[sizeof(small) - 1], '\0');
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_bare_flags),
        cmocka_unit_test(test_value_with_equals),
        cmocka_unit_test(test_quotes_user_placement),
        cmocka_unit_test(test_quotes_grub_placement),
        cmocka_unit_test(test_quotes_inside_token),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_repeated_keys),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_empty_name),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_small_error_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
