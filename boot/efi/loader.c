/* bulkhead.efi: boots Bulkhead from UEFI without GRUB. Reads bulkhead.cfg,
 * the hypervisor (bulkhead.elf) and every module the configuration names
 * from its own directory, gathers what the firmware knows (ACPI RSDP,
 * SMBIOS, GOP framebuffer, the final memory map), exits boot services and
 * enters the hypervisor with the same multiboot2 information GRUB would
 * build. Every error before ExitBootServices is printed on the EFI console
 * and returns to the firmware. docs/efi.md describes its use. */
#include "boot/efi/efi_loader.h"
#include "boot/efi/mb2build.h"
#include "core/config.h"
#include "loader/loader.h"
#include "lib/format.h"
#include "lib/string.h"

#define HV_FILE      "bulkhead.elf"
#define CONFIG_FILE  "bulkhead.cfg"
#define MAX_FILE     (512ULL << 20)
#define MAX_MODULES  (2 * CONFIG_MAX_VMS + 1)
#define MBI_PAGES    16 /* 64 KiB: tags plus the EFI memory map */
#define CMDLINE_MAX  1024
#define EBS_ATTEMPTS 8
#define BELOW_4G     0xffffffffULL
#define HV_RAM_LIMIT (4ULL << 30)

EFI_SYSTEM_TABLE *efi_st;
EFI_HANDLE efi_image;

static EFI_GUID loaded_image_guid = LOADED_IMAGE_PROTOCOL;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID smbios3_guid = SMBIOS3_TABLE_GUID;
static EFI_GUID smbios_guid = SMBIOS_TABLE_GUID;
static EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;

struct module {
    const char *name;
    uint64_t addr, size;
};

static struct config g_cfg; /* large: not on the firmware's stack */
static struct module g_mods[MAX_MODULES];
static unsigned g_nr_mods;
static char g_cmdline[CMDLINE_MAX];

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static void *config_table(EFI_GUID *guid)
{
    for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++)
        if (guid_eq(&efi_st->ConfigurationTable[i].VendorGuid, guid))
            return efi_st->ConfigurationTable[i].VendorTable;
    return NULL;
}

/* The command line: the load options (efibootmgr -u, the UEFI shell; the
 * shell passes the program's own name first, which is dropped), else the
 * configuration's `cmdline` key. */
static void pick_cmdline(void)
{
    EFI_LOADED_IMAGE *li;
    g_cmdline[0] = '\0';
    if (efi_st->BootServices->HandleProtocol(efi_image, &loaded_image_guid, (void **)&li) ==
            EFI_SUCCESS &&
        li->LoadOptionsSize >= sizeof(CHAR16) && li->LoadOptions) {
        ucs2_to_ascii(li->LoadOptions, li->LoadOptionsSize / sizeof(CHAR16), g_cmdline,
                      sizeof(g_cmdline));
        const char *p = g_cmdline;
        while (*p == ' ')
            p++;
        const char *word_end = p;
        while (*word_end && *word_end != ' ')
            word_end++;
        size_t wl = (size_t)(word_end - p);
        if (wl >= 4 && (!strncmp(word_end - 4, ".efi", 4) || !strncmp(word_end - 4, ".EFI", 4)))
            p = word_end;
        while (*p == ' ')
            p++;
        memmove(g_cmdline, p, strlen(p) + 1);
    }
    if (!g_cmdline[0])
        str_copy(g_cmdline, g_cfg.global.cmdline, sizeof(g_cmdline));
}

static int known_module(const char *name)
{
    for (unsigned i = 0; i < g_nr_mods; i++)
        if (!strcmp(g_mods[i].name, name))
            return 1;
    return 0;
}

static EFI_STATUS read_config(struct efi_dir *dir)
{
    char err[200];
    struct module *m = &g_mods[g_nr_mods++];
    m->name = CONFIG_FILE;
    EFI_STATUS st =
        efi_read_file(dir, CONFIG_FILE, CONFIG_MAX_SIZE, &m->addr, &m->size, err, sizeof(err));
    if (st != EFI_SUCCESS)
        return efi_fail(st, "%s", err);
    if (config_parse((const char *)(uintptr_t)m->addr, m->size, CONFIG_FILE, &g_cfg)) {
        for (unsigned i = 0; i < g_cfg.nr_errors; i++) {
            char line[256];
            config_format_error(&g_cfg.errors[i], CONFIG_FILE, line, sizeof(line));
            efi_printf("%s\n", line);
        }
        return efi_fail(EFI_INVALID_PARAMETER, "%s\\%s has %u error(s); fix it and try again",
                        dir->path, CONFIG_FILE, g_cfg.nr_errors);
    }
    return EFI_SUCCESS;
}

/* Every kernel and initrd the VMs name, once each, in file order. */
static EFI_STATUS read_modules(struct efi_dir *dir)
{
    for (unsigned v = 0; v < g_cfg.nr_vms; v++) {
        const char *names[2] = {g_cfg.vms[v].kernel, g_cfg.vms[v].initrd};
        for (unsigned k = 0; k < 2; k++) {
            if (!names[k][0] || known_module(names[k]))
                continue;
            char err[200];
            struct module *m = &g_mods[g_nr_mods];
            m->name = names[k];
            EFI_STATUS st =
                efi_read_file(dir, m->name, MAX_FILE, &m->addr, &m->size, err, sizeof(err));
            if (st != EFI_SUCCESS)
                return efi_fail(st, "vm %s: module %s: %s", g_cfg.vms[v].name, m->name, err);
            g_nr_mods++;
            efi_printf("bulkhead.efi: %s: %llu KiB\n", m->name,
                       (unsigned long long)(m->size + 1023) / 1024);
        }
    }
    return EFI_SUCCESS;
}

static struct handoff_params g_handoff;

/* Makes sure nothing else is allocated in [lo, hi), where the hypervisor
 * will be copied after ExitBootServices: free pages are claimed; pages the
 * firmware's boot services or this loader use are fine (free by then);
 * anything that outlives boot services (runtime services, ACPI, MMIO,
 * reserved) is an error. Safe to call again. */
static EFI_STATUS claim_range(uint64_t lo, uint64_t hi)
{
    EFI_BOOT_SERVICES *bs = efi_st->BootServices;
    UINTN size = 0, key, dsize = 0;
    UINT32 dver;
    void *map;
    bs->GetMemoryMap(&size, NULL, &key, &dsize, &dver);
    size += 16 * dsize;
    if (!dsize || bs->AllocatePool(EfiLoaderData, size, &map) != EFI_SUCCESS)
        return efi_fail(EFI_OUT_OF_RESOURCES, "no memory for the memory map");
    EFI_STATUS st = bs->GetMemoryMap(&size, map, &key, &dsize, &dver);
    for (UINTN off = 0; st == EFI_SUCCESS && off + dsize <= size; off += dsize) {
        EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((uint8_t *)map + off);
        uint64_t s = d->PhysicalStart, e = s + d->NumberOfPages * 4096;
        if (e <= lo || s >= hi)
            continue;
        s = s > lo ? s : lo;
        e = e < hi ? e : hi;
        switch (d->Type) {
        case EfiConventionalMemory: {
            EFI_PHYSICAL_ADDRESS at = s;
            st = bs->AllocatePages(AllocateAddress, EfiLoaderData, (e - s) / 4096, &at);
            if (st != EFI_SUCCESS)
                st = efi_fail(st, "cannot claim 0x%llx-0x%llx for the hypervisor (status 0x%llx)",
                              (unsigned long long)s, (unsigned long long)e, (unsigned long long)st);
            break;
        }
        case EfiLoaderCode:
        case EfiLoaderData:
        case EfiBootServicesCode:
        case EfiBootServicesData:
            break;
        default:
            st = efi_fail(EFI_LOAD_ERROR,
                          "the hypervisor runs at 0x%llx-0x%llx, but 0x%llx-0x%llx there is "
                          "EFI memory of type %u, which outlives boot services",
                          (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)s,
                          (unsigned long long)e, (unsigned)d->Type);
        }
    }
    bs->FreePool(map);
    return st;
}

/* Reads and checks the hypervisor, claims the range it is linked at (it
 * runs identity-mapped there) and stages its segments in a buffer the
 * hand-off copies into place. Runs before anything else is allocated. */
static EFI_STATUS load_hypervisor(struct efi_dir *dir)
{
    EFI_BOOT_SERVICES *bs = efi_st->BootServices;
    char err[200];
    uint64_t addr, size;
    EFI_STATUS st = efi_read_file(dir, HV_FILE, MAX_FILE, &addr, &size, err, sizeof(err));
    if (st != EFI_SUCCESS)
        return efi_fail(st, "the hypervisor: %s", err);
    const uint8_t *image = (const uint8_t *)(uintptr_t)addr;
    struct elf_image elf;
    if (elf_parse(image, size, HV_RAM_LIMIT, &elf, err, sizeof(err)))
        return efi_fail(EFI_LOAD_ERROR, "%s\\%s: %s", dir->path, HV_FILE, err);
    uint64_t lo = ~0ULL, hi = 0;
    for (unsigned i = 0; i < elf.nr_segments; i++) {
        const struct elf_segment *s = &elf.seg[i];
        lo = s->paddr < lo ? s->paddr : lo;
        hi = s->paddr + s->memsz > hi ? s->paddr + s->memsz : hi;
    }
    lo &= ~0xfffULL;
    hi = (hi + 4095) & ~0xfffULL;
    if ((st = claim_range(lo, hi)) != EFI_SUCCESS)
        return st;
    EFI_PHYSICAL_ADDRESS stage = BELOW_4G;
    if (bs->AllocatePages(AllocateMaxAddress, EfiLoaderData, (hi - lo) / 4096, &stage) !=
        EFI_SUCCESS)
        return efi_fail(EFI_OUT_OF_RESOURCES, "no %llu KiB below 4 GiB to stage the hypervisor",
                        (unsigned long long)(hi - lo) / 1024);
    memset((void *)(uintptr_t)stage, 0, hi - lo);
    for (unsigned i = 0; i < elf.nr_segments; i++) {
        const struct elf_segment *s = &elf.seg[i];
        memcpy((void *)(uintptr_t)(stage + s->paddr - lo), image + s->offset, s->filesz);
    }
    bs->FreePages(addr, (size + 4095) / 4096);
    g_handoff.entry = (uint32_t)elf.entry;
    g_handoff.dst = (uint32_t)lo;
    g_handoff.src = (uint32_t)stage;
    g_handoff.len = (uint32_t)(hi - lo);
    /* The file's pages may have been in the range: claim them back. */
    return claim_range(lo, hi);
}

static int gop_framebuffer(struct mb2_fb_info *fb)
{
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
    if (efi_st->BootServices->LocateProtocol(&gop_guid, NULL, (void **)&gop) != EFI_SUCCESS ||
        !gop->Mode || !gop->Mode->Info)
        return 0;
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
    memset(fb, 0, sizeof(*fb));
    fb->addr = gop->Mode->FrameBufferBase;
    fb->width = info->HorizontalResolution;
    fb->height = info->VerticalResolution;
    fb->bpp = 32;
    fb->pitch = info->PixelsPerScanLine * 4;
    switch (info->PixelFormat) {
    case PixelRedGreenBlueReserved8BitPerColor:
        fb->rgb = (struct mb2_fb_rgb){0, 8, 8, 8, 16, 8};
        return 1;
    case PixelBlueGreenRedReserved8BitPerColor:
        fb->rgb = (struct mb2_fb_rgb){16, 8, 8, 8, 0, 8};
        return 1;
    default: /* bit masks and Blt-only modes: no linear framebuffer we describe */
        return 0;
    }
}

/* Everything but the memory map, which is only final at the last moment. */
static void build_fixed_tags(struct mb2_builder *b)
{
    mb2b_string(b, MB2_TAG_CMDLINE, g_cmdline);
    mb2b_string(b, MB2_TAG_BOOT_LOADER_NAME, "bulkhead.efi " BULKHEAD_VERSION);
    for (unsigned i = 0; i < g_nr_mods; i++)
        mb2b_module(b, g_mods[i].addr, g_mods[i].addr + g_mods[i].size, g_mods[i].name);
    mb2b_efi64(b, (uint64_t)(uintptr_t)efi_st);
    const uint8_t *rsdp = config_table(&acpi20_guid);
    if (rsdp && rsdp[15] >= 2)
        mb2b_acpi_rsdp(b, rsdp, MB2_RSDP_V2_LEN);
    else if ((rsdp = config_table(&acpi10_guid)))
        mb2b_acpi_rsdp(b, rsdp, MB2_RSDP_V1_LEN);
    const uint8_t *sm = config_table(&smbios3_guid);
    if (sm && !memcmp(sm, "_SM3_", 5))
        mb2b_smbios(b, sm[7], sm[8], sm, sm[6] <= 64 ? sm[6] : 64);
    else if ((sm = config_table(&smbios_guid)) && !memcmp(sm, "_SM_", 4))
        mb2b_smbios(b, sm[6], sm[7], sm, sm[5] <= 64 ? sm[5] : 64);
    struct mb2_fb_info fb;
    if (gop_framebuffer(&fb))
        mb2b_framebuffer(b, &fb);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st_in)
{
    efi_st = st_in;
    efi_image = image;
    EFI_BOOT_SERVICES *bs = efi_st->BootServices;
    struct efi_dir dir;
    EFI_STATUS st;

    efi_printf("bulkhead.efi %s (%s)\n", BULKHEAD_VERSION, BULKHEAD_GIT);
    if ((st = efi_open_home(&dir)) != EFI_SUCCESS)
        return st;
    efi_printf("bulkhead.efi: loading from %s\n", dir.path);
    if ((st = load_hypervisor(&dir)) != EFI_SUCCESS || (st = read_config(&dir)) != EFI_SUCCESS ||
        (st = read_modules(&dir)) != EFI_SUCCESS)
        return st;
    pick_cmdline();
    efi_printf("bulkhead.efi: command line: %s\n", g_cmdline[0] ? g_cmdline : "(none)");

    /* Everything the last steps need is allocated now: after the final
     * GetMemoryMap nothing may allocate, or the map key goes stale. */
    EFI_PHYSICAL_ADDRESS mbi = BELOW_4G, tramp = BELOW_4G;
    if (bs->AllocatePages(AllocateMaxAddress, EfiLoaderData, MBI_PAGES, &mbi) != EFI_SUCCESS ||
        bs->AllocatePages(AllocateMaxAddress, EfiLoaderData, 1, &tramp) != EFI_SUCCESS)
        return efi_fail(EFI_OUT_OF_RESOURCES, "no memory below 4 GiB for the boot information");
    memcpy((void *)(uintptr_t)tramp, handoff_start, (size_t)(handoff_end - handoff_start));
    struct handoff_params *hp =
        (struct handoff_params *)(uintptr_t)(tramp + (uint64_t)(handoff_params - handoff_start));

    UINTN map_size = 0, map_key, desc_size;
    UINT32 desc_version;
    bs->GetMemoryMap(&map_size, NULL, &map_key, &desc_size, &desc_version);
    UINTN map_cap = map_size + 64 * (desc_size ? desc_size : 48);
    void *map;
    if (bs->AllocatePool(EfiLoaderData, map_cap, &map) != EFI_SUCCESS)
        return efi_fail(EFI_OUT_OF_RESOURCES, "no memory for the memory map");

    g_handoff.mbi = (uint32_t)mbi;
    *hp = g_handoff;
    efi_printf("bulkhead.efi: starting the hypervisor at 0x%x\n", g_handoff.entry);
    for (int attempt = 0; attempt < EBS_ATTEMPTS; attempt++) {
        map_size = map_cap;
        st = bs->GetMemoryMap(&map_size, map, &map_key, &desc_size, &desc_version);
        if (st != EFI_SUCCESS)
            return efi_fail(st, "GetMemoryMap failed (status 0x%llx)", (unsigned long long)st);
        struct mb2_builder b;
        mb2b_init(&b, (void *)(uintptr_t)mbi, MBI_PAGES * 4096);
        build_fixed_tags(&b);
        mb2b_efi_mmap(&b, map, (uint32_t)map_size, (uint32_t)desc_size, desc_version);
        if (!mb2b_finish(&b))
            return efi_fail(EFI_BUFFER_TOO_SMALL, "the boot information does not fit in %u KiB",
                            MBI_PAGES * 4);
        /* A stale key (the firmware allocated meanwhile): fetch the map again. */
        if (bs->ExitBootServices(image, map_key) == EFI_SUCCESS)
            ((handoff_fn)(uintptr_t)tramp)(tramp);
    }
    return efi_fail(EFI_ABORTED, "ExitBootServices kept failing (%d attempts)", EBS_ATTEMPTS);
}
