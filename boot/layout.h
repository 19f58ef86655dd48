/* Host-physical memory the hypervisor keeps for itself on every machine.
 * One definition for linker.ld (run through the C preprocessor) and the
 * configuration checks (core/config_validate.c, in the kernel and in
 * bulkhead-check), so a `memory_base` on it is refused before boot. Plain
 * #defines only: linker.ld includes this file.
 *
 * Below 2 MiB (firmware, the AP trampoline page) needs no entry: a
 * `memory_base` is a non-zero multiple of 2M. */
#ifndef BOOT_LAYOUT_H
#define BOOT_LAYOUT_H

/* The image (multiboot2 header, text, data, bss) is linked and loaded at
 * HV_IMAGE_BASE, clear of the low memory UEFI firmware uses, and may take up
 * to HV_IMAGE_MAX bytes: linker.ld refuses a larger image. */
#define HV_IMAGE_BASE 0x1000000
#define HV_IMAGE_MAX  0x1000000

#endif
