/* str_to_u64 (decimal, hex, K/M/G, overflow, junk) and str_copy truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/string.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

static void ok(const char *s, int suffix, unsigned long long want)
{
    unsigned long long v = SENTINEL;
    if (str_to_u64(s, strlen(s), &v, suffix) != 0)
        fail_msg("'%s' (suffix %d) was rejected", s, suffix);
    if (v != want)
        fail_msg("'%s': got %llu, want %llu", s, v, want);
}

static void bad(const char *s, int suffix)
{
    unsigned long long v = SENTINEL;
    if (str_to_u64(s, strlen(s), &v, suffix) != -1)
        fail_msg("'%s' (suffix %d) was accepted as %llu", s, suffix, v);
    /* A failed parse leaves the output alone. */
    assert_int_equal(v, SENTINEL);
}

static void test_decimal(void **state)
{
    ok("0", 0, 0);
    ok("7", 0, 7);
    ok("123", 0, 123);
    ok("000123", 0, 123);
    ok("4294967296", 0, 4294967296ULL);
    ok("18446744073709551615", 0, UINT64_MAX);
    ok("18446744073709551615", 1, UINT64_MAX);
}

static void test_hex(void **state)
{
    ok("0x0", 0, 0);
    ok("0x1f", 0, 31);
    ok("0X1F", 0, 31);
    ok("0xDeadBeef", 0, 0xdeadbeefULL);
    ok("0x3f8", 0, 0x3f8);
    ok("0xffffffffffffffff", 0, UINT64_MAX);
    ok("0x0000000000000000000001", 0, 1); /* leading zeros do not overflow */
    /* Hex digits are not decimal digits. */
    bad("1f", 0);
    bad("ff", 0);
    /* A prefix with no digits. */
    bad("0x", 0);
    bad("0x", 1);
    bad("0xg", 0);
    bad("0x ", 0);
}

static void test_suffixes(void **state)
{
    ok("4K", 1, 4096);
    ok("4k", 1, 4096);
    ok("16M", 1, 16ULL << 20);
    ok("16m", 1, 16ULL << 20);
    ok("2G", 1, 2ULL << 30);
    ok("2g", 1, 2ULL << 30);
    ok("0M", 1, 0);
    ok("0x10M", 1, 16ULL << 20);
    ok("17179869183G", 1, 17179869183ULL << 30);
    /* Suffixes only when allowed. */
    bad("4K", 0);
    bad("16M", 0);
    bad("2G", 0);
    /* Unknown or doubled suffixes. */
    bad("4T", 1);
    bad("4B", 1);
    bad("16MB", 1);
    bad("16MM", 1);
    bad("16 M", 1);
    bad("M", 1);
    bad("K", 1);
}

static void test_overflow(void **state)
{
    bad("18446744073709551616", 0);
    bad("18446744073709551620", 0);
    bad("99999999999999999999", 0);
    bad("184467440737095516150", 0);
    bad("0x10000000000000000", 0);
    bad("0x1ffffffffffffffff", 0);
    /* Overflow by the suffix shift. */
    bad("17179869184G", 1);
    bad("18014398509481984K", 1);
    bad("17592186044416M", 1);
    bad("0xffffffffffffffffK", 1);
    ok("18014398509481983K", 1, 18014398509481983ULL << 10);
}

static void test_junk(void **state)
{
    bad("", 0);
    bad("", 1);
    bad(" 1", 0);
    bad("1 ", 0);
    bad("1 ", 1);
    bad("-1", 0);
    bad("+1", 0);
    bad("1.5", 0);
    bad("1.5M", 1);
    bad("12a", 0);
    bad("abc", 0);
    bad("0x1g", 0);
    bad("1,2", 0);
}

static void test_len_bounds(void **state)
{
    unsigned long long v = SENTINEL;
    /* Only len bytes are looked at: a field inside a longer string. */
    assert_int_equal(str_to_u64("123,mem=4", 3, &v, 0), 0);
    assert_int_equal(v, 123);
    assert_int_equal(str_to_u64("16M,cpu=1", 3, &v, 1), 0);
    assert_int_equal(v, 16ULL << 20);
    assert_int_equal(str_to_u64("0x10zz", 4, &v, 0), 0);
    assert_int_equal(v, 16);
    /* "0x" with len 2 is not a hex prefix: '0' then junk 'x'. */
    v = SENTINEL;
    assert_int_equal(str_to_u64("0x12", 2, &v, 0), -1);
    assert_int_equal(v, SENTINEL);
    /* len 1 of "0x12" is just "0". */
    assert_int_equal(str_to_u64("0x12", 1, &v, 0), 0);
    assert_int_equal(v, 0);
    /* Not NUL-terminated input. */
    const char raw[3] = {'4', '2', 'K'};
    assert_int_equal(str_to_u64(raw, 3, &v, 1), 0);
    assert_int_equal(v, 42 * 1024);
    assert_int_equal(str_to_u64(raw, 0, &v, 1), -1);
}

static void test_str_copy(void **state)
{
    char buf[8];

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(str_copy(buf, "abc", sizeof(buf)), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(buf[4], 'Z'); /* nothing written past the NUL */

    /* Exactly size - 1 fits. */
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(str_copy(buf, "1234567", sizeof(buf)), 7);
    assert_string_equal(buf, "1234567");

    /* Truncated, terminated, and the return says how long the source was. */
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(str_copy(buf, "12345678", sizeof(buf)), 8);
    assert_string_equal(buf, "1234567");
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(str_copy(buf, "a much longer string", sizeof(buf)), 20);
    assert_string_equal(buf, "a much ");
    assert_true(str_copy(buf, "a much longer string", sizeof(buf)) >= sizeof(buf));

    /* size 1: only the terminator. */
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(str_copy(buf, "abc", 1), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'Z');

    /* size 0: nothing written at all. */
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(str_copy(buf, "abc", 0), 3);
    assert_int_equal(buf[0], 'Z');

    /* Empty source. */
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(str_copy(buf, "", sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(buf[1], 'Z');
}

static unsigned dist(const char *a, const char *b)
{
    return edit_distance(a, strlen(a), b, strlen(b));
}

static void test_edit_distance(void **state)
{
    assert_int_equal(dist("", ""), 0);
    assert_int_equal(dist("memory", "memory"), 0);
    assert_int_equal(dist("", "abc"), 3);
    assert_int_equal(dist("abc", ""), 3);
    assert_int_equal(dist("ecco", "echo"), 1);      /* substitution */
    assert_int_equal(dist("memry", "memory"), 1);   /* insertion */
    assert_int_equal(dist("memoory", "memory"), 1); /* deletion */
    assert_int_equal(dist("memroy", "memory"), 1);  /* swap of neighbours */
    assert_int_equal(dist("kitten", "sitting"), 3);
    assert_int_equal(dist("MEMORY", "memory"), 0); /* case is ignored */
    assert_int_equal(dist("abc", "xyz"), 3);
    /* Symmetric. */
    assert_int_equal(dist("autostart", "autstrat"), dist("autstrat", "autostart"));
    /* Only len bytes count. */
    assert_int_equal(edit_distance("echo world", 4, "echo", 4), 0);
    /* Words too long to compare are infinitely far. */
    char longw[EDIT_DISTANCE_MAX_LEN + 2];
    memset(longw, 'a', sizeof(longw) - 1);
    longw[sizeof(longw) - 1] = '\0';
    assert_int_equal(dist(longw, "a"), EDIT_DISTANCE_TOO_LONG);
    assert_int_equal(dist("a", longw), EDIT_DISTANCE_TOO_LONG);
    longw[EDIT_DISTANCE_MAX_LEN] = '\0';
    assert_int_equal(dist(longw, longw), 0);
}

static const char *const keys[] = {"name",        "kernel", "initrd",    "cmdline", "memory",
                                   "memory_base", "cpus",   "autostart", "restart", "priority"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void test_closest_match(void **state)
{
    assert_string_equal(closest_match("memroy", keys, NKEYS), "memory");
    assert_string_equal(closest_match("kernl", keys, NKEYS), "kernel");
    assert_string_equal(closest_match("cpu", keys, NKEYS), "cpus");
    assert_string_equal(closest_match("autostrat", keys, NKEYS), "autostart");
    assert_string_equal(closest_match("memory_bse", keys, NKEYS), "memory_base");
    assert_string_equal(closest_match("Priority", keys, NKEYS), "priority");
    /* The pointer returned is the candidate itself. */
    assert_ptr_equal(closest_match("initr", keys, NKEYS), keys[2]);
    /* Nothing close: no suggestion rather than a wild guess. */
    assert_null(closest_match("pci", keys, NKEYS));
    assert_null(closest_match("net.mac", keys, NKEYS));
    assert_null(closest_match("xyzzy", keys, NKEYS));
    assert_null(closest_match("", keys, NKEYS));
    assert_null(closest_match("memory", keys, 0));
    /* A word whose every character differs is never suggested. */
    const char *const two[] = {"ls", "cd"};
    assert_null(closest_match("xy", two, 2));
    assert_string_equal(closest_match("lx", two, 2), "ls");
}

static void test_closest_match_budget(void **state)
{
    const char *const cmds[] = {"list", "start", "shutdown", "destroy", "suspend", "resume"};
    /* One edit for short words, two up to 8 characters, three beyond. */
    assert_string_equal(closest_match("lst", cmds, 6), "list");
    assert_null(closest_match("lt", cmds, 6));
    assert_string_equal(closest_match("shtdwn", cmds, 6), "shutdown");
    assert_null(closest_match("shdwn", cmds, 6));
    const char *const longer[] = {"abcdefghijkl"};
    assert_string_equal(closest_match("abcdefghi", longer, 1), "abcdefghijkl");
    assert_null(closest_match("abcdefgh", longer, 1));
    /* The closest wins over an earlier, farther one; ties go to the first. */
    const char *const near[] = {"resume", "resumed", "resume2"};
    assert_ptr_equal(closest_match("resumedd", near, 3), near[1]);
    const char *const tie[] = {"stat", "star"};
    assert_ptr_equal(closest_match("stax", tie, 2), tie[0]);
}

static void test_closest_match_incremental(void **state)
{
    struct entry {
        const char *name;
        int id;
    } table[] = {{"console", 1}, {"cpus", 2}, {"info", 3}, {NULL, 4}};
    struct closest_match m;
    const char *word = "consle now";

    closest_match_init(&m, word, 6);
    for (size_t i = 0; i < 4; i++)
        closest_match_offer(&m, table[i].name); /* NULL names are skipped */
    assert_ptr_equal(m.best, table[0].name);
    assert_int_equal(m.best_distance, 1);

    closest_match_init(&m, "zzzzzz", 6);
    for (size_t i = 0; i < 4; i++)
        closest_match_offer(&m, table[i].name);
    assert_null(m.best);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_junk),
        cmocka_unit_test(test_len_bounds),
        cmocka_unit_test(test_str_copy),
        cmocka_unit_test(test_edit_distance),
        cmocka_unit_test(test_closest_match),
        cmocka_unit_test(test_closest_match_budget),
        cmocka_unit_test(test_closest_match_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
