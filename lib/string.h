/* Freestanding string and memory helpers. On the host (unit tests) the C
 * library provides the same names, so these declarations match it. */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <stddef.h>

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

#endif
