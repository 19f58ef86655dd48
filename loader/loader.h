/* Kernel loaders: put a boot module's image into guest RAM and describe
 * the vCPU state it starts in. */
#ifndef LOADER_LOADER_H
#define LOADER_LOADER_H

#include <stdint.h>

#include "hvm/vcpu.h"

struct vm;

/* Loads an ELF kernel (32- or 64-bit, PT_LOAD at physical addresses) and
 * builds a multiboot2 information block for it (a multiboot v1 block for a
 * kernel with only a v1 header); the vCPU starts in 32-bit flat protected
 * mode with EAX = the protocol's magic and EBX = that block. */
int guest_load_kernel(struct vm *vm, const void *image, uint64_t size, const char *cmdline,
                      struct vcpu_boot_state *out, char *err, unsigned errlen);

/* A raw binary at the configured load address, entered at `entry`. */
int guest_load_raw(struct vm *vm, const void *image, uint64_t size, struct vcpu_boot_state *out,
                   char *err, unsigned errlen);

/* Linux bzImage direct boot (the VM's kernel/initrd modules, its cmdline);
 * needs the VM's platform (ACPI RSDP) in place first. */
int guest_load_linux(struct vm *vm, struct vcpu_boot_state *out, char *err, unsigned errlen);

/* Pure ELF checks, shared with the host unit tests. */
struct elf_segment {
    uint64_t offset, filesz, paddr, memsz;
};
#define ELF_MAX_SEGMENTS 16
struct elf_image {
    uint64_t entry;
    unsigned nr_segments;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
};
/* Validates headers and segment bounds against the file size and a guest
 * RAM size (segments may not touch [0xa0000, 0x100000)); returns 0 or -1
 * with a reason. */
int elf_parse(const void *image, uint64_t size, uint64_t ram_size, struct elf_image *out, char *err,
              unsigned errlen);

#endif
