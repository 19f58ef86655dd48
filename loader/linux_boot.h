/* The pure parts of the Linux x86 boot protocol (Documentation/x86/boot.rst,
 * protocol 2.06 and later): bzImage setup-header parsing, the boot_params
 * "zero page", the VM's e820 map and where each piece goes in guest memory.
 * Kernel images are hostile input: everything is bounds-checked. */
#ifndef LOADER_LINUX_BOOT_H
#define LOADER_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINUX_ZERO_PAGE_SIZE  4096
#define LINUX_MIN_PROTOCOL    0x206
#define LINUX_E820_MAX        128
#define LINUX_E820_RAM        1
#define LINUX_E820_RESERVED   2
#define LINUX_E820_ACPI       3
#define LINUX_LOW_RAM_TOP     0xC0000000ull /* the 32-bit MMIO hole starts here */
#define LINUX_HIGH_RAM_BASE   0x100000000ull
#define LINUX_BIOS_AREA_START 0xE0000ull
#define LINUX_EBDA_START      0x9FC00ull

/* loadflags */
#define LINUX_LOADED_HIGH   (1u << 0)
#define LINUX_KEEP_SEGMENTS (1u << 6)
#define LINUX_CAN_USE_HEAP  (1u << 7)
/* xloadflags */
#define LINUX_XLF_KERNEL_64              (1u << 0)
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

/* boot_params offsets (arch/x86/include/uapi/asm/bootparam.h). */
#define LINUX_BP_ACPI_RSDP_ADDR    0x070
#define LINUX_BP_EXT_RAMDISK_IMAGE 0x0C0
#define LINUX_BP_EXT_RAMDISK_SIZE  0x0C4
#define LINUX_BP_EXT_CMD_LINE_PTR  0x0C8
#define LINUX_BP_E820_ENTRIES      0x1E8
#define LINUX_BP_SETUP_HDR         0x1F1
#define LINUX_BP_E820_TABLE        0x2D0
/* setup header fields, as offsets in the image and the zero page alike */
#define LINUX_HDR_SETUP_SECTS      0x1F1
#define LINUX_HDR_SYSSIZE          0x1F4
#define LINUX_HDR_VID_MODE         0x1FA
#define LINUX_HDR_BOOT_FLAG        0x1FE
#define LINUX_HDR_JUMP             0x200
#define LINUX_HDR_MAGIC            0x202
#define LINUX_HDR_VERSION          0x206
#define LINUX_HDR_TYPE_OF_LOADER   0x210
#define LINUX_HDR_LOADFLAGS        0x211
#define LINUX_HDR_RAMDISK_IMAGE    0x218
#define LINUX_HDR_RAMDISK_SIZE     0x21C
#define LINUX_HDR_HEAP_END_PTR     0x224
#define LINUX_HDR_CMD_LINE_PTR     0x228
#define LINUX_HDR_INITRD_ADDR_MAX  0x22C
#define LINUX_HDR_KERNEL_ALIGNMENT 0x230
#define LINUX_HDR_RELOCATABLE      0x234
#define LINUX_HDR_XLOADFLAGS       0x236
#define LINUX_HDR_CMDLINE_SIZE     0x238
#define LINUX_HDR_PREF_ADDRESS     0x258
#define LINUX_HDR_INIT_SIZE        0x260
#define LINUX_HDR_HANDOVER_OFFSET  0x264
#define LINUX_HDR_END_MAX          0x290 /* the zero page's header area ends here */

struct linux_image {
    uint16_t protocol;
    uint8_t setup_sects; /* as found in the file (0 means 4) */
    uint8_t loadflags;
    uint32_t syssize;
    uint64_t pref_address;
    uint32_t init_size;
    uint32_t kernel_alignment;
    bool relocatable;
    uint64_t setup_size;                   /* bytes of real-mode setup incl. boot sector */
    uint64_t payload_offset, payload_size; /* the protected-mode kernel within the file */
    uint32_t cmdline_size;                 /* longest command line, without its NUL */
    uint16_t xloadflags;
    uint32_t handover_offset;
    uint32_t initrd_addr_max; /* highest address the initrd may occupy */
    uint32_t hdr_end;         /* setup header bytes end here (0x202 + byte 0x201) */
};

/* 0 with *out filled, or -1 with the reason in err. */
int linux_parse_bzimage(const void *img, uint64_t size, struct linux_image *out, char *err,
                        size_t errlen);

struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

struct linux_boot_params_in {
    uint64_t cmdline_gpa;
    uint32_t cmdline_len;             /* without the NUL */
    uint64_t initrd_gpa, initrd_size; /* size 0: no initrd */
    uint64_t rsdp_gpa;                /* 0: the guest scans for it */
    const struct e820_entry *e820;
    unsigned nr_e820;
};

/* Builds the 4096-byte zero page: the image's setup header, loader type
 * 0xFF, CAN_USE_HEAP, command line, initrd, e820 and (protocol 2.14+) the
 * RSDP address. 0, or -1 with the reason in err. */
int linux_build_boot_params(const void *img, uint64_t img_size, const struct linux_image *li,
                            const struct linux_boot_params_in *in,
                            uint8_t zero_page[LINUX_ZERO_PAGE_SIZE], char *err, size_t errlen);

/* The VM's e820: RAM below 0x9FC00, the EBDA slot and the BIOS area
 * 0xE0000-0xFFFFF reserved, RAM from 1 MiB to min(mem, 3 GiB) and the rest
 * of mem_size from 4 GiB up. An ACPI range outside the BIOS area is cut out
 * of RAM as type 3. Returns the entry count (sorted, non-overlapping), or 0
 * when max is too small. */
unsigned linux_build_e820(uint64_t mem_size, uint64_t acpi_base, uint64_t acpi_size,
                          struct e820_entry *out, unsigned max);

struct linux_layout {
    uint64_t kernel_gpa, initrd_gpa, cmdline_gpa, zero_page_gpa;
    uint64_t gdt_gpa;    /* a free page for the 32-bit entry's GDT */
    uint64_t kernel_end; /* kernel_gpa + init_size: the kernel's whole footprint */
};

/* Places the kernel (pref_address, aligned for a relocatable kernel), the
 * initrd (as high as allowed below initrd_addr_max and the 32-bit hole,
 * above the kernel's init_size), the command line and the zero page (low
 * memory). 0, or -1 with the reason in err when mem_size is too small. */
int linux_plan_layout(const struct linux_image *li, uint64_t mem_size, uint64_t initrd_size,
                      uint32_t cmdline_len, struct linux_layout *out, char *err, size_t errlen);

#endif
