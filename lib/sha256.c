#include "lib/sha256.h"

#include "lib/format.h"
#include "lib/string.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof(iv));
    s->bytes = 0;
    s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->bytes += n;
    while (n) {
        size_t take = SHA256_BLOCK - s->fill;
        if (take > n)
            take = n;
        memcpy(s->buf + s->fill, p, take);
        s->fill += (unsigned)take;
        p += take;
        n -= take;
        if (s->fill == SHA256_BLOCK) {
            compress(s->h, s->buf);
            s->fill = 0;
        }
    }
}

void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST])
{
    uint64_t bits = s->bytes * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    sha256_update(s, &pad, 1);
    while (s->fill != 56)
        sha256_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

void sha256(const void *data, size_t n, uint8_t out[SHA256_DIGEST])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, n);
    sha256_final(&s, out);
}

/* The inner and outer states after the padded key: PBKDF2 reuses them for
 * every iteration instead of hashing the key again. */
struct hmac_key {
    struct sha256 inner, outer;
};

static void hmac_key_init(struct hmac_key *k, const void *key, size_t keylen)
{
    uint8_t block[SHA256_BLOCK] = {0}, pad[SHA256_BLOCK];
    if (keylen > SHA256_BLOCK)
        sha256(key, keylen, block);
    else
        memcpy(block, key, keylen);
    for (int i = 0; i < SHA256_BLOCK; i++)
        pad[i] = block[i] ^ 0x36;
    sha256_init(&k->inner);
    sha256_update(&k->inner, pad, SHA256_BLOCK);
    for (int i = 0; i < SHA256_BLOCK; i++)
        pad[i] = block[i] ^ 0x5c;
    sha256_init(&k->outer);
    sha256_update(&k->outer, pad, SHA256_BLOCK);
}

static void hmac_with(const struct hmac_key *k, const void *msg, size_t n,
                      uint8_t out[SHA256_DIGEST])
{
    struct sha256 s = k->inner;
    uint8_t ih[SHA256_DIGEST];
    sha256_update(&s, msg, n);
    sha256_final(&s, ih);
    s = k->outer;
    sha256_update(&s, ih, sizeof(ih));
    sha256_final(&s, out);
}

void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                 uint8_t out[SHA256_DIGEST])
{
    struct hmac_key k;
    hmac_key_init(&k, key, keylen);
    hmac_with(&k, msg, n, out);
}

void pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                   uint32_t iterations, uint8_t *out, size_t dklen)
{
    struct hmac_key k;
    hmac_key_init(&k, pw, pwlen);
    for (uint32_t blk = 1; dklen; blk++) {
        uint8_t u[SHA256_DIGEST], t[SHA256_DIGEST],
            be[4] = {(uint8_t)(blk >> 24), (uint8_t)(blk >> 16), (uint8_t)(blk >> 8), (uint8_t)blk};
        struct sha256 s = k.inner;
        uint8_t ih[SHA256_DIGEST];
        sha256_update(&s, salt, saltlen);
        sha256_update(&s, be, 4);
        sha256_final(&s, ih);
        s = k.outer;
        sha256_update(&s, ih, sizeof(ih));
        sha256_final(&s, u);
        memcpy(t, u, sizeof(t));
        for (uint32_t i = 1; i < iterations; i++) {
            hmac_with(&k, u, sizeof(u), u);
            for (int j = 0; j < SHA256_DIGEST; j++)
                t[j] ^= u[j];
        }
        size_t take = dklen < SHA256_DIGEST ? dklen : SHA256_DIGEST;
        memcpy(out, t, take);
        out += take;
        dklen -= take;
    }
}

static const char *field_end(const char *s, const char *end)
{
    while (s < end && *s != '$')
        s++;
    return s;
}

int pwhash_parse(const char *s, size_t n, struct pwhash *out, char *why, size_t whylen)
{
    const size_t plen = sizeof(PWHASH_PREFIX) - 1;
    const char *end = s + n, *p, *q;
    uint64_t iter = 0;
    memset(out, 0, sizeof(*out));
    if (n < plen || memcmp(s, PWHASH_PREFIX, plen)) {
        fmt_snprintf(why, whylen,
                     "expected a hash starting with '%s' (bulkhead-check "
                     "--hash-password makes one)",
                     PWHASH_PREFIX);
        return -1;
    }
    p = s + plen;
    q = field_end(p, end);
    for (const char *c = p; c < q; c++) {
        if (*c < '0' || *c > '9' || iter > PWHASH_MAX_ITERATIONS) {
            iter = 0;
            break;
        }
        iter = iter * 10 + (uint64_t)(*c - '0');
    }
    if (q == p || q >= end || iter < PWHASH_MIN_ITERATIONS || iter > PWHASH_MAX_ITERATIONS) {
        fmt_snprintf(why, whylen, "iterations: expected a number from %u to %u",
                     PWHASH_MIN_ITERATIONS, PWHASH_MAX_ITERATIONS);
        return -1;
    }
    out->iterations = (uint32_t)iter;
    p = q + 1;
    q = field_end(p, end);
    size_t slen = (size_t)(q - p);
    if (q >= end || slen % 2 || slen / 2 < PWHASH_SALT_MIN || slen / 2 > PWHASH_SALT_MAX ||
        str_unhex(p, slen, out->salt)) {
        fmt_snprintf(why, whylen, "salt: expected %u to %u bytes in hex", PWHASH_SALT_MIN,
                     PWHASH_SALT_MAX);
        return -1;
    }
    out->salt_len = (unsigned)(slen / 2);
    p = q + 1;
    if ((size_t)(end - p) != 2 * SHA256_DIGEST || str_unhex(p, 2 * SHA256_DIGEST, out->hash)) {
        fmt_snprintf(why, whylen, "hash: expected %u hex digits at the end", 2 * SHA256_DIGEST);
        return -1;
    }
    return 0;
}

bool pwhash_verify(const struct pwhash *h, const char *pw, size_t pwlen)
{
    uint8_t got[SHA256_DIGEST], diff = 0;
    pbkdf2_sha256(pw, pwlen, h->salt, h->salt_len, h->iterations, got, sizeof(got));
    for (int i = 0; i < SHA256_DIGEST; i++)
        diff |= got[i] ^ h->hash[i];
    return diff == 0;
}

static char *put_hex(char *o, const uint8_t *b, unsigned n)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        *o++ = digits[b[i] >> 4];
        *o++ = digits[b[i] & 15];
    }
    return o;
}

size_t pwhash_format(const char *pw, size_t pwlen, const uint8_t *salt, unsigned salt_len,
                     uint32_t iterations, char *buf, size_t size)
{
    uint8_t dk[SHA256_DIGEST];
    if (salt_len < PWHASH_SALT_MIN || salt_len > PWHASH_SALT_MAX ||
        iterations < PWHASH_MIN_ITERATIONS || iterations > PWHASH_MAX_ITERATIONS)
        return 0;
    int n = fmt_snprintf(buf, size, "%s%u$", PWHASH_PREFIX, (unsigned)iterations);
    if (n < 0 || (size_t)n + 2 * salt_len + 1 + 2 * SHA256_DIGEST + 1 > size)
        return 0;
    pbkdf2_sha256(pw, pwlen, salt, salt_len, iterations, dk, sizeof(dk));
    char *o = put_hex(buf + n, salt, salt_len);
    *o++ = '$';
    o = put_hex(o, dk, SHA256_DIGEST);
    *o = '\0';
    return (size_t)(o - buf);
}
