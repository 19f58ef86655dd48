/* The EFI text console: formatted output through ConOut (which OVMF and
 * most firmware mirror to the serial port), and the error exit that waits
 * for a key so a person can read the message. */
#include "boot/efi/efi_loader.h"

#include "lib/format.h"

static void put_ascii(const char *s)
{
    CHAR16 out[160];
    size_t n = 0;
    for (; *s; s++) {
        if (n + 3 >= sizeof(out) / sizeof(out[0])) {
            out[n] = 0;
            efi_st->ConOut->OutputString(efi_st->ConOut, out);
            n = 0;
        }
        if (*s == '\n')
            out[n++] = '\r';
        out[n++] = (unsigned char)*s < 0x80 ? (CHAR16)*s : '?';
    }
    out[n] = 0;
    efi_st->ConOut->OutputString(efi_st->ConOut, out);
}

static void vprint(const char *fmt, va_list ap)
{
    char buf[512];
    fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    put_ascii(buf);
}

void efi_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

EFI_STATUS efi_fail(EFI_STATUS st, const char *fmt, ...)
{
    va_list ap;
    put_ascii("bulkhead.efi: error: ");
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
    put_ascii("\nbulkhead.efi: press a key to return to the firmware (10 s)\n");
    efi_st->ConIn->Reset(efi_st->ConIn, FALSE);
    for (int i = 0; i < 100; i++) {
        EFI_INPUT_KEY key;
        if (efi_st->ConIn->ReadKeyStroke(efi_st->ConIn, &key) == EFI_SUCCESS)
            break;
        efi_st->BootServices->Stall(100000);
    }
    return st;
}

void ucs2_to_ascii(const CHAR16 *src, size_t src_chars, char *dst, size_t dst_size)
{
    size_t n = 0;
    for (size_t i = 0; i < src_chars && src[i] && n + 1 < dst_size; i++)
        dst[n++] = src[i] < 0x80 ? (char)src[i] : '?';
    if (dst_size)
        dst[n] = '\0';
}
