/* printf-style formatting into a bounded buffer (no floating point). */
#ifndef LIB_FORMAT_H
#define LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* Supports %d %i %u %x %X %o %p %s %c %% with the flags '-', '0', '+', ' ',
 * width, precision (also '*') and the lengths hh h l ll z. Always
 * terminates when size > 0; returns the length the full output needs. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
