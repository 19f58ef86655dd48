#include "loader/loader.h"

#include "loader/boot_place.h"
#include "loader/modules.h"
#include "vcpu/vm.h"
#include "lib/format.h"
#include "lib/string.h"

#define MB_INFO_MAX 0x2000               /* holds the largest command line, map and module list */
#define MB_MODULES  (1 + VM_MAX_MODULES) /* the initrd, then `modules` */
#define MB_MAP_MAX  (4 + 2 * (1 + MB_MODULES))

/* What a multiboot kernel is handed besides its command line. */
struct mb_boot {
    uint64_t info_gpa;
    unsigned nr_mods;
    const struct guest_module *mod[MB_MODULES];
    const char *string[MB_MODULES];
    uint64_t mod_gpa[MB_MODULES];
    unsigned nr_map;
    struct boot_map_entry map[MB_MAP_MAX];
};

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

static void put_str(uint8_t *b, unsigned *off, const char *s, size_t max)
{
    size_t n = strnlen(s, max - 1);
    memcpy(b + *off, s, n);
    b[*off + n] = 0;
    *off += (unsigned)n + 1;
}

/* The multiboot2 information a guest kernel finds in EBX. */
static unsigned build_mb2_info(struct vm *vm, const char *cmdline, const struct mb_boot *mb,
                               uint8_t *b)
{
    unsigned off = 8, start;
    uint64_t mem = vm->cfg.mem_size;

    start = off;
    put32(b, &off, 1); /* command line */
    put32(b, &off, 0);
    put_str(b, &off, cmdline, VM_CMDLINE_MAX);
    uint32_t tag_size = off - start;
    memcpy(b + start + 4, &tag_size, 4);
    align8(b, &off);
    put32(b, &off, 2); /* boot loader name */
    put32(b, &off, 8 + 9);
    put_str(b, &off, "Bulkhead", 9);
    align8(b, &off);
    for (unsigned i = 0; i < mb->nr_mods; i++) { /* modules */
        start = off;
        put32(b, &off, 3);
        put32(b, &off, 0);
        put32(b, &off, (uint32_t)mb->mod_gpa[i]);
        put32(b, &off, (uint32_t)(mb->mod_gpa[i] + (mb->mod[i]->end - mb->mod[i]->start)));
        put_str(b, &off, mb->string[i], VM_MODULE_STR);
        tag_size = off - start;
        memcpy(b + start + 4, &tag_size, 4);
        align8(b, &off);
    }
    put32(b, &off, 4); /* basic memory information, in KiB */
    put32(b, &off, 16);
    put32(b, &off, 640);
    put32(b, &off, (uint32_t)((vm_mem_low(mem) - 0x100000) >> 10));
    start = off;
    put32(b, &off, 6); /* memory map */
    put32(b, &off, 0);
    put32(b, &off, 24);
    put32(b, &off, 0);
    for (unsigned i = 0; i < mb->nr_map; i++) {
        put64(b, &off, mb->map[i].addr);
        put64(b, &off, mb->map[i].len);
        put32(b, &off, mb->map[i].type);
        put32(b, &off, 0);
    }
    tag_size = off - start;
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

/* The multiboot v1 information: flags mem (0), cmdline (2), mods (3), mmap
 * (6), boot loader name (9); what it points to follows it in the block. */
static unsigned build_mb1_info(struct vm *vm, const char *cmdline, const struct mb_boot *mb,
                               uint8_t *b)
{
    uint32_t w[22];
    const uint32_t base = (uint32_t)mb->info_gpa;
    unsigned off = 88;
    uint64_t mem = vm->cfg.mem_size;
    memset(b, 0, MB_INFO_MAX);
    memset(w, 0, sizeof(w));
    w[0] = (1U << 0) | (1U << 2) | (1U << 3) | (1U << 6) | (1U << 9);
    w[1] = 640;
    w[2] = (uint32_t)((vm_mem_low(mem) - 0x100000) >> 10);
    w[11] = mb->nr_map * 24; /* mmap_length */
    w[12] = base + off;      /* mmap_addr */
    for (unsigned i = 0; i < mb->nr_map; i++) {
        put32(b, &off, 20);
        put64(b, &off, mb->map[i].addr);
        put64(b, &off, mb->map[i].len);
        put32(b, &off, mb->map[i].type);
    }
    w[5] = mb->nr_mods; /* mods_count */
    w[6] = base + off;  /* mods_addr: 16 bytes each, the strings after them */
    unsigned str = off + mb->nr_mods * 16;
    for (unsigned i = 0; i < mb->nr_mods; i++) {
        put32(b, &off, (uint32_t)mb->mod_gpa[i]);
        put32(b, &off, (uint32_t)(mb->mod_gpa[i] + (mb->mod[i]->end - mb->mod[i]->start)));
        put32(b, &off, base + str);
        put32(b, &off, 0);
        put_str(b, &str, mb->string[i], VM_MODULE_STR);
    }
    off = str;
    w[16] = base + off; /* boot_loader_name */
    put_str(b, &off, "Bulkhead", 9);
    w[4] = base + off; /* cmdline */
    put_str(b, &off, cmdline, VM_CMDLINE_MAX);
    memcpy(b, w, 88);
    return off;
}

/* The initrd and `modules` by name, looked up among the boot modules. */
static int find_modules(struct vm *vm, struct mb_boot *mb, char *err, unsigned errlen)
{
    const struct vm_config *c = &vm->cfg;
    mb->nr_mods = 0;
    for (unsigned i = 0; i < 1 + c->nr_modules && i < MB_MODULES; i++) {
        const char *name = i ? c->modules[i - 1].name : c->initrd;
        if (!name[0])
            continue;
        const struct guest_module *m = guest_module_find(name);
        if (!m) {
            fmt_snprintf(err, errlen, "%s module '%s' not found", i ? "modules:" : "initrd:", name);
            return -1;
        }
        mb->mod[mb->nr_mods] = m;
        mb->string[mb->nr_mods++] = i ? c->modules[i - 1].string : c->initrd;
    }
    return 0;
}

/* Places the information block and the modules clear of image[], copies
 * the modules in and builds the memory map. */
static int plan_boot(struct vm *vm, const struct gpa_range *image, unsigned nr_image,
                     struct mb_boot *mb, bool v1, char *err, unsigned errlen)
{
    uint64_t mem = vm->cfg.mem_size;
    const struct gpa_range ram[2] = {{0x1000, GPA_LOW_RAM_END},
                                     {GPA_BIOS_AREA_END, vm_mem_low(mem)}};
    const struct gpa_range map_ram[3] = {{0, GPA_LOW_RAM_END},
                                         {GPA_BIOS_AREA_END, vm_mem_low(mem)},
                                         {GPA_HIGH_RAM, GPA_HIGH_RAM + vm_mem_high(mem)}};
    /* v1 kernels have always been told the option ROM area is reserved too. */
    const uint64_t bios = v1 ? GPA_ROM_AREA : GPA_BIOS_AREA;
    const struct boot_map_entry bios_area = {bios, GPA_BIOS_AREA_END - bios, 2};
    uint64_t sizes[MB_MODULES];
    struct boot_plan plan;
    char why[160];

    for (unsigned i = 0; i < mb->nr_mods; i++)
        sizes[i] = mb->mod[i]->end - mb->mod[i]->start;
    struct boot_plan_in in = {ram, 2, image, nr_image, MB_INFO_MAX, sizes, mb->nr_mods};
    if (boot_plan_layout(&in, &plan, why, sizeof(why))) {
        fmt_snprintf(err, errlen, "kernel '%s': %s", vm->cfg.kernel, why);
        return -1;
    }
    mb->info_gpa = plan.info_gpa;
    for (unsigned i = 0; i < mb->nr_mods; i++) {
        mb->mod_gpa[i] = plan.module_gpa[i];
        if (vm_write_guest(vm, plan.module_gpa[i], (const void *)mb->mod[i]->start, sizes[i])) {
            fmt_snprintf(err, errlen, "module '%s': cannot write guest memory", mb->string[i]);
            return -1;
        }
    }
    mb->nr_map = boot_map_build(map_ram, vm_mem_high(mem) ? 3 : 2, plan.reserved, plan.nr_reserved,
                                &bios_area, 1, mb->map, MB_MAP_MAX);
    return 0;
}

int guest_load_kernel(struct vm *vm, const void *image, uint64_t size, const char *cmdline,
                      struct vcpu_boot_state *out, char *err, unsigned errlen)
{
    struct mb_boot mb;
    uint8_t info[MB_INFO_MAX];
    struct elf_image elf;
    struct gpa_range segs[ELF_MAX_SEGMENTS];
    char why[96];

    if (elf_parse(image, size, vm_mem_low(vm->cfg.mem_size), &elf, why, sizeof(why))) {
        fmt_snprintf(err, errlen, "kernel '%s': %s", vm->cfg.kernel, why);
        return -1;
    }
    for (unsigned i = 0; i < elf.nr_segments; i++) {
        const struct elf_segment *s = &elf.seg[i];
        segs[i] = (struct gpa_range){s->paddr, s->paddr + s->memsz};
        /* RAM was zeroed at start, so the bss part needs no clearing. */
        if (vm_write_guest(vm, s->paddr, (const uint8_t *)image + s->offset, s->filesz)) {
            fmt_snprintf(err, errlen, "kernel '%s': cannot write segment %u", vm->cfg.kernel, i);
            return -1;
        }
    }
    /* A v1-only kernel gets the v1 information and magic. */
    bool v1 = has_mb1_header(image, size) && !has_mb2_header(image, size);
    if (find_modules(vm, &mb, err, errlen) ||
        plan_boot(vm, segs, elf.nr_segments, &mb, v1, err, errlen))
        return -1;
    unsigned len =
        v1 ? build_mb1_info(vm, cmdline, &mb, info) : build_mb2_info(vm, cmdline, &mb, info);
    if (vm_write_guest(vm, mb.info_gpa, info, len)) {
        fmt_snprintf(err, errlen, "cannot write the boot information");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->mode = ENTRY_PROTECTED_FLAT;
    out->rip = elf.entry;
    out->rsp = mb.info_gpa; /* a usable stack below the information block */
    out->gprs[GPR_RAX] = v1 ? 0x2badb002 : 0x36d76289;
    out->gprs[GPR_RBX] = mb.info_gpa;
    return 0;
}

/* A flat binary copied to its configured load address and entered there in
 * 32-bit flat protected mode (EBX = the multiboot2 information, as for ELF
 * kernels, so it can find its command line). */
int guest_load_raw(struct vm *vm, const void *image, uint64_t size, struct vcpu_boot_state *out,
                   char *err, unsigned errlen)
{
    struct mb_boot mb;
    uint8_t info[MB_INFO_MAX];
    uint64_t at = vm->cfg.load_addr;
    if (!size || at + size < at || at + size > vm_mem_low(vm->cfg.mem_size) ||
        (at < GPA_BIOS_AREA_END && at + size > GPA_LOW_RAM_END)) {
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
    const struct gpa_range img = {at, at + size};
    mb.nr_mods = 0; /* raw VMs take no modules (the checker says so) */
    if (plan_boot(vm, &img, 1, &mb, false, err, errlen))
        return -1;
    unsigned len = build_mb2_info(vm, vm->cfg.cmdline, &mb, info);
    if (vm_write_guest(vm, at, image, size) || vm_write_guest(vm, mb.info_gpa, info, len)) {
        fmt_snprintf(err, errlen, "raw image '%s': cannot write guest memory", vm->cfg.kernel);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->mode = ENTRY_PROTECTED_FLAT;
    out->rip = vm->cfg.entry;
    out->rsp = mb.info_gpa;
    out->gprs[GPR_RAX] = 0x36d76289;
    out->gprs[GPR_RBX] = mb.info_gpa;
    return 0;
}
