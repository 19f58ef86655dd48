/* Linux x86 boot protocol, pure parts: see linux_boot.h. Field offsets and
 * rules from Documentation/x86/boot.rst. */
#include "loader/linux_boot.h"

#include "lib/format.h"
#include "lib/string.h"

#define SECTOR           512u
#define MIB              (1ull << 20)
#define PAGE             4096ull
#define HDR_MIN_END      0x23Cu /* a 2.06 header runs through cmdline_size */
#define HEAP_END         0xE000u
#define LOADER_UNDEFINED 0xFF
#define E820_SCRATCH     16

/* Low-memory placements, below the EBDA and out of Linux's way until it
 * has copied boot_params and the command line (copy_bootdata). */
#define GDT_GPA         0x1000ull
#define ZERO_PAGE_GPA   0x10000ull
#define CMDLINE_GPA     0x20000ull
#define CMDLINE_MAX_LEN (0x90000u - 0x20000u - 1u)

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)v);
    wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static unsigned long long mib_up(uint64_t v)
{
    return (unsigned long long)((v + MIB - 1) / MIB);
}

int linux_parse_bzimage(const void *img, uint64_t size, struct linux_image *out, char *err,
                        size_t errlen)
{
    const uint8_t *b = img;
    memset(out, 0, sizeof(*out));
    if (!b || size < LINUX_HDR_VERSION + 2) {
        fmt_snprintf(err, errlen, "not a bzImage: %llu bytes is too small for a setup header",
                     (unsigned long long)size);
        return -1;
    }
    if (rd16(b + LINUX_HDR_BOOT_FLAG) != 0xAA55) {
        fmt_snprintf(err, errlen, "not a bzImage: no 0xAA55 boot flag at 0x1fe");
        return -1;
    }
    if (memcmp(b + LINUX_HDR_MAGIC, "HdrS", 4)) {
        fmt_snprintf(err, errlen, "not a bzImage: no \"HdrS\" magic at 0x202");
        return -1;
    }
    uint16_t proto = rd16(b + LINUX_HDR_VERSION);
    out->protocol = proto;
    if (proto < LINUX_MIN_PROTOCOL) {
        fmt_snprintf(err, errlen, "boot protocol %u.%02u too old, need 2.06", proto >> 8,
                     proto & 0xFF);
        return -1;
    }
    /* The header ends where the short jump at 0x200 lands. */
    uint32_t end = 0x202u + b[LINUX_HDR_JUMP + 1];
    if (b[LINUX_HDR_JUMP] != 0xEB || end < HDR_MIN_END || end > LINUX_HDR_END_MAX) {
        fmt_snprintf(err, errlen, "setup header length byte 0x%02x at 0x201 is implausible",
                     b[LINUX_HDR_JUMP + 1]);
        return -1;
    }
    if (proto >= 0x20A && end < LINUX_HDR_INIT_SIZE + 4) {
        fmt_snprintf(err, errlen, "protocol %u.%02u header ends at 0x%x, before init_size",
                     proto >> 8, proto & 0xFF, end);
        return -1;
    }
    if (size < end) {
        fmt_snprintf(err, errlen, "truncated: setup header ends at 0x%x, file has %llu bytes", end,
                     (unsigned long long)size);
        return -1;
    }
    out->hdr_end = end;
    out->loadflags = b[LINUX_HDR_LOADFLAGS];
    if (!(out->loadflags & LINUX_LOADED_HIGH)) {
        fmt_snprintf(err, errlen, "zImage (kernel not LOADED_HIGH) is not supported");
        return -1;
    }
    out->setup_sects = b[LINUX_HDR_SETUP_SECTS];
    unsigned sects = out->setup_sects ? out->setup_sects : 4;
    out->setup_size = (uint64_t)(sects + 1) * SECTOR;
    if (size <= out->setup_size) {
        fmt_snprintf(err, errlen, "truncated: %llu bytes of setup code, file has %llu bytes",
                     (unsigned long long)out->setup_size, (unsigned long long)size);
        return -1;
    }
    out->payload_offset = out->setup_size;
    out->payload_size = size - out->setup_size;
    out->syssize = rd32(b + LINUX_HDR_SYSSIZE);
    if (!out->syssize || (uint64_t)out->syssize * 16 > out->payload_size) {
        fmt_snprintf(err, errlen,
                     "truncated: syssize says %llu bytes of kernel, file has %llu after setup",
                     (unsigned long long)out->syssize * 16, (unsigned long long)out->payload_size);
        return -1;
    }
    out->initrd_addr_max = rd32(b + LINUX_HDR_INITRD_ADDR_MAX);
    out->kernel_alignment = rd32(b + LINUX_HDR_KERNEL_ALIGNMENT);
    out->relocatable = b[LINUX_HDR_RELOCATABLE] != 0;
    out->cmdline_size = rd32(b + LINUX_HDR_CMDLINE_SIZE);
    if (out->relocatable && !is_pow2(out->kernel_alignment)) {
        fmt_snprintf(err, errlen, "relocatable kernel with kernel_alignment 0x%x",
                     out->kernel_alignment);
        return -1;
    }
    out->pref_address = 0x100000; /* before 2.10: the fixed bzImage address */
    if (proto >= 0x20A) {
        out->pref_address = rd64(b + LINUX_HDR_PREF_ADDRESS);
        out->init_size = rd32(b + LINUX_HDR_INIT_SIZE);
    }
    if (proto >= 0x20B && end >= LINUX_HDR_HANDOVER_OFFSET + 4)
        out->handover_offset = rd32(b + LINUX_HDR_HANDOVER_OFFSET);
    if (proto >= 0x20C)
        out->xloadflags = rd16(b + LINUX_HDR_XLOADFLAGS);
    return 0;
}

int linux_build_boot_params(const void *img, uint64_t img_size, const struct linux_image *li,
                            const struct linux_boot_params_in *in,
                            uint8_t zero_page[LINUX_ZERO_PAGE_SIZE], char *err, size_t errlen)
{
    const uint8_t *b = img;
    uint8_t *zp = zero_page;
    memset(zp, 0, LINUX_ZERO_PAGE_SIZE);
    if (!b || li->hdr_end < HDR_MIN_END || li->hdr_end > LINUX_HDR_END_MAX ||
        img_size < li->hdr_end) {
        fmt_snprintf(err, errlen, "image does not match its parsed setup header");
        return -1;
    }
    bool above_4g = (li->xloadflags & LINUX_XLF_CAN_BE_LOADED_ABOVE_4G) != 0;
    memcpy(zp + LINUX_BP_SETUP_HDR, b + LINUX_BP_SETUP_HDR, li->hdr_end - LINUX_BP_SETUP_HDR);

    zp[LINUX_HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED; /* 0 would make Linux ignore the initrd */
    uint8_t lf = zp[LINUX_HDR_LOADFLAGS];
    zp[LINUX_HDR_LOADFLAGS] = (uint8_t)((lf | LINUX_CAN_USE_HEAP) & ~LINUX_KEEP_SEGMENTS);
    wr16(zp + LINUX_HDR_HEAP_END_PTR, HEAP_END - 0x200);
    wr64(zp + 0x250, 0); /* setup_data: a guest pointer the loader owns */
    wr32(zp + 0x23C, 0); /* hardware_subarch: a plain PC */

    if (in->cmdline_gpa) {
        if (in->cmdline_len > li->cmdline_size) {
            fmt_snprintf(err, errlen, "command line of %u bytes exceeds the kernel's %u",
                         in->cmdline_len, li->cmdline_size);
            return -1;
        }
        if (in->cmdline_gpa > UINT32_MAX && !above_4g) {
            fmt_snprintf(err, errlen, "command line at 0x%llx: kernel needs it below 4 GiB",
                         (unsigned long long)in->cmdline_gpa);
            return -1;
        }
        wr32(zp + LINUX_HDR_CMD_LINE_PTR, (uint32_t)in->cmdline_gpa);
        wr32(zp + LINUX_BP_EXT_CMD_LINE_PTR, (uint32_t)(in->cmdline_gpa >> 32));
    }

    if (in->initrd_size) {
        uint64_t last = in->initrd_gpa + in->initrd_size - 1;
        if (last < in->initrd_gpa) {
            fmt_snprintf(err, errlen, "initrd at 0x%llx size 0x%llx wraps",
                         (unsigned long long)in->initrd_gpa, (unsigned long long)in->initrd_size);
            return -1;
        }
        if (last > li->initrd_addr_max && !above_4g) {
            fmt_snprintf(err, errlen, "initrd ends at 0x%llx, above initrd_addr_max 0x%x",
                         (unsigned long long)last, li->initrd_addr_max);
            return -1;
        }
        wr32(zp + LINUX_HDR_RAMDISK_IMAGE, (uint32_t)in->initrd_gpa);
        wr32(zp + LINUX_BP_EXT_RAMDISK_IMAGE, (uint32_t)(in->initrd_gpa >> 32));
        wr32(zp + LINUX_HDR_RAMDISK_SIZE, (uint32_t)in->initrd_size);
        wr32(zp + LINUX_BP_EXT_RAMDISK_SIZE, (uint32_t)(in->initrd_size >> 32));
    }

    if (in->nr_e820 > LINUX_E820_MAX || (in->nr_e820 && !in->e820)) {
        fmt_snprintf(err, errlen, "%u e820 entries; at most %u fit the zero page", in->nr_e820,
                     LINUX_E820_MAX);
        return -1;
    }
    zp[LINUX_BP_E820_ENTRIES] = (uint8_t)in->nr_e820;
    for (unsigned i = 0; i < in->nr_e820; i++) {
        uint8_t *e = zp + LINUX_BP_E820_TABLE + i * sizeof(struct e820_entry);
        wr64(e, in->e820[i].addr);
        wr64(e + 8, in->e820[i].size);
        wr32(e + 16, in->e820[i].type);
    }

    /* Older kernels find the RSDP by scanning the BIOS area instead. */
    if (in->rsdp_gpa && li->protocol >= 0x20E)
        wr64(zp + LINUX_BP_ACPI_RSDP_ADDR, in->rsdp_gpa);
    return 0;
}

/* ---- e820 ---- */

struct e820_list {
    struct e820_entry e[E820_SCRATCH];
    unsigned n;
    bool overflow;
};

static void e820_insert(struct e820_list *l, unsigned at, uint64_t addr, uint64_t size,
                        uint32_t type)
{
    if (l->n >= E820_SCRATCH) {
        l->overflow = true;
        return;
    }
    memmove(&l->e[at + 1], &l->e[at], (l->n - at) * sizeof(l->e[0]));
    l->e[at].addr = addr;
    l->e[at].size = size;
    l->e[at].type = type;
    l->n++;
}

/* Gives [start, end) the type, cutting it out of whatever was there. */
static void e820_set(struct e820_list *l, uint64_t start, uint64_t end, uint32_t type)
{
    if (start >= end)
        return;
    for (unsigned i = 0; i < l->n;) {
        uint64_t s = l->e[i].addr, e = s + l->e[i].size;
        if (e <= start || s >= end) {
            i++;
            continue;
        }
        uint32_t t = l->e[i].type;
        memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof(l->e[0]));
        l->n--;
        if (s < start)
            e820_insert(l, i++, s, start - s, t);
        if (e > end)
            e820_insert(l, i++, end, e - end, t);
    }
    unsigned at = 0;
    while (at < l->n && l->e[at].addr < start)
        at++;
    e820_insert(l, at, start, end - start, type);
}

unsigned linux_build_e820(uint64_t mem_size, uint64_t acpi_base, uint64_t acpi_size,
                          struct e820_entry *out, unsigned max)
{
    static const uint64_t bios_end = 0x100000;
    struct e820_list l;
    memset(&l, 0, sizeof(l));
    if (mem_size > UINT64_MAX / 2 || acpi_base > UINT64_MAX - acpi_size)
        return 0;
    uint64_t low_end = mem_size < LINUX_LOW_RAM_TOP ? mem_size : LINUX_LOW_RAM_TOP;
    e820_set(&l, 0, mem_size < LINUX_EBDA_START ? mem_size : LINUX_EBDA_START, LINUX_E820_RAM);
    e820_set(&l, LINUX_EBDA_START, 0xA0000, LINUX_E820_RESERVED);
    e820_set(&l, LINUX_BIOS_AREA_START, bios_end, LINUX_E820_RESERVED);
    if (low_end > bios_end)
        e820_set(&l, bios_end, low_end, LINUX_E820_RAM);
    if (mem_size > LINUX_LOW_RAM_TOP)
        e820_set(&l, LINUX_HIGH_RAM_BASE, LINUX_HIGH_RAM_BASE + (mem_size - LINUX_LOW_RAM_TOP),
                 LINUX_E820_RAM);
    /* Tables in the BIOS area are covered by its reserved entry already. */
    bool in_bios = acpi_base >= LINUX_BIOS_AREA_START && acpi_base + acpi_size <= bios_end;
    if (acpi_size && !in_bios)
        e820_set(&l, acpi_base, acpi_base + acpi_size, LINUX_E820_ACPI);
    if (l.overflow || l.n > max)
        return 0;
    memcpy(out, l.e, l.n * sizeof(l.e[0]));
    return l.n;
}

/* ---- layout ---- */

int linux_plan_layout(const struct linux_image *li, uint64_t mem_size, uint64_t initrd_size,
                      uint32_t cmdline_len, struct linux_layout *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    uint64_t kernel = li->pref_address;
    if (li->relocatable)
        kernel = align_up(kernel < MIB ? MIB : kernel, li->kernel_alignment);
    if (kernel < MIB || kernel >= LINUX_LOW_RAM_TOP) {
        fmt_snprintf(err, errlen, "kernel load address 0x%llx is outside 1 MiB-3 GiB",
                     (unsigned long long)kernel);
        return -1;
    }
    /* Before 2.10 there is no init_size: assume decompression needs 4x. */
    uint64_t footprint = li->protocol >= 0x20A ? li->init_size : li->payload_size * 4;
    if (footprint < li->payload_size)
        footprint = li->payload_size;
    footprint = align_up(footprint, PAGE);
    if (footprint >= LINUX_LOW_RAM_TOP - kernel) {
        fmt_snprintf(err, errlen, "init_size of %llu MiB does not fit below 3 GiB",
                     mib_up(footprint));
        return -1;
    }
    uint64_t kernel_end = kernel + footprint;
    uint64_t low_top = mem_size < LINUX_LOW_RAM_TOP ? mem_size : LINUX_LOW_RAM_TOP;
    uint64_t initrd_pages = align_up(initrd_size, PAGE);
    if (initrd_size > LINUX_LOW_RAM_TOP || kernel_end + initrd_pages > low_top) {
        fmt_snprintf(err, errlen,
                     "Linux needs at least %llu MiB: init_size %llu MiB at %llu MiB"
                     " + initrd %llu MiB; the VM has %llu MiB",
                     mib_up(kernel_end + initrd_pages), mib_up(footprint),
                     (unsigned long long)(kernel / MIB), mib_up(initrd_size),
                     (unsigned long long)(mem_size / MIB));
        return -1;
    }
    if (initrd_size) {
        uint64_t limit = (uint64_t)li->initrd_addr_max + 1;
        if (limit > low_top)
            limit = low_top;
        uint64_t at = limit >= initrd_size ? (limit - initrd_size) & ~(PAGE - 1) : 0;
        if (at < kernel_end) {
            fmt_snprintf(err, errlen,
                         "initrd of %llu MiB does not fit between the kernel (ends at %llu "
                         "MiB) and initrd_addr_max 0x%x",
                         mib_up(initrd_size), mib_up(kernel_end), li->initrd_addr_max);
            return -1;
        }
        out->initrd_gpa = at;
    }
    if (cmdline_len > li->cmdline_size || cmdline_len > CMDLINE_MAX_LEN) {
        fmt_snprintf(err, errlen, "command line of %u bytes; the kernel takes at most %u",
                     cmdline_len,
                     li->cmdline_size < CMDLINE_MAX_LEN ? li->cmdline_size : CMDLINE_MAX_LEN);
        return -1;
    }
    out->kernel_gpa = kernel;
    out->kernel_end = kernel_end;
    out->cmdline_gpa = CMDLINE_GPA;
    out->zero_page_gpa = ZERO_PAGE_GPA;
    out->gdt_gpa = GDT_GPA;
    return 0;
}
