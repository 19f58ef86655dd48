/* Helpers with no libc equivalent; compiled for both kernel and host tests. */
#include "lib/string.h"

#include <stdint.h>

size_t str_copy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int str_to_u64(const char *s, size_t len, unsigned long long *out, int allow_suffix)
{
    unsigned base = 10;
    size_t i = 0;
    unsigned long long v = 0;

    if (len == 0)
        return -1;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    size_t start = i;
    for (; i < len; i++) {
        int d = digit_value(s[i]);
        if (d < 0 || (unsigned)d >= base)
            break;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return -1;
        v = v * base + (unsigned)d;
    }
    if (i == start)
        return -1;
    if (i < len) {
        unsigned shift;
        if (!allow_suffix || i + 1 != len)
            return -1;
        switch (s[i]) {
        case 'K':
        case 'k':
            shift = 10;
            break;
        case 'M':
        case 'm':
            shift = 20;
            break;
        case 'G':
        case 'g':
            shift = 30;
            break;
        default:
            return -1;
        }
        if (v > (UINT64_MAX >> shift))
            return -1;
        v <<= shift;
    }
    *out = v;
    return 0;
}
