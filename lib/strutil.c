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

int str_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int str_unhex(const char *s, size_t n, uint8_t *out)
{
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = str_hex_digit(s[i]), lo = str_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
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
        int d = str_hex_digit(s[i]);
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

static char fold(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Optimal string alignment distance (insert, delete, substitute, swap two
 * neighbours), case-insensitive, with three rolling rows on the stack. */
unsigned edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned rows[3][EDIT_DISTANCE_MAX_LEN + 1];
    unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    if (alen > EDIT_DISTANCE_MAX_LEN || blen > EDIT_DISTANCE_MAX_LEN)
        return EDIT_DISTANCE_TOO_LONG;
    for (size_t j = 0; j <= blen; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= alen; i++) {
        cur[0] = (unsigned)i;
        for (size_t j = 1; j <= blen; j++) {
            unsigned cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
            unsigned best = prev[j] + 1; /* delete from a */
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1; /* insert into a */
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost; /* substitute */
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1]) && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1; /* swap two neighbours */
            cur[j] = best;
        }
        unsigned *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[blen];
}

/* How many edits still count as a typo rather than a different word: one for
 * short words, two from 5 characters, three from 9. */
static unsigned typo_budget(size_t len)
{
    if (len <= 4)
        return 1;
    if (len <= 8)
        return 2;
    return 3;
}

void closest_match_init(struct closest_match *m, const char *word, size_t word_len)
{
    m->word = word;
    m->word_len = word_len;
    m->best = NULL;
    m->best_distance = typo_budget(word_len) + 1;
}

void closest_match_offer(struct closest_match *m, const char *candidate)
{
    if (!candidate || m->word_len == 0)
        return;
    size_t len = strlen(candidate);
    unsigned d = edit_distance(m->word, m->word_len, candidate, len);
    /* Every character replaced is no match at all ("xy" is not "ls"). */
    if (d >= len && d >= m->word_len)
        return;
    if (d < m->best_distance) {
        m->best = candidate;
        m->best_distance = d;
    }
}

const char *closest_match(const char *word, const char *const *candidates, size_t count)
{
    struct closest_match m;

    closest_match_init(&m, word, strlen(word));
    for (size_t i = 0; i < count; i++)
        closest_match_offer(&m, candidates[i]);
    return m.best;
}
