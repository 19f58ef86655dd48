/* SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256
 * (RFC 8018), and the password hash format of the network console:
 *
 *   pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX
 *
 * (`bulkhead-check --hash-password` makes one). Pure code, no allocation:
 * the kernel and the host checker share it. */
#ifndef LIB_SHA256_H
#define LIB_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST 32
#define SHA256_BLOCK  64

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t buf[SHA256_BLOCK];
    unsigned fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST]);
void sha256(const void *data, size_t n, uint8_t out[SHA256_DIGEST]);

void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                 uint8_t out[SHA256_DIGEST]);
/* dklen bytes of derived key into out. */
void pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                   uint32_t iterations, uint8_t *out, size_t dklen);

#define PWHASH_PREFIX         "pbkdf2-sha256$"
#define PWHASH_MIN_ITERATIONS 1000
#define PWHASH_MAX_ITERATIONS 1000000
#define PWHASH_DEFAULT_ITER   4096 /* ~0.3 s per login in Bochs, a few ms on hardware */
#define PWHASH_SALT_MIN       8
#define PWHASH_SALT_MAX       32
#define PWHASH_MAX_LEN        128 /* the longest valid string, with room to spare */

struct pwhash {
    uint32_t iterations;
    uint8_t salt[PWHASH_SALT_MAX];
    unsigned salt_len;
    uint8_t hash[SHA256_DIGEST];
};

/* Parses s[0..n); 0, or -1 with the reason in why. */
int pwhash_parse(const char *s, size_t n, struct pwhash *out, char *why, size_t whylen);
/* True when the password matches (compares in constant time). */
bool pwhash_verify(const struct pwhash *h, const char *pw, size_t pwlen);
/* Formats a hash for this password and salt into buf; the length, or 0 when
 * buf is too small or the parameters are out of range. */
size_t pwhash_format(const char *pw, size_t pwlen, const uint8_t *salt, unsigned salt_len,
                     uint32_t iterations, char *buf, size_t size);

#endif
