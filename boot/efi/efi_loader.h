/* bulkhead.efi, the GNU-EFI loader: shared declarations of its parts.
 * Built against gnu-efi's headers and crt0 only (no libefi): firmware calls
 * go straight through the tables with the MS ABI (GNU_EFI_USE_MS_ABI).
 * Owns boot/efi/; may include lib/, boot/ and the pure parsers it reuses
 * (core/config.h for the module list, guest/loader.h for ELF checks). */
#ifndef BOOT_EFI_LOADER_H
#define BOOT_EFI_LOADER_H

#include <efi.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern EFI_SYSTEM_TABLE *efi_st;
extern EFI_HANDLE efi_image;

/* ---- efi_con.c: the EFI console ---- */
void efi_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "bulkhead.efi: error: ...", waits for a key or 10 s, and returns
 * the status efi_main gives back to the firmware. */
EFI_STATUS efi_fail(EFI_STATUS st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* UCS-2 -> ASCII (non-ASCII becomes '?'); always terminates. */
void ucs2_to_ascii(const CHAR16 *src, size_t src_chars, char *dst, size_t dst_size);

/* ---- efi_fs.c: files from the loader's own directory ---- */
struct efi_dir {
    EFI_FILE_HANDLE handle;
    char path[256]; /* for messages, e.g. \EFI\bulkhead */
};
/* Opens the directory the image was loaded from; falls back to
 * \EFI\bulkhead when bulkhead.cfg is not beside the image. */
EFI_STATUS efi_open_home(struct efi_dir *dir);
/* Reads a whole file into fresh pages below 4 GiB (EfiLoaderData).
 * Returns EFI_SUCCESS, or an error with a message in err. */
EFI_STATUS efi_read_file(struct efi_dir *dir, const char *name, uint64_t max_size, uint64_t *addr,
                         uint64_t *size, char *err, size_t errlen);

/* ---- handoff.asm: leave long mode and enter the hypervisor ---- */
extern const uint8_t handoff_start[], handoff_end[], handoff_params[];
/* Filled in the copy below 4 GiB; all addresses below 4 GiB. The image is
 * staged at src and copied to dst with paging off. */
struct handoff_params {
    uint32_t entry, mbi, dst, src, len;
};
/* The copy at `base` is called as handoff(base): it never returns. */
typedef void (*handoff_fn)(uint64_t base);

#endif
