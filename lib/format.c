#include "lib/format.h"

#include <stdint.h>

#include "lib/string.h"

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    int left;
    int zero;
    int plus;
    int space;
    int width;
    int precision; /* -1: none */
};

static void put_number(struct out *o, const struct spec *sp, unsigned long long v, int negative,
                       unsigned base, int upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;

    if (v == 0 && sp->precision != 0)
        tmp[n++] = '0';
    while (v) {
        tmp[n++] = digits[v % base];
        v /= base;
    }
    char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    int plen = (int)strlen(prefix);
    int zeros = sp->precision > n ? sp->precision - n : 0;
    int body = n + zeros + plen + (sign ? 1 : 0);
    int pad = sp->width > body ? sp->width - body : 0;

    if (sp->zero && !sp->left && sp->precision < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!sp->left)
        put_repeat(o, ' ', pad);
    if (sign)
        put(o, sign);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    put_repeat(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static void put_string(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    int len = (int)(sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s));
    int pad = sp->width > len ? sp->width - len : 0;
    if (!sp->left)
        put_repeat(o, ' ', pad);
    for (int i = 0; i < len; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static int parse_int(const char **p)
{
    int v = 0;
    while (**p >= '0' && **p <= '9') {
        if (v < 100000)
            v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    const char *p = fmt;

    while (*p) {
        if (*p != '%') {
            put(&o, *p++);
            continue;
        }
        p++;
        struct spec sp = {0, 0, 0, 0, 0, -1};
        for (;; p++) {
            if (*p == '-')
                sp.left = 1;
            else if (*p == '0')
                sp.zero = 1;
            else if (*p == '+')
                sp.plus = 1;
            else if (*p == ' ')
                sp.space = 1;
            else
                break;
        }
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = 1;
                sp.width = -sp.width;
            }
            p++;
        } else {
            sp.width = parse_int(&p);
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                sp.precision = va_arg(ap, int);
                p++;
            } else {
                sp.precision = parse_int(&p);
            }
        }
        int lng = 0; /* -2 hh, -1 h, 1 l, 2 ll, 3 z */
        if (*p == 'h') {
            lng = -1;
            if (*++p == 'h') {
                lng = -2;
                p++;
            }
        } else if (*p == 'l') {
            lng = 1;
            if (*++p == 'l') {
                lng = 2;
                p++;
            }
        } else if (*p == 'z') {
            lng = 3;
            p++;
        }

        char c = *p ? *p++ : 0;
        unsigned long long u;
        long long s;
        switch (c) {
        case 'd':
        case 'i':
            if (lng >= 2)
                s = va_arg(ap, long long);
            else if (lng == 1)
                s = va_arg(ap, long);
            else if (lng == 3)
                s = (long long)va_arg(ap, size_t);
            else
                s = va_arg(ap, int);
            if (lng == -1)
                s = (short)s;
            else if (lng == -2)
                s = (signed char)s;
            put_number(&o, &sp, s < 0 ? 0ULL - (unsigned long long)s : (unsigned long long)s, s < 0,
                       10, 0, "");
            break;
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            if (lng == 2)
                u = va_arg(ap, unsigned long long);
            else if (lng == 1)
                u = va_arg(ap, unsigned long);
            else if (lng == 3)
                u = va_arg(ap, size_t);
            else
                u = va_arg(ap, unsigned int);
            if (lng == -1)
                u = (unsigned short)u;
            else if (lng == -2)
                u = (unsigned char)u;
            put_number(&o, &sp, u, 0, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X', "");
            break;
        case 'p':
            sp.zero = 0;
            put_number(&o, &sp, (uintptr_t)va_arg(ap, void *), 0, 16, 0, "0x");
            break;
        case 's':
            put_string(&o, &sp, va_arg(ap, const char *));
            break;
        case 'c': {
            char ch[2] = {(char)va_arg(ap, int), 0};
            sp.precision = 1;
            if (ch[0] == 0) {
                put(&o, 0);
                break;
            }
            put_string(&o, &sp, ch);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case 0:
            break;
        default:
            put(&o, '%');
            put(&o, c);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
