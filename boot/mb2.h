/* The multiboot2 boot information format (Multiboot2 specification 1.0,
 * GRUB's multiboot2.h): tag numbers and the layouts of the tags Bulkhead
 * reads (boot/mb2info.c) and writes (boot/efi/mb2build.c, used by the EFI
 * loader). The one place the format is written down. */
#ifndef BOOT_MB2_H
#define BOOT_MB2_H

#include <stdint.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

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

#define MB2_INFO_HDR    8 /* u32 total_size, u32 reserved */
#define MB2_TAG_HDR     8 /* u32 type, u32 size; tags start 8-byte aligned */
#define MB2_TAG_ALIGN   8
#define MB2_MMAP_HDR    16 /* tags 6 and 17: + u32 entry/descriptor size, u32 version */
#define MB2_MMAP_ENTRY  24 /* u64 base_addr, u64 length, u32 type, u32 reserved */
#define MB2_RSDP_V1_LEN 20
#define MB2_RSDP_V2_LEN 36

struct mb2_tag {
    uint32_t type, size;
};

/* Tag 3: module [mod_start, mod_end) below 4 GiB, then its NUL-terminated
 * string (the name Bulkhead finds it by). */
struct mb2_tag_module {
    uint32_t type, size;
    uint32_t mod_start, mod_end;
};

/* Tag 17: the EFI memory map as GetMemoryMap() returned it. */
struct mb2_tag_efi_mmap {
    uint32_t type, size;
    uint32_t descr_size, descr_version;
};

/* Tag 12: the EFI system table (64-bit). */
struct mb2_tag_efi64 {
    uint32_t type, size;
    uint64_t pointer;
};

/* Tag 8: the linear framebuffer. Type 1 (direct RGB) is followed by
 * struct mb2_fb_rgb. */
#define MB2_FB_TYPE_INDEXED 0
#define MB2_FB_TYPE_RGB     1
#define MB2_FB_TYPE_TEXT    2
struct mb2_tag_framebuffer {
    uint32_t type, size;
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp, fb_type;
    uint16_t reserved;
};
struct mb2_fb_rgb {
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

/* Tag 13: SMBIOS version and a copy of its entry point structure. */
struct mb2_tag_smbios {
    uint32_t type, size;
    uint8_t major, minor, reserved[6];
};

_Static_assert(sizeof(struct mb2_tag_module) == 16, "module tag layout");
_Static_assert(sizeof(struct mb2_tag_efi_mmap) == MB2_MMAP_HDR, "EFI map tag layout");
_Static_assert(sizeof(struct mb2_tag_efi64) == 16, "EFI64 tag layout");
_Static_assert(sizeof(struct mb2_tag_framebuffer) == 32, "framebuffer tag layout");
_Static_assert(sizeof(struct mb2_tag_smbios) == 16, "SMBIOS tag layout");

#endif
