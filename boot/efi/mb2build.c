#include "boot/efi/mb2build.h"

#include "lib/string.h"

void mb2b_init(struct mb2_builder *b, void *buf, uint32_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = MB2_INFO_HDR;
    b->failed = cap < MB2_INFO_HDR + MB2_TAG_HDR;
}

/* Reserves a zeroed tag of `size` bytes (header included) at the next
 * 8-byte boundary; NULL when it does not fit. */
static void *tag(struct mb2_builder *b, uint32_t type, uint32_t size)
{
    uint32_t at = (b->len + MB2_TAG_ALIGN - 1) & ~(uint32_t)(MB2_TAG_ALIGN - 1);
    if (b->failed || size < MB2_TAG_HDR || at > b->cap || size > b->cap - at) {
        b->failed = 1;
        return NULL;
    }
    uint8_t *t = b->buf + at;
    memset(t, 0, size);
    struct mb2_tag h = {type, size};
    memcpy(t, &h, sizeof(h));
    b->len = at + size;
    return t;
}

static int fail(struct mb2_builder *b)
{
    b->failed = 1;
    return -1;
}

int mb2b_string(struct mb2_builder *b, uint32_t type, const char *s)
{
    size_t n = strnlen(s, 1u << 16);
    if (n >= 1u << 16)
        return fail(b);
    uint8_t *t = tag(b, type, MB2_TAG_HDR + (uint32_t)n + 1);
    if (!t)
        return -1;
    memcpy(t + MB2_TAG_HDR, s, n);
    return 0;
}

int mb2b_module(struct mb2_builder *b, uint64_t start, uint64_t end, const char *name)
{
    size_t n = strnlen(name, 4096);
    if (end < start || end > 0xffffffffULL || n >= 4096)
        return fail(b);
    struct mb2_tag_module m = {MB2_TAG_MODULE, 0, (uint32_t)start, (uint32_t)end};
    m.size = (uint32_t)(sizeof(m) + n + 1);
    uint8_t *t = tag(b, MB2_TAG_MODULE, m.size);
    if (!t)
        return -1;
    memcpy(t, &m, sizeof(m));
    memcpy(t + sizeof(m), name, n);
    return 0;
}

int mb2b_efi_mmap(struct mb2_builder *b, const void *descs, uint32_t map_size, uint32_t descr_size,
                  uint32_t descr_version)
{
    if (!descr_size || map_size % descr_size || map_size > (1u << 24))
        return fail(b);
    struct mb2_tag_efi_mmap h = {MB2_TAG_EFI_MMAP, (uint32_t)sizeof(h) + map_size, descr_size,
                                 descr_version};
    uint8_t *t = tag(b, MB2_TAG_EFI_MMAP, h.size);
    if (!t)
        return -1;
    memcpy(t, &h, sizeof(h));
    memcpy(t + sizeof(h), descs, map_size);
    return 0;
}

int mb2b_efi64(struct mb2_builder *b, uint64_t system_table)
{
    struct mb2_tag_efi64 h = {MB2_TAG_EFI64, sizeof(h), system_table};
    uint8_t *t = tag(b, MB2_TAG_EFI64, sizeof(h));
    if (!t)
        return -1;
    memcpy(t, &h, sizeof(h));
    return 0;
}

int mb2b_acpi_rsdp(struct mb2_builder *b, const void *rsdp, uint32_t len)
{
    if (len != MB2_RSDP_V1_LEN && len != MB2_RSDP_V2_LEN)
        return fail(b);
    uint32_t type = len == MB2_RSDP_V1_LEN ? MB2_TAG_ACPI_OLD : MB2_TAG_ACPI_NEW;
    uint8_t *t = tag(b, type, MB2_TAG_HDR + len);
    if (!t)
        return -1;
    memcpy(t + MB2_TAG_HDR, rsdp, len);
    return 0;
}

int mb2b_smbios(struct mb2_builder *b, uint8_t major, uint8_t minor, const void *entry,
                uint32_t len)
{
    if (len > 256)
        return fail(b);
    struct mb2_tag_smbios h = {MB2_TAG_SMBIOS, (uint32_t)sizeof(h) + len, major, minor, {0}};
    uint8_t *t = tag(b, MB2_TAG_SMBIOS, h.size);
    if (!t)
        return -1;
    memcpy(t, &h, sizeof(h));
    memcpy(t + sizeof(h), entry, len);
    return 0;
}

int mb2b_framebuffer(struct mb2_builder *b, const struct mb2_fb_info *fb)
{
    if (!fb->addr || !fb->width || !fb->height || fb->bpp < 8 || fb->bpp > 32 ||
        fb->pitch < (uint64_t)fb->width * fb->bpp / 8)
        return fail(b);
    struct mb2_tag_framebuffer h = {MB2_TAG_FRAMEBUFFER,
                                    (uint32_t)(sizeof(h) + sizeof(fb->rgb)),
                                    fb->addr,
                                    fb->pitch,
                                    fb->width,
                                    fb->height,
                                    fb->bpp,
                                    MB2_FB_TYPE_RGB,
                                    0};
    uint8_t *t = tag(b, MB2_TAG_FRAMEBUFFER, h.size);
    if (!t)
        return -1;
    memcpy(t, &h, sizeof(h));
    memcpy(t + sizeof(h), &fb->rgb, sizeof(fb->rgb));
    return 0;
}

uint32_t mb2b_finish(struct mb2_builder *b)
{
    if (!tag(b, MB2_TAG_END, MB2_TAG_HDR))
        return 0;
    uint32_t hdr[2] = {b->len, 0};
    memcpy(b->buf, hdr, sizeof(hdr));
    return b->len;
}
