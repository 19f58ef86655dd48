/* The HTTP API's bearer token (api_auth.h). */
#include "core/api_auth.h"

#include "lib/sha256.h"

void api_token_hash(const uint8_t *salt, unsigned salt_len, const char *token, size_t n,
                    uint8_t out[32])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, salt, salt_len);
    sha256_update(&s, token, n);
    sha256_final(&s, out);
}

static bool scheme_is_bearer(const char *f)
{
    static const char b[] = "bearer ";
    for (unsigned i = 0; i < 7; i++) {
        char c = f[i] >= 'A' && f[i] <= 'Z' ? (char)(f[i] + 32) : f[i];
        if (c != b[i])
            return false;
    }
    return true;
}

bool api_auth_check(const struct api_token *t, const char *field, size_t n)
{
    if (!t->set || !field || n < 8 || !scheme_is_bearer(field))
        return false;
    const char *tok = field + 7;
    size_t len = n - 7;
    while (len && *tok == ' ')
        tok++, len--;
    if (!len || len > API_TOKEN_MAX)
        return false;
    uint8_t h[32];
    api_token_hash(t->salt, t->salt_len, tok, len, h);
    uint8_t diff = 0; /* every byte compared: no timing from the first difference */
    for (unsigned i = 0; i < 32; i++)
        diff |= (uint8_t)(h[i] ^ t->hash[i]);
    return diff == 0;
}
