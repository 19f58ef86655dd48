/* Freestanding string and memory helpers. On the host (unit tests) the C
 * library provides the same names, so these declarations match it. */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);
/* Parses an unsigned number (decimal, 0x hex) with an optional K/M/G
 * suffix when allow_suffix; returns 0 on success, -1 on bad input or overflow. */
int str_to_u64(const char *s, size_t len, unsigned long long *out, int allow_suffix);
/* The value of one hexadecimal digit (either case), or -1. */
int str_hex_digit(char c);
/* n hex digits (n even) into n/2 bytes; 0, or -1 on odd n or a non-digit. */
int str_unhex(const char *s, size_t n, uint8_t *out);

/* "Did you mean ...": the candidate closest to a mistyped word.
 *
 * edit_distance() counts the insertions, deletions, substitutions and swaps of
 * two neighbouring characters that turn a into b, ignoring ASCII case. Words
 * longer than EDIT_DISTANCE_MAX_LEN give EDIT_DISTANCE_TOO_LONG.
 *
 * closest_match() returns the candidate (one of the pointers given) nearest to
 * word, or NULL when none is close enough to be a typo of it: at most 1 edit
 * for words up to 4 characters, 2 up to 8, 3 beyond, and never a candidate
 * that shares nothing with the word. Ties go to the earliest candidate.
 *
 * For candidates kept in a table of structs, offer them one by one:
 *     struct closest_match m;
 *     closest_match_init(&m, word, len);
 *     for (i = 0; i < n; i++) closest_match_offer(&m, table[i].name);
 *     if (m.best) print("did you mean '%s'?", m.best);
 */
#define EDIT_DISTANCE_MAX_LEN  63
#define EDIT_DISTANCE_TOO_LONG 0xffffffffu
unsigned edit_distance(const char *a, size_t alen, const char *b, size_t blen);

struct closest_match {
    const char *word;
    size_t word_len;
    const char *best; /* NULL while nothing is close enough */
    unsigned best_distance;
};
void closest_match_init(struct closest_match *m, const char *word, size_t word_len);
void closest_match_offer(struct closest_match *m, const char *candidate);
const char *closest_match(const char *word, const char *const *candidates, size_t count);

#endif
