/* Multiboot2 boot information: parsed and validated into struct boot_info.
 * The structure comes from the boot loader and is treated as hostile. */
#ifndef BOOT_MB2INFO_H
#define BOOT_MB2INFO_H

#include <stddef.h>
#include <stdint.h>

#include "mm/memmap.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_MAX_MODULES      32
#define MB2_MAX_REGIONS      128
#define MB2_MAX_SIZE         (1024u * 1024u)

/* Tag types (GRUB multiboot2.h: MULTIBOOT_TAG_TYPE_*). */
enum mb2_tag_type {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_BOOT_LOADER_NAME = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_BASIC_MEMINFO = 4,
    MB2_TAG_BOOTDEV = 5,
    MB2_TAG_MMAP = 6,
    MB2_TAG_VBE = 7,
    MB2_TAG_FRAMEBUFFER = 8,
    MB2_TAG_ELF_SECTIONS = 9,
    MB2_TAG_APM = 10,
    MB2_TAG_EFI32 = 11,
    MB2_TAG_EFI64 = 12,
    MB2_TAG_SMBIOS = 13,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
    MB2_TAG_NETWORK = 16,
    MB2_TAG_EFI_MMAP = 17,
    MB2_TAG_EFI_BS = 18,
    MB2_TAG_EFI32_IH = 19,
    MB2_TAG_EFI64_IH = 20,
    MB2_TAG_LOAD_BASE_ADDR = 21,
};

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
};

/* Validates the information structure at mbi (physical address mbi_phys;
 * pointers in out point into mbi). Returns 0, or -1 with a reason in err,
 * e.g. "multiboot2: tag 6 at offset 0x48 runs past the end of the
 * information (size 0x30)". out is left empty (cmdline "") on failure. */
int mb2_parse(uint32_t magic, const void *mbi, uint64_t mbi_phys, struct boot_info *out, char *err,
              size_t errlen);

#endif
