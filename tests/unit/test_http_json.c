/* The API's JSON writer (core/api_json.c): structure, commas, escaping of
 * untrusted text (quotes, control bytes, HTML metacharacters, invalid
 * UTF-8), overflow; and the Prometheus label escaping (core/metrics_text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/api_json.h"
#include "core/metrics.h"

static char buf[1024];
static struct json j;

static const char *text(void)
{
    buf[j.len] = '\0';
    return buf;
}

static void test_document(void **state)
{
    json_init(&j, buf, sizeof(buf) - 1);
    json_obj_begin(&j);
    json_kv_str(&j, "name", "echo");
    json_kv_u64(&j, "id", 18446744073709551615ull);
    json_key(&j, "cpus");
    json_arr_begin(&j);
    json_u64(&j, 0);
    json_u64(&j, 1);
    json_arr_end(&j);
    json_key(&j, "ok");
    json_bool(&j, true);
    json_key(&j, "no");
    json_null(&j);
    json_key(&j, "empty");
    json_arr_begin(&j);
    json_arr_end(&j);
    json_obj_end(&j);
    assert_true(json_ok(&j));
    assert_string_equal(text(), "{\"name\":\"echo\",\"id\":18446744073709551615,\"cpus\":[0,1],"
                                "\"ok\":true,\"no\":null,\"empty\":[]}");
}

static void test_escaping(void **state)
{
    json_init(&j, buf, sizeof(buf) - 1);
    json_str(&j, "a\"b\\c\n\r\t\x01\x1f\x7f<script>&");
    assert_true(json_ok(&j));
    assert_string_equal(text(), "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\\u007f\\u003cscript\\u003e"
                                "\\u0026\"");
}

static void test_utf8(void **state)
{
    json_init(&j, buf, sizeof(buf) - 1);
    /* Valid: é (2 bytes), € (3), 😀 (4) pass through. */
    json_str(&j, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_string_equal(text(), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    /* Invalid: a lone continuation byte, an overlong '/', a surrogate, a
     * truncated sequence at the end, 0xff: each bad byte is U+FFFD. */
    json_init(&j, buf, sizeof(buf) - 1);
    json_str(&j, "\x80x\xc0\xafy\xed\xa0\x80z\xff\xe2\x82");
    assert_string_equal(text(), "\"\\ufffdx\\ufffd\\ufffdy\\ufffd\\ufffd\\ufffdz\\ufffd\\ufffd"
                                "\\ufffd\"");
}

static void test_strn_with_nul(void **state)
{
    json_init(&j, buf, sizeof(buf) - 1);
    json_strn(&j, "a\0b", 3);
    assert_string_equal(text(), "\"a\\u0000b\"");
}

static void test_overflow(void **state)
{
    char small[8];
    json_init(&j, small, sizeof(small));
    json_str(&j, "0123456789");
    assert_true(j.overflow);
    assert_false(json_ok(&j));
    assert_true(j.len <= sizeof(small));
}

static void test_misuse_detected(void **state)
{
    json_init(&j, buf, sizeof(buf) - 1);
    json_obj_begin(&j);
    assert_false(json_ok(&j)); /* still open */
    json_key(&j, "k");
    json_obj_end(&j); /* a key without a value */
    assert_false(json_ok(&j));
    json_init(&j, buf, sizeof(buf) - 1);
    json_key(&j, "k"); /* outside an object */
    assert_false(json_ok(&j));
    json_init(&j, buf, sizeof(buf) - 1);
    for (unsigned i = 0; i < JSON_MAX_DEPTH + 2; i++)
        json_arr_begin(&j);
    assert_true(j.bad);
}

static void test_random_strings_stay_valid(void **state)
{
    static char big[8 * 256 + 8];
    char in[256];
    srand(3);
    for (unsigned round = 0; round < 2000; round++) {
        size_t n = (size_t)rand() % sizeof(in);
        for (size_t i = 0; i < n; i++)
            in[i] = (char)rand();
        json_init(&j, big, sizeof(big) - 1);
        json_strn(&j, in, n);
        assert_true(json_ok(&j));
        /* Never a raw control byte, quote or backslash inside the string. */
        for (size_t i = 1; i + 1 < j.len; i++) {
            unsigned char c = (unsigned char)big[i];
            assert_true(c >= 0x20 && c != 0x7f && c != '<' && c != '>' && c != '&');
            if (c == '"')
                assert_int_equal(big[i - 1], '\\');
        }
    }
}

static void test_prometheus_labels(void **state)
{
    char out[32];
    metrics_label_escape("a\"b\\c\nd", out, sizeof(out));
    assert_string_equal(out, "a\\\"b\\\\c\\nd");
    metrics_label_escape("\"\"\"\"", out, 6); /* cut between escapes, never inside one */
    assert_string_equal(out, "\\\"\\\"");
    metrics_label_escape("plain", out, 3);
    assert_string_equal(out, "pl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_strn_with_nul),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_misuse_detected),
        cmocka_unit_test(test_random_strings_stay_valid),
        cmocka_unit_test(test_prometheus_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
