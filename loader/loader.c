#include "loader/loader.h"

#include "vcpu/vm.h"
#include "lib/format.h"
#include "lib/string.h"

#define MB2_INFO_GPA 0x8000ULL /* below 640 KiB, clear of a 1 MiB-linked kernel */
#define MB2_INFO_MAX 0x2000

static void put32(uint8_t *b, unsigned *off, uint32_t v)
{
    memcpy(b + *off, &v, 4);
    *off += 4;
}

static void put64(uint8_t *b, unsigned *off, uint64_t v)
{
    memcpy(b + *off, &v, 8);
    *off += 8;
}

static void align8(uint8_t *b, unsigned *off)
{
    while (*off & 7)
        b[(*off)++] = 0;
}

static void mmap_entry(uint8_t *b, unsigned *off, uint64_t base, uint64_t len, uint32_t type)
{
    put64(b, off, base);
    put64(b, off, len);
    put32(b, off, type);
    put32(b, off, 0);
}

/* The multiboot2 information a guest kernel finds in EBX. */
static unsigned build_mb2_info(struct vm *vm, const char *cmdline, uint8_t *b)
{
    unsigned off = 8, start;
    size_t clen = strnlen(cmdline, VM_CMDLINE_MAX - 1) + 1;
    uint64_t mem = vm->cfg.mem_size;

    put32(b, &off, 1); /* command line */
    put32(b, &off, (uint32_t)(8 + clen));
    memcpy(b + off, cmdline, clen - 1);
    b[off + clen - 1] = 0;
    off += (unsigned)clen;
    align8(b, &off);
    put32(b, &off, 2); /* boot loader name */
    put32(b, &off, 8 + 9);
    memcpy(b + off, "Bulkhead", 9);
    off += 9;
    align8(b, &off);
    put32(b, &off, 4); /* basic memory information, in KiB */
    put32(b, &off, 16);
    put32(b, &off, 640);
    put32(b, &off, (uint32_t)((vm_mem_low(mem) - 0x100000) >> 10));
    start = off;
    put32(b, &off, 6); /* memory map */
    put32(b, &off, 0);
    put32(b, &off, 24);
    put32(b, &off, 0);
    mmap_entry(b, &off, 0, GPA_LOW_RAM_END, 1);
    mmap_entry(b, &off, GPA_BIOS_AREA, GPA_BIOS_AREA_END - GPA_BIOS_AREA, 2);
    mmap_entry(b, &off, GPA_BIOS_AREA_END, vm_mem_low(mem) - GPA_BIOS_AREA_END, 1);
    if (vm_mem_high(mem))
        mmap_entry(b, &off, GPA_HIGH_RAM, vm_mem_high(mem), 1);
    uint32_t tag_size = off - start;
    memcpy(b + start + 4, &tag_size, 4);
    put32(b, &off, 0); /* end tag */
    put32(b, &off, 8);
    uint32_t total = off;
    memcpy(b, &total, 4);
    memset(b + 4, 0, 4);
    return off;
}

/* Multiboot v1 (0x1BADB002 header in the first 8 KiB, 4-byte aligned):
 * the older protocol many RTOS kernels still use. */
static bool has_mb1_header(const uint8_t *p, uint64_t size)
{
    for (uint64_t off = 0; off + 12 <= size && off < 8192; off += 4) {
        uint32_t h[3];
        memcpy(h, p + off, 12);
        if (h[0] == 0x1badb002U && h[0] + h[1] + h[2] == 0)
            return true;
    }
    return false;
}

static bool has_mb2_header(const uint8_t *p, uint64_t size)
{
    for (uint64_t off = 0; off + 16 <= size && off < 32768; off += 8) {
        uint32_t h[4];
        memcpy(h, p + off, 16);
        if (h[0] == 0xe85250d6U && h[0] + h[1] + h[2] + h[3] == 0)
            return true;
    }
    return false;
}

/* The multiboot v1 information: flags mem (0), cmdline (2), mmap (6),
 * boot loader name (9). */
static unsigned build_mb1_info(struct vm *vm, const char *cmdline, uint8_t *b)
{
    uint32_t w[22];
    /* Up to four 24-byte map entries from mmap_off, then the name, then the
     * command line: none may overlap. */
    const unsigned info_size = 88, mmap_off = 96, name_off = 192, cmd_off = 208;
    uint64_t mem = vm->cfg.mem_size;
    memset(b, 0, MB2_INFO_MAX);
    memset(w, 0, sizeof(w));
    w[0] = (1U << 0) | (1U << 2) | (1U << 6) | (1U << 9);
    w[1] = 640;
    w[2] = (uint32_t)((vm_mem_low(mem) - 0x100000) >> 10);
    w[4] = (uint32_t)(MB2_INFO_GPA + cmd_off);
    unsigned nr_ranges = vm_mem_high(mem) ? 4 : 3;
    w[11] = nr_ranges * 24;                      /* mmap_length */
    w[12] = (uint32_t)(MB2_INFO_GPA + mmap_off); /* mmap_addr */
    w[16] = (uint32_t)(MB2_INFO_GPA + name_off); /* boot_loader_name */
    memcpy(b, w, info_size);
    const uint64_t ranges[4][3] = {{0, GPA_LOW_RAM_END, 1},
                                   {GPA_ROM_AREA, GPA_BIOS_AREA_END - GPA_ROM_AREA, 2},
                                   {GPA_BIOS_AREA_END, vm_mem_low(mem) - GPA_BIOS_AREA_END, 1},
                                   {GPA_HIGH_RAM, vm_mem_high(mem), 1}};
    for (unsigned i = 0; i < nr_ranges; i++) {
        uint32_t sz = 20;
        memcpy(b + mmap_off + i * 24, &sz, 4);
        memcpy(b + mmap_off + i * 24 + 4, &ranges[i][0], 8);
        memcpy(b + mmap_off + i * 24 + 12, &ranges[i][1], 8);
        uint32_t type = (uint32_t)ranges[i][2];
        memcpy(b + mmap_off + i * 24 + 20, &type, 4);
    }
    memcpy(b + name_off, "Bulkhead", 9);
    size_t clen = strnlen(cmdline, VM_CMDLINE_MAX - 1);
    memcpy(b + cmd_off, cmdline, clen);
    b[cmd_off + clen] = 0;
    return (unsigned)(cmd_off + clen + 1);
}

int guest_load_kernel(struct vm *vm, const void *image, uint64_t size, const char *cmdline,
                      struct vcpu_boot_state *out, char *err, unsigned errlen)
{
    struct elf_image elf;
    char why[96];
    uint8_t info[MB2_INFO_MAX];

    if (elf_parse(image, size, vm_mem_low(vm->cfg.mem_size), &elf, why, sizeof(why))) {
        fmt_snprintf(err, errlen, "kernel '%s': %s", vm->cfg.kernel, why);
        return -1;
    }
    for (unsigned i = 0; i < elf.nr_segments; i++) {
        const struct elf_segment *s = &elf.seg[i];
        if (s->paddr < MB2_INFO_GPA + MB2_INFO_MAX && s->paddr + s->memsz > MB2_INFO_GPA) {
            fmt_snprintf(err, errlen,
                         "kernel '%s': segment overlaps the boot information at 0x%llx",
                         vm->cfg.kernel, MB2_INFO_GPA);
            return -1;
        }
        /* RAM was zeroed at start, so the bss part needs no clearing. */
        if (vm_write_guest(vm, s->paddr, (const uint8_t *)image + s->offset, s->filesz)) {
            fmt_snprintf(err, errlen, "kernel '%s': cannot write segment %u", vm->cfg.kernel, i);
            return -1;
        }
    }
    /* A v1-only kernel gets the v1 information and magic. */
    bool v1 = has_mb1_header(image, size) && !has_mb2_header(image, size);
    unsigned len = v1 ? build_mb1_info(vm, cmdline, info) : build_mb2_info(vm, cmdline, info);
    if (vm_write_guest(vm, MB2_INFO_GPA, info, len)) {
        fmt_snprintf(err, errlen, "cannot write the boot information");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->mode = ENTRY_PROTECTED_FLAT;
    out->rip = elf.entry;
    out->rsp = MB2_INFO_GPA; /* a usable stack below the information block */
    out->gprs[GPR_RAX] = v1 ? 0x2badb002 : 0x36d76289;
    out->gprs[GPR_RBX] = MB2_INFO_GPA;
    return 0;
}

/* A flat binary copied to its configured load address and entered there in
 * 32-bit flat protected mode (EBX = the multiboot2 information, as for ELF
 * kernels, so it can find its command line). */
int guest_load_raw(struct vm *vm, const void *image, uint64_t size, struct vcpu_boot_state *out,
                   char *err, unsigned errlen)
{
    uint8_t info[MB2_INFO_MAX];
    uint64_t at = vm->cfg.load_addr;
    if (!size || at + size < at || at + size > vm_mem_low(vm->cfg.mem_size) ||
        (at < GPA_BIOS_AREA_END && at + size > GPA_LOW_RAM_END) ||
        (at < MB2_INFO_GPA + MB2_INFO_MAX && at + size > MB2_INFO_GPA)) {
        fmt_snprintf(err, errlen,
                     "raw image '%s' (%llu bytes) does not fit at 0x%llx in the VM's RAM",
                     vm->cfg.kernel, (unsigned long long)size, (unsigned long long)at);
        return -1;
    }
    if (vm->cfg.entry < at || vm->cfg.entry >= at + size) {
        fmt_snprintf(err, errlen, "raw image '%s': entry 0x%llx is outside the image",
                     vm->cfg.kernel, (unsigned long long)vm->cfg.entry);
        return -1;
    }
    unsigned len = build_mb2_info(vm, vm->cfg.cmdline, info);
    if (vm_write_guest(vm, at, image, size) || vm_write_guest(vm, MB2_INFO_GPA, info, len)) {
        fmt_snprintf(err, errlen, "raw image '%s': cannot write guest memory", vm->cfg.kernel);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->mode = ENTRY_PROTECTED_FLAT;
    out->rip = vm->cfg.entry;
    out->rsp = MB2_INFO_GPA;
    out->gprs[GPR_RAX] = 0x36d76289;
    out->gprs[GPR_RBX] = MB2_INFO_GPA;
    return 0;
}
