/* SHA-256 (FIPS 180-4 examples), HMAC-SHA256 (RFC 4231), PBKDF2-HMAC-SHA256
 * (the RFC 7914 / widely published vectors) and the password hash format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/sha256.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void check_digest(const uint8_t *d, size_t n, const char *want)
{
    char got[2 * 64 + 1];
    hex(d, n, got);
    assert_string_equal(got, want);
}

static void test_sha256_vectors(void **state)
{
    uint8_t d[SHA256_DIGEST];
    sha256("", 0, d);
    check_digest(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256("abc", 3, d);
    check_digest(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256(m, strlen(m), d);
    check_digest(d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* One million 'a' fed in uneven pieces: the block boundary handling. */
static void test_sha256_million_a(void **state)
{
    static char a[1024];
    struct sha256 s;
    uint8_t d[SHA256_DIGEST];
    memset(a, 'a', sizeof(a));
    sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t n = step < left ? step : left;
        sha256_update(&s, a, n);
        left -= n;
        step = step % 997 + 7;
    }
    sha256_final(&s, d);
    check_digest(d, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hmac_rfc4231(void **state)
{
    uint8_t key[131], d[SHA256_DIGEST];
    memset(key, 0x0b, 20);
    hmac_sha256(key, 20, "Hi There", 8, d);
    check_digest(d, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    check_digest(d, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, sizeof(key)); /* test case 6: a key longer than the block */
    const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_sha256(key, sizeof(key), m, strlen(m), d);
    check_digest(d, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_pbkdf2_vectors(void **state)
{
    uint8_t d[40];
    pbkdf2_sha256("password", 8, "salt", 4, 1, d, 32);
    check_digest(d, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
    pbkdf2_sha256("password", 8, "salt", 4, 4096, d, 32);
    check_digest(d, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
    /* Two output blocks, the second cut. */
    pbkdf2_sha256("passwordPASSWORDpassword", 24, "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096,
                  d, 40);
    check_digest(
        d, 40, "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9");
}

#define GOOD                                                                                       \
    "pbkdf2-sha256$1000$0001020304050607$"                                                         \
    "a4b73ecf7748f653cd88240e714eab0699f18624780ce481c2376d64872d936e"

static void test_pwhash_roundtrip(void **state)
{
    const uint8_t salt[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    char buf[PWHASH_MAX_LEN], why[128];
    struct pwhash h;
    size_t n = pwhash_format("secret", 6, salt, 8, 1000, buf, sizeof(buf));
    assert_int_equal(n, strlen(GOOD));
    assert_string_equal(buf, GOOD); /* the same value Python's hashlib.pbkdf2_hmac gives */
    assert_int_equal(pwhash_parse(buf, n, &h, why, sizeof(why)), 0);
    assert_int_equal(h.iterations, 1000);
    assert_int_equal(h.salt_len, 8);
    assert_true(pwhash_verify(&h, "secret", 6));
    assert_false(pwhash_verify(&h, "secreT", 6));
    assert_false(pwhash_verify(&h, "secret", 5));
    assert_false(pwhash_verify(&h, "", 0));
    /* Out-of-range parameters are refused when formatting. */
    assert_int_equal(pwhash_format("x", 1, salt, 4, 1000, buf, sizeof(buf)), 0);
    assert_int_equal(pwhash_format("x", 1, salt, 8, 10, buf, sizeof(buf)), 0);
    assert_int_equal(pwhash_format("x", 1, salt, 8, 1000, buf, 20), 0);
}

static void bad(const char *s, const char *why_part)
{
    struct pwhash h;
    char why[160] = "";
    if (pwhash_parse(s, strlen(s), &h, why, sizeof(why)) == 0)
        fail_msg("'%s' was accepted", s);
    if (!strstr(why, why_part))
        fail_msg("'%s': reason '%s' lacks '%s'", s, why, why_part);
}

static void test_pwhash_bad(void **state)
{
    bad("", "pbkdf2-sha256$");
    bad("sha256$1000$00$00", "pbkdf2-sha256$");
    bad("pbkdf2-sha256$", "iterations");
    bad("pbkdf2-sha256$999$0001020304050607$00", "iterations");
    bad("pbkdf2-sha256$99999999999999999999999$0001020304050607$00", "iterations");
    bad("pbkdf2-sha256$1x00$0001020304050607$00", "iterations");
    bad("pbkdf2-sha256$1000$00010203$" /* salt too short */
        "a4b73ecf7748f653cd88240e714eab0699f18624780ce481c2376d64872d936e",
        "salt");
    bad("pbkdf2-sha256$1000$000102030405060g$"
        "a4b73ecf7748f653cd88240e714eab0699f18624780ce481c2376d64872d936e",
        "salt");
    bad("pbkdf2-sha256$1000$0001020304050607", "salt");
    bad("pbkdf2-sha256$1000$0001020304050607$a4b7", "hash");
    bad(GOOD "00", "hash");
    bad("pbkdf2-sha256$1000$0001020304050607$"
        "a4b73ecf7748f653cd88240e714eab0699f18624780ce481c2376d64872d936z",
        "hash");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),   cmocka_unit_test(test_sha256_million_a),
        cmocka_unit_test(test_hmac_rfc4231),     cmocka_unit_test(test_pbkdf2_vectors),
        cmocka_unit_test(test_pwhash_roundtrip), cmocka_unit_test(test_pwhash_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
