/* Serial output on the VM's 16550 (COM1, or `port=0xNNN` from the command
 * line): transmit path and LSR only, the part the hypervisor's vUART
 * emulates. */
#include "tests/guests/lib/guest.h"

#define COM1     0x3f8
#define LSR      (serial_port + 5)
#define LSR_THRE 0x20

static uint16_t serial_port = COM1;

void serial_init(void)
{
    uint32_t p = cmdline_get_u32("port", COM1);
    serial_port = p && p <= 0xfff8 ? (uint16_t)p : COM1;
}

void serial_putc(char c)
{
    /* Bounded: a broken UART model must not hang the guest. */
    for (int i = 0; i < 100000; i++) {
        if (inb(LSR) & LSR_THRE)
            break;
        cpu_relax();
    }
    outb(serial_port, (uint8_t)c);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

static void put_pad(int n, char c)
{
    while (n-- > 0)
        serial_putc(c);
}

/* Unsigned number in base 10 or 16, right-aligned to width. */
static int put_num(uint64_t v, unsigned base, int width, char pad, bool neg)
{
    char buf[24];
    int n = 0, len;

    do {
        uint32_t r;
        v = udiv64(v, base, &r);
        buf[n++] = "0123456789abcdef"[r];
    } while (v);
    len = n + (neg ? 1 : 0);
    if (neg && pad == '0')
        serial_putc('-');
    put_pad(width - len, pad);
    if (neg && pad != '0')
        serial_putc('-');
    while (n)
        serial_putc(buf[--n]);
    return len > width ? len : width;
}

int vprintf(const char *fmt, va_list ap)
{
    int out = 0;

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            out++;
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = longs >= 2 ? va_arg(ap, long long) : (int64_t)va_arg(ap, int);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            out += put_num(mag, 10, width, pad, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs >= 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            out += put_num(v, *fmt == 'x' ? 16 : 10, width, pad, false);
            break;
        }
        case 'p':
            serial_puts("0x");
            out += 2 + put_num((uintptr_t)va_arg(ap, void *), 16, 8, '0', false);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = (int)strlen(s);
            put_pad(width - len, ' ');
            serial_puts(s);
            out += len > width ? len : width;
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            out++;
            break;
        case '%':
            serial_putc('%');
            out++;
            break;
        case '\0':
            return out;
        default:
            serial_putc('%');
            serial_putc(*fmt);
            out += 2;
            break;
        }
    }
    return out;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
