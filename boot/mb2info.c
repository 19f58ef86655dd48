#include "boot/mb2info.h"

#include <stdarg.h>

#include "lib/format.h"
#include "lib/string.h"

#define TAG_HDR       MB2_TAG_HDR
#define MMAP_HDR      MB2_MMAP_HDR
#define MMAP_ENTRY    MB2_MMAP_ENTRY
#define EFI_DESC_MIN  40 /* EFI_MEMORY_DESCRIPTOR as of UEFI 2.x */
#define ENTRY_MAX     4096
#define RSDP_V1_LEN   MB2_RSDP_V1_LEN
#define RSDP_V2_LEN   MB2_RSDP_V2_LEN
#define EFI_PAGE_SIZE 4096

/* EFI_MEMORY_TYPE values (UEFI spec, table "Memory Type Usage"). */
enum {
    EfiReservedMemoryType = 0,
    EfiLoaderCode = 1,
    EfiLoaderData = 2,
    EfiBootServicesCode = 3,
    EfiBootServicesData = 4,
    EfiRuntimeServicesCode = 5,
    EfiRuntimeServicesData = 6,
    EfiConventionalMemory = 7,
    EfiUnusableMemory = 8,
    EfiACPIReclaimMemory = 9,
    EfiACPIMemoryNVS = 10,
};

struct parser {
    const uint8_t *p;
    uint32_t total;
    struct boot_info *out;
    char *err;
    size_t errlen;
};

/* The MBI is 8-aligned, but memcpy keeps UBSan quiet about unaligned test
 * buffers and costs nothing for constant sizes. */
static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        int n = fmt_snprintf(ps->err, ps->errlen, "multiboot2: ");
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            fmt_vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* A string starting at byte `at` of the tag must end with a NUL inside it. */
static const char *tag_string(struct parser *ps, uint32_t off, uint32_t size, uint32_t at,
                              const char *what)
{
    const char *s = (const char *)ps->p + off + at;
    if (size <= at || strnlen(s, size - at) == size - at) {
        fail(ps, "tag %u at offset 0x%x: %s is not NUL-terminated within the tag (size 0x%x)",
             rd32(ps->p + off), off, what, size);
        return NULL;
    }
    return s;
}

static int add_region(struct parser *ps, uint64_t base, uint64_t len, uint32_t type, uint32_t tag,
                      unsigned idx)
{
    struct boot_info *o = ps->out;

    if (len == 0)
        return 0;
    if (len > UINT64_MAX - base)
        return fail(ps, "tag %u entry %u: region 0x%llx + 0x%llx wraps past 2^64", tag, idx,
                    (unsigned long long)base, (unsigned long long)len);
    /* EFI maps are long but mostly runs of one type: merge them now so
     * MB2_MAX_REGIONS is enough. */
    if (o->nr_mmap) {
        struct mem_region *prev = &o->mmap[o->nr_mmap - 1];
        if (prev->type == type && prev->base + prev->len == base) {
            prev->len += len;
            return 0;
        }
    }
    if (o->nr_mmap >= MB2_MAX_REGIONS)
        return fail(ps, "tag %u: more than %u memory regions", tag, MB2_MAX_REGIONS);
    o->mmap[o->nr_mmap++] = (struct mem_region){base, len, type};
    return 0;
}

static uint32_t mb2_mem_type(uint32_t t)
{
    switch (t) {
    case MEM_USABLE:
    case MEM_ACPI_RECLAIM:
    case MEM_ACPI_NVS:
    case MEM_BAD:
        return t;
    default:
        return MEM_RESERVED;
    }
}

static uint32_t efi_mem_type(uint32_t t, int bs_active)
{
    switch (t) {
    case EfiBootServicesCode:
    case EfiBootServicesData:
        return bs_active ? MEM_RESERVED : MEM_USABLE;
    case EfiLoaderCode:
    case EfiLoaderData:
    case EfiConventionalMemory:
        return MEM_USABLE;
    case EfiACPIReclaimMemory:
        return MEM_ACPI_RECLAIM;
    case EfiACPIMemoryNVS:
        return MEM_ACPI_NVS;
    case EfiUnusableMemory:
        return MEM_BAD;
    default:
        return MEM_RESERVED;
    }
}

/* Tags 6 and 17 share their header layout. Validates always; stores the
 * regions in out->mmap only when store is set. Trailing bytes shorter than
 * one entry are ignored (never read). */
static int parse_map(struct parser *ps, uint32_t off, uint32_t size, int store)
{
    const uint8_t *t = ps->p + off;
    uint32_t type = rd32(t);
    int efi = type == MB2_TAG_EFI_MMAP;
    uint32_t esize = rd32(t + 8);
    uint32_t emin = efi ? EFI_DESC_MIN : MMAP_ENTRY;

    if (esize < emin || esize % 8 || esize > ENTRY_MAX)
        return fail(ps,
                    "tag %u at offset 0x%x: %s size %u is invalid (must be a multiple of 8, "
                    "%u..%u)",
                    type, off, efi ? "descriptor" : "entry", esize, emin, ENTRY_MAX);

    unsigned count = (size - MMAP_HDR) / esize;
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *e = t + MMAP_HDR + (size_t)i * esize;
        uint64_t base, len;
        uint32_t mt;
        if (efi) {
            uint64_t pages = rd64(e + 24);
            base = rd64(e + 8);
            if (pages > UINT64_MAX / EFI_PAGE_SIZE)
                return fail(ps, "tag 17 descriptor %u: NumberOfPages 0x%llx is too large", i,
                            (unsigned long long)pages);
            len = pages * EFI_PAGE_SIZE;
            mt = efi_mem_type(rd32(e), ps->out->efi_boot_services_active);
        } else {
            base = rd64(e);
            len = rd64(e + 8);
            mt = mb2_mem_type(rd32(e + 16));
        }
        if (!store) {
            if (len > UINT64_MAX - base)
                return fail(ps, "tag %u entry %u: region 0x%llx + 0x%llx wraps past 2^64", type, i,
                            (unsigned long long)base, (unsigned long long)len);
            continue;
        }
        if (add_region(ps, base, len, mt, type, i))
            return -1;
    }
    return 0;
}

static int parse_module(struct parser *ps, uint32_t off, uint32_t size)
{
    struct boot_info *o = ps->out;
    const uint8_t *t = ps->p + off;
    uint32_t start = rd32(t + 8), end = rd32(t + 12);
    const char *name = tag_string(ps, off, size, 16, "module name");

    if (!name)
        return -1;
    /* An empty file gives start == end (GRUB: both 0). That is the user's
     * mistake, not a broken loader: keep the module, empty, for its users
     * to report by name. */
    if (start > end)
        return fail(ps, "module %u (\"%s\") at offset 0x%x: start 0x%x is above end 0x%x",
                    o->nr_modules, name, off, start, end);
    if (o->nr_modules >= MB2_MAX_MODULES)
        return fail(ps, "more than %u modules", MB2_MAX_MODULES);
    o->modules[o->nr_modules++] = (struct boot_module){start, end, name};
    return 0;
}

/* Smallest valid size per tag type; 0 = only the tag header. */
static uint32_t min_tag_size(uint32_t type)
{
    switch (type) {
    case MB2_TAG_MODULE:
        return 16;
    case MB2_TAG_MMAP:
    case MB2_TAG_EFI_MMAP:
        return MMAP_HDR;
    case MB2_TAG_EFI64:
        return TAG_HDR + 8;
    case MB2_TAG_FRAMEBUFFER:
        return sizeof(struct mb2_tag_framebuffer);
    case MB2_TAG_ACPI_OLD:
        return TAG_HDR + RSDP_V1_LEN;
    case MB2_TAG_ACPI_NEW:
        return TAG_HDR + RSDP_V2_LEN;
    default:
        return TAG_HDR;
    }
}

static int parse_tag(struct parser *ps, uint32_t off, uint32_t type, uint32_t size)
{
    struct boot_info *o = ps->out;
    const uint8_t *t = ps->p + off;

    switch (type) {
    case MB2_TAG_CMDLINE:
        o->cmdline = tag_string(ps, off, size, TAG_HDR, "command line");
        return o->cmdline ? 0 : -1;
    case MB2_TAG_BOOT_LOADER_NAME:
        o->loader_name = tag_string(ps, off, size, TAG_HDR, "boot loader name");
        return o->loader_name ? 0 : -1;
    case MB2_TAG_MODULE:
        return parse_module(ps, off, size);
    case MB2_TAG_MMAP:
    case MB2_TAG_EFI_MMAP:
        return parse_map(ps, off, size, 0);
    case MB2_TAG_EFI64:
        o->efi_system_table = rd64(t + 8);
        return 0;
    case MB2_TAG_ACPI_OLD:
        if (o->rsdp_len == RSDP_V2_LEN)
            return 0; /* tag 15 wins whatever the order */
        memcpy(o->rsdp, t + TAG_HDR, RSDP_V1_LEN);
        o->rsdp_len = RSDP_V1_LEN;
        return 0;
    case MB2_TAG_ACPI_NEW:
        memcpy(o->rsdp, t + TAG_HDR, RSDP_V2_LEN);
        o->rsdp_len = RSDP_V2_LEN;
        return 0;
    case MB2_TAG_EFI_BS:
        o->efi_boot_services_active = 1;
        return 0;
    case MB2_TAG_FRAMEBUFFER:
        memcpy(&o->fb, t, sizeof(o->fb));
        if (o->fb.fb_type != MB2_FB_TYPE_RGB || size < sizeof(o->fb) + sizeof(o->fb_rgb)) {
            o->fb.fb_type = 0xff; /* not one we can draw on */
            return 0;
        }
        memcpy(&o->fb_rgb, t + sizeof(o->fb), sizeof(o->fb_rgb));
        return 0;
    default:
        return 0; /* unknown or unused: skipped */
    }
}

/* Types that may appear at most once. */
#define SINGLE_TAGS                                                                                \
    ((1u << MB2_TAG_CMDLINE) | (1u << MB2_TAG_BOOT_LOADER_NAME) | (1u << MB2_TAG_MMAP) |           \
     (1u << MB2_TAG_EFI64) | (1u << MB2_TAG_ACPI_OLD) | (1u << MB2_TAG_ACPI_NEW) |                 \
     (1u << MB2_TAG_EFI_MMAP))

static int walk_tags(struct parser *ps)
{
    uint32_t off = TAG_HDR, seen = 0, mmap_off = 0, efi_off = 0;
    uint32_t mmap_size = 0, efi_size = 0;

    for (;;) {
        if (ps->total - off < TAG_HDR)
            return fail(ps, "no end tag before the end of the information (size 0x%x)", ps->total);
        uint32_t type = rd32(ps->p + off), size = rd32(ps->p + off + 4);
        if (size < TAG_HDR || size < min_tag_size(type))
            return fail(ps, "tag %u at offset 0x%x: size 0x%x is below the minimum 0x%x", type, off,
                        size, min_tag_size(type) > TAG_HDR ? min_tag_size(type) : TAG_HDR);
        if (size > ps->total - off)
            return fail(ps,
                        "tag %u at offset 0x%x runs past the end of the information (size 0x%x)",
                        type, off, ps->total);
        if (type == MB2_TAG_END) {
            if (size != TAG_HDR)
                return fail(ps, "end tag at offset 0x%x has size 0x%x (expected 8)", off, size);
            break;
        }
        if (type < 32 && (SINGLE_TAGS & (1u << type))) {
            if (seen & (1u << type))
                return fail(ps, "tag %u at offset 0x%x appears more than once", type, off);
            seen |= 1u << type;
        }
        if (parse_tag(ps, off, type, size))
            return -1;
        if (type == MB2_TAG_MMAP) {
            mmap_off = off;
            mmap_size = size;
        } else if (type == MB2_TAG_EFI_MMAP) {
            efi_off = off;
            efi_size = size;
        }
        /* size <= total <= 1 MiB: no overflow */
        off += (size + 7) & ~7u;
        if (off >= ps->total)
            return fail(ps, "no end tag before the end of the information (size 0x%x)", ps->total);
    }

    /* After the walk: tag 18 may follow tag 17 and changes its meaning. */
    struct boot_info *o = ps->out;
    if (efi_off) {
        o->mmap_from_efi = 1;
        if (parse_map(ps, efi_off, efi_size, 1))
            return -1;
    } else if (mmap_off) {
        if (parse_map(ps, mmap_off, mmap_size, 1))
            return -1;
    }
    if (!o->nr_mmap)
        return fail(ps, "no memory map (tag 6 or 17 missing or empty)");
    return 0;
}

static void reset(struct boot_info *out)
{
    memset(out, 0, sizeof(*out));
    out->cmdline = "";
    out->fb.fb_type = 0xff;
}

int mb2_parse(uint32_t magic, const void *mbi, uint64_t mbi_phys, struct boot_info *out, char *err,
              size_t errlen)
{
    struct parser ps = {mbi, 0, out, err, errlen};

    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return fail(&ps, "no output structure");
    reset(out);
    if (magic != MB2_BOOTLOADER_MAGIC)
        return fail(&ps,
                    "bad boot loader magic 0x%x (expected 0x%x): not started by a "
                    "multiboot2 loader",
                    magic, MB2_BOOTLOADER_MAGIC);
    if (!mbi)
        return fail(&ps, "no boot information (NULL pointer)");
    if (mbi_phys & 7)
        return fail(&ps, "boot information at 0x%llx is not 8-byte aligned",
                    (unsigned long long)mbi_phys);

    ps.total = rd32(ps.p);
    if (ps.total < 16)
        return fail(&ps, "total_size 0x%x is too small (minimum 0x10)", ps.total);
    if (ps.total > MB2_MAX_SIZE)
        return fail(&ps, "total_size 0x%x is larger than 1 MiB", ps.total);
    if (mbi_phys > UINT64_MAX - ps.total)
        return fail(&ps, "boot information at 0x%llx wraps past 2^64",
                    (unsigned long long)mbi_phys);

    out->mbi_phys = mbi_phys;
    out->mbi_size = ps.total;
    if (walk_tags(&ps)) {
        reset(out);
        return -1;
    }
    return 0;
}
