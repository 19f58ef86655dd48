/* Multiboot2 boot information: parsed and validated into struct boot_info.
 * The structure comes from the boot loader and is treated as hostile. */
#ifndef BOOT_MB2INFO_H
#define BOOT_MB2INFO_H

#include <stddef.h>
#include <stdint.h>

#include "boot/mb2.h"
#include "mm/memmap.h"

#define MB2_MAX_MODULES 32
#define MB2_MAX_REGIONS 128
#define MB2_MAX_SIZE    (1024u * 1024u)

struct boot_module {
    uint64_t start, end; /* end is exclusive (GRUB: mod_start + size); equal: empty */
    const char *name;    /* points into the MBI; may be "" */
};

struct boot_info {
    uint64_t mbi_phys; /* reserve [mbi_phys, mbi_phys + mbi_size) before allocating */
    uint32_t mbi_size;
    const char *cmdline;     /* "" when absent */
    const char *loader_name; /* NULL when absent */
    struct boot_module modules[MB2_MAX_MODULES];
    unsigned nr_modules;
    /* Raw map (not normalised; adjacent entries of one type are merged).
     * From tag 17 (EFI map) if present, else tag 6. */
    struct mem_region mmap[MB2_MAX_REGIONS];
    unsigned nr_mmap;
    int mmap_from_efi;
    /* Tag 18 seen: boot services still own their memory, so the EFI map's
     * BootServicesCode/Data is reported as MEM_RESERVED. */
    int efi_boot_services_active;
    uint8_t rsdp[36];          /* copy of the RSDP from tag 15 (preferred) or 14; not checksummed */
    uint32_t rsdp_len;         /* 36 (tag 15), 20 (tag 14) or 0 when absent */
    uint64_t efi_system_table; /* tag 12, 0 when absent */
    /* Tag 8 when it describes a direct-RGB linear framebuffer (type 1);
     * fb_type 0xff when absent or of another kind (EGA text, indexed). */
    struct mb2_tag_framebuffer fb;
    struct mb2_fb_rgb fb_rgb;
};

/* Validates the information structure at mbi (physical address mbi_phys;
 * pointers in out point into mbi). Returns 0, or -1 with a reason in err,
 * e.g. "multiboot2: tag 6 at offset 0x48 runs past the end of the
 * information (size 0x30)". out is left empty (cmdline "") on failure. */
int mb2_parse(uint32_t magic, const void *mbi, uint64_t mbi_phys, struct boot_info *out, char *err,
              size_t errlen);

#endif
