/* The HTTP API's bearer token: the configuration holds
 * net.api_token = sha256$SALT$HASH with HASH = SHA-256(SALT || token)
 * (bulkhead-check --hash-token); a request's "Authorization: Bearer TOKEN"
 * is hashed the same way and compared in constant time. Pure code. */
#ifndef CORE_API_AUTH_H
#define CORE_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_TOKEN_MAX 256 /* longer tokens are refused unhashed */

struct api_token {
    bool set; /* false: no token configured, every request is refused */
    uint8_t salt[32];
    unsigned salt_len;
    uint8_t hash[32];
};

/* SHA-256(salt || token) into out. */
void api_token_hash(const uint8_t *salt, unsigned salt_len, const char *token, size_t n,
                    uint8_t out[32]);
/* True when the Authorization field's value (NULL: absent) is
 * "Bearer TOKEN" (scheme in any case) with the configured token. */
bool api_auth_check(const struct api_token *t, const char *field, size_t n);

#endif
