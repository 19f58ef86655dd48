/* The network console's telnet filter: IAC sequences stripped, negotiation
 * answered once per option, CR NUL folded, garbage harmless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/telnet.h"

static struct telnet t;
static uint8_t data[4096], reply[3 * 4096];
static size_t dlen, rlen;

static void feed(const void *in, size_t n)
{
    dlen = telnet_filter(&t, in, n, data, reply, &rlen);
}

static void test_plain_bytes_pass(void **state)
{
    telnet_init(&t);
    feed("list\r\n", 6);
    assert_int_equal(dlen, 6);
    assert_memory_equal(data, "list\r\n", 6);
    assert_int_equal(rlen, 0);
}

static void test_negotiation_answered_once(void **state)
{
    telnet_init(&t);
    /* DO ECHO, DO SGA: we said WILL already: no reply. DO TTYPE (24): WONT.
     * WILL NAWS (31): DONT. WILL SGA: DO. */
    static const uint8_t in[] = {255, 253, 1,   255, 253, 3,   255, 253, 24,
                                 'a', 255, 251, 31,  255, 251, 3,   'b'};
    feed(in, sizeof(in));
    assert_int_equal(dlen, 2);
    assert_memory_equal(data, "ab", 2);
    static const uint8_t want[] = {255, 252, 24, 255, 254, 31, 255, 253, 3};
    assert_int_equal(rlen, sizeof(want));
    assert_memory_equal(reply, want, sizeof(want));
    /* The same requests again: no answer, so two peers cannot loop. */
    feed(in, sizeof(in));
    assert_int_equal(rlen, 0);
    assert_int_equal(dlen, 2);
}

static void test_subnegotiation_and_commands_skipped(void **state)
{
    telnet_init(&t);
    /* SB NAWS 0 80 0 24 SE, with an escaped 255 inside; NOP; AYT; IAC IAC. */
    static const uint8_t in[] = {'x', 255, 250, 31,  0,   80,  255, 255, 0,   24,
                                 255, 240, 255, 241, 255, 246, 'y', 255, 255, 'z'};
    feed(in, sizeof(in));
    static const uint8_t want[] = {'x', 'y', 255, 'z'};
    assert_int_equal(dlen, sizeof(want));
    assert_memory_equal(data, want, sizeof(want));
    assert_int_equal(rlen, 0);
}

static void test_split_across_calls(void **state)
{
    telnet_init(&t);
    static const uint8_t in[] = {'a', 255, 253, 24, 'b', '\r', 0, 'c'};
    uint8_t all[16];
    size_t n = 0, r = 0;
    for (size_t i = 0; i < sizeof(in); i++) { /* one byte per segment */
        feed(&in[i], 1);
        memcpy(all + n, data, dlen);
        n += dlen;
        r += rlen;
    }
    assert_int_equal(n, 4);
    assert_memory_equal(all, "ab\rc", 4); /* CR NUL is one CR */
    assert_int_equal(r, 3);
}

/* A stray IAC SB never ends: input flows again after TELNET_SB_MAX bytes. */
static void test_unterminated_subnegotiation(void **state)
{
    static uint8_t in[200];
    telnet_init(&t);
    in[0] = 255;
    in[1] = 250;
    memset(in + 2, 'q', sizeof(in) - 2);
    feed(in, sizeof(in));
    assert_int_equal(dlen, sizeof(in) - 2 - TELNET_SB_MAX - 1);
    feed("ok", 2);
    assert_int_equal(dlen, 2);
    assert_memory_equal(data, "ok", 2);
}

/* Random bytes: the output is never longer than the input and the reply
 * never longer than 3 bytes per input byte (no overflow under ASan). */
static void test_garbage(void **state)
{
    static uint8_t in[4096];
    srand(7);
    for (int round = 0; round < 200; round++) {
        telnet_init(&t);
        for (size_t i = 0; i < sizeof(in); i++)
            in[i] = (uint8_t)(rand() % 8 == 0 ? 255 : rand());
        feed(in, sizeof(in));
        assert_true(dlen <= sizeof(in));
        assert_true(rlen <= 3 * sizeof(in));
        assert_true(rlen <= 3 * 512); /* each option is answered at most once per direction */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_bytes_pass),
        cmocka_unit_test(test_negotiation_answered_once),
        cmocka_unit_test(test_subnegotiation_and_commands_skipped),
        cmocka_unit_test(test_split_across_calls),
        cmocka_unit_test(test_unterminated_subnegotiation),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
