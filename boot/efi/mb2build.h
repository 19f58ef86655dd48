/* Writes a multiboot2 boot information structure into a caller's buffer
 * (the EFI loader builds the same information GRUB would). Pure code: no
 * allocation, shared with the host unit tests, which parse the result with
 * boot/mb2info.c. Every add function returns 0, or -1 when the buffer is
 * full or an argument cannot be encoded (the builder then stays failed). */
#ifndef BOOT_MB2BUILD_H
#define BOOT_MB2BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "boot/mb2.h"

struct mb2_builder {
    uint8_t *buf;
    uint32_t cap, len;
    int failed;
};

struct mb2_fb_info {
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp;
    struct mb2_fb_rgb rgb;
};

/* buf must be 8-byte aligned. */
void mb2b_init(struct mb2_builder *b, void *buf, uint32_t cap);
int mb2b_string(struct mb2_builder *b, uint32_t type, const char *s); /* tags 1, 2 */
/* A module below 4 GiB (the tag's fields are 32-bit). */
int mb2b_module(struct mb2_builder *b, uint64_t start, uint64_t end, const char *name);
int mb2b_efi_mmap(struct mb2_builder *b, const void *descs, uint32_t map_size, uint32_t descr_size,
                  uint32_t descr_version);
int mb2b_efi64(struct mb2_builder *b, uint64_t system_table);
/* ACPI 1.0 RSDP (20 bytes, tag 14) or 2.0+ (36 bytes, tag 15). */
int mb2b_acpi_rsdp(struct mb2_builder *b, const void *rsdp, uint32_t len);
int mb2b_smbios(struct mb2_builder *b, uint8_t major, uint8_t minor, const void *entry,
                uint32_t len);
int mb2b_framebuffer(struct mb2_builder *b, const struct mb2_fb_info *fb);
/* Appends the end tag and the header; returns the total size, 0 on failure. */
uint32_t mb2b_finish(struct mb2_builder *b);

#endif
