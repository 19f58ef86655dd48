/* fmt_snprintf: conversions, flags, widths, precision, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/format.h"

static char buf[256];

#define EXPECT(want, ...)                                                                          \
    do {                                                                                           \
        memset(buf, 'Z', sizeof(buf));                                                             \
        int n_ = fmt_snprintf(buf, sizeof(buf), __VA_ARGS__);                                      \
        assert_string_equal(buf, want);                                                            \
        assert_int_equal(n_, (int)strlen(want));                                                   \
    } while (0)

/* Same output and return value as the host C library. */
#define SAME_AS_LIBC(...)                                                                          \
    do {                                                                                           \
        char ref_[256];                                                                            \
        int r_ = snprintf(ref_, sizeof(ref_), __VA_ARGS__);                                        \
        EXPECT(ref_, __VA_ARGS__);                                                                 \
        assert_int_equal(r_, (int)strlen(ref_));                                                   \
    } while (0)

/* No format attribute: lets us feed formats gcc would warn about. */
static int via_vsnprintf(char *b, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int r = fmt_vsnprintf(b, n, f, ap);
    va_end(ap);
    return r;
}

#define EXPECT_RAW(want, ...)                                                                      \
    do {                                                                                           \
        memset(buf, 'Z', sizeof(buf));                                                             \
        int n_ = via_vsnprintf(buf, sizeof(buf), __VA_ARGS__);                                     \
        assert_string_equal(buf, want);                                                            \
        assert_int_equal(n_, (int)strlen(want));                                                   \
    } while (0)

static void test_integers(void **state)
{
    EXPECT("0", "%d", 0);
    EXPECT("-42 17", "%d %i", -42, 17);
    EXPECT("-2147483648", "%d", INT32_MIN);
    EXPECT("4294967295", "%u", UINT32_MAX);
    EXPECT("ff FF 17", "%x %X %o", 255, 255, 15);
    EXPECT("deadbeefcafe", "%lx", 0xdeadbeefcafeul);
    EXPECT("ffffffffffffffff", "%llx", 0xffffffffffffffffull);
    EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    EXPECT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    EXPECT("123456789", "%zu", (size_t)123456789);
    EXPECT("-1 255 -1 65535", "%hhd %hhu %hd %hu", 255, 255, 65535, 65535);
    SAME_AS_LIBC("%d|%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42, 42);
    SAME_AS_LIBC("%05d|%5.3d|%.0d|%.0x", -42, 7, 0, 0);
    EXPECT_RAW("-42  |", "%-05d|", -42); /* '-' beats '0' */
    SAME_AS_LIBC("%08x|%8x|%-8x|%08llx|%016lx", 0xbeef, 0xbeef, 0xbeef, 0x1234ull, 0xabcul);
    SAME_AS_LIBC("%*d|%-*d|%.*d|%*d", 6, 1, 6, 2, 4, 3, -6, 4);
    SAME_AS_LIBC("%+05d|% 05d|%+.3d", 3, 3, -3);
}

static void test_strings_chars(void **state)
{
    EXPECT("hello", "%s", "hello");
    EXPECT_RAW("(null)", "%s", (const char *)NULL);
    EXPECT("[  abc]", "[%5s]", "abc");
    EXPECT("[abc  ]", "[%-5s]", "abc");
    EXPECT("[ab]", "[%.2s]", "abcdef");
    EXPECT("[   ab]", "[%5.2s]", "abcdef");
    EXPECT("[abcdef]", "[%2s]", "abcdef"); /* width never truncates */
    EXPECT("[]", "[%.0s]", "abc");
    EXPECT("[ab]", "[%.*s]", 2, "abcdef");
    /* precision may stop before a missing NUL */
    const char unterminated[3] = {'x', 'y', 'z'};
    EXPECT("xy", "%.2s", unterminated);
    EXPECT("a", "%c", 'a');
    EXPECT("[   z]", "[%4c]", 'z');
    EXPECT("[z   ]", "[%-4c]", 'z');
    EXPECT("100%", "%d%%", 100);
    EXPECT("%", "%%");
    SAME_AS_LIBC("%s=%c%c|%-3s|", "k", 'v', '!', "x");
}

static void test_pointer(void **state)
{
    EXPECT("0x1000", "%p", (void *)0x1000);
    EXPECT("0xffff800000000000", "%p", (void *)0xffff800000000000ull);
    EXPECT("0x0", "%p", (void *)0);
    EXPECT("[    0x10]", "[%8p]", (void *)0x10);
    EXPECT("[0x10    ]", "[%-8p]", (void *)0x10);
    EXPECT_RAW("[    0x10]", "[%08p]", (void *)0x10); /* '0' ignored for %p */
}

static void test_truncation(void **state)
{
    char small[8];
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, sizeof(small), "%s-%d", "abcdef", 12345), 12);
    assert_string_equal(small, "abcdef-");

    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, 1, "abc"), 3);
    assert_int_equal(small[0], '\0');
    assert_int_equal(small[1], 'Z');

    /* size 0: nothing written, not even the NUL; buffer may be NULL */
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, 0, "%08x", 1), 8);
    assert_int_equal(small[0], 'Z');
    assert_int_equal(fmt_snprintf(NULL, 0, "%s %s", "ab", "cd"), 5);

    /* exactly fits */
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, sizeof(small), "1234567"), 7);
    assert_string_equal(small, "1234567");
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, sizeof(small), "12345678"), 8);
    assert_string_equal(small, "1234567");

    /* truncation in the middle of padding and a number */
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, 5, "%10d", 42), 10);
    assert_string_equal(small, "    ");
    memset(small, 'Z', sizeof(small));
    assert_int_equal(fmt_snprintf(small, 4, "%llx", 0x123456789abcull), 12);
    assert_string_equal(small, "123");
}

static void test_odd_formats(void **state)
{
    EXPECT_RAW("", "");
    EXPECT("plain text", "plain text");
    /* unknown conversion is echoed, a lone '%' at the end is dropped */
    char fmt[8] = "a%qb";
    memset(buf, 'Z', sizeof(buf));
    fmt_snprintf(buf, sizeof(buf), fmt, 0);
    assert_string_equal(buf, "a%qb");
    strcpy(fmt, "end%");
    assert_int_equal(fmt_snprintf(buf, sizeof(buf), fmt, 0), 3);
    assert_string_equal(buf, "end");
    /* huge width does not overflow anything: output is bounded */
    char small[16];
    assert_int_equal(fmt_snprintf(small, sizeof(small), "%200d", 1), 200);
    assert_int_equal(strlen(small), 15);
}

static void test_vsnprintf(void **state)
{
    assert_int_equal(via_vsnprintf(buf, sizeof(buf), "%s:%u:%x", "f", 3u, 0), 5);
    assert_string_equal(buf, "f:3:0");
    assert_int_equal(via_vsnprintf(buf, sizeof(buf), "cpu%u rip=%016llx", 2u, 0xfff0ull), 25);
    assert_string_equal(buf, "cpu2 rip=000000000000fff0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),    cmocka_unit_test(test_strings_chars),
        cmocka_unit_test(test_pointer),     cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_odd_formats), cmocka_unit_test(test_vsnprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
