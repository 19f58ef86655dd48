#include "guest/loader.h"

#include "guest/vm.h"
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
    put32(b, &off, (uint32_t)((mem - 0x100000) >> 10));
    start = off;
    put32(b, &off, 6); /* memory map */
    put32(b, &off, 0);
    put32(b, &off, 24);
    put32(b, &off, 0);
    mmap_entry(b, &off, 0, GPA_LOW_RAM_END, 1);
    mmap_entry(b, &off, GPA_BIOS_AREA, GPA_BIOS_AREA_END - GPA_BIOS_AREA, 2);
    mmap_entry(b, &off, GPA_BIOS_AREA_END, mem - GPA_BIOS_AREA_END, 1);
    uint32_t tag_size = off - start;
    memcpy(b + start + 4, &tag_size, 4);
    put32(b, &off, 0); /* end tag */
    put32(b, &off, 8);
    uint32_t total = off;
    memcpy(b, &total, 4);
    memset(b + 4, 0, 4);
    return off;
}

int guest_load_kernel(struct vm *vm, const void *image, uint64_t size, const char *cmdline,
                      struct vcpu_boot_state *out, char *err, unsigned errlen)
{
    struct elf_image elf;
    char why[96];
    uint8_t info[MB2_INFO_MAX];

    if (elf_parse(image, size, vm->cfg.mem_size, &elf, why, sizeof(why))) {
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
    unsigned len = build_mb2_info(vm, cmdline, info);
    if (vm_write_guest(vm, MB2_INFO_GPA, info, len)) {
        fmt_snprintf(err, errlen, "cannot write the boot information");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->mode = ENTRY_PROTECTED_FLAT;
    out->rip = elf.entry;
    out->rsp = MB2_INFO_GPA; /* a usable stack below the information block */
    out->gprs[GPR_RAX] = 0x36d76289;
    out->gprs[GPR_RBX] = MB2_INFO_GPA;
    return 0;
}
