/* Freestanding helpers for the test guests. */
#include "tests/guests/lib/guest.h"

/* GCC may emit calls to these for struct copies and zeroing. */
void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

/* Two DIVLs: high half first, its remainder feeds the low half, so neither
 * quotient can overflow 32 bits. */
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint32_t qhi = 0, qlo, r = 0;

    if (d == 0) {
        if (rem)
            *rem = 0;
        return 0;
    }
    if (hi >= d) {
        qhi = hi / d;
        hi = hi % d;
    }
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
    if (rem)
        *rem = r;
    return ((uint64_t)qhi << 32) | qlo;
}

bool parse_u32(const char *s, uint32_t *out)
{
    uint32_t base = 10, v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        uint32_t digit;
        if (*s >= '0' && *s <= '9')
            digit = (uint32_t)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            digit = (uint32_t)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            digit = (uint32_t)(*s - 'A' + 10);
        else if (*s == '_')
            continue; /* allow 20_000_000 */
        else
            return false;
        if (v > (0xffffffffu - digit) / base)
            return false;
        v = v * base + digit;
    }
    *out = v;
    return true;
}

void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

void guest_exit(uint32_t code)
{
    hc_stop_self(code);
    printf("stop-self failed\n");
    halt_forever();
}

/* Called from entry.S with the boot registers; lib/mb2.c parses first. */
void mb2_init(uint32_t magic, uint32_t mbi);
void guest_lib_start(uint32_t magic, uint32_t mbi);

void guest_lib_start(uint32_t magic, uint32_t mbi)
{
    mb2_init(magic, mbi);
    serial_init();
    guest_main(magic, mbi);
    halt_forever();
}
