/* Direct boot of a Linux bzImage (boot protocol 2.06+): the protected-mode
 * kernel, initrd, command line and boot_params placed in guest RAM, then
 * the 32-bit entry with ESI = boot_params and flat __BOOT_CS/__BOOT_DS. */
#include "loader/linux_boot.h"
#include "loader/loader.h"
#include "loader/modules.h"
#include "vcpu/vm.h"
#include "lib/format.h"
#include "lib/string.h"

#define BOOT_CS 0x10
#define BOOT_DS 0x18

int guest_load_linux(struct vm *vm, struct vcpu_boot_state *out, char *err, unsigned errlen)
{
    static uint8_t zero_page[LINUX_ZERO_PAGE_SIZE];
    struct linux_image li;
    struct linux_layout lay;
    struct e820_entry e820[16];
    char why[128];
    const struct guest_module *k = guest_module_find(vm->cfg.kernel);
    const struct guest_module *rd = vm->cfg.initrd[0] ? guest_module_find(vm->cfg.initrd) : NULL;
    const uint8_t *img = (const uint8_t *)k->start;
    uint64_t img_size = k->end - k->start;
    uint64_t rd_size = rd ? rd->end - rd->start : 0;
    uint32_t clen = (uint32_t)strnlen(vm->cfg.cmdline, sizeof(vm->cfg.cmdline));

    if (vm->cfg.initrd[0] && !rd) {
        fmt_snprintf(err, errlen, "initrd module '%s' not found", vm->cfg.initrd);
        return -1;
    }
    if (linux_parse_bzimage(img, img_size, &li, why, sizeof(why)) ||
        linux_plan_layout(&li, vm->cfg.mem_size, rd_size, clen, &lay, why, sizeof(why))) {
        fmt_snprintf(err, errlen, "kernel '%s': %s", vm->cfg.kernel, why);
        return -1;
    }
    /* An identity-mapped VM's RAM above 1 MiB starts at its memory_base. */
    uint64_t ib = vm_identity_base(&vm->cfg);
    if (ib) {
        lay.kernel_gpa += ib;
        lay.kernel_end += ib;
        if (rd_size)
            lay.initrd_gpa += ib;
        if (rd_size && lay.initrd_gpa + rd_size - 1 > li.initrd_addr_max) {
            fmt_snprintf(err, errlen, "initrd: above initrd_addr_max 0x%x at memory_base 0x%llx",
                         li.initrd_addr_max, (unsigned long long)ib);
            return -1;
        }
    }
    if (vm_write_guest(vm, lay.kernel_gpa, img + li.payload_offset, li.payload_size) ||
        (rd_size && vm_write_guest(vm, lay.initrd_gpa, (const void *)rd->start, rd_size)) ||
        vm_write_guest(vm, lay.cmdline_gpa, vm->cfg.cmdline, clen) ||
        vm_write_guest(vm, lay.cmdline_gpa + clen, "", 1)) {
        fmt_snprintf(err, errlen, "kernel '%s': cannot place the image in guest memory",
                     vm->cfg.kernel);
        return -1;
    }
    unsigned n = linux_build_e820(vm->cfg.mem_size, GPA_BIOS_AREA,
                                  GPA_BIOS_AREA_END - GPA_BIOS_AREA, e820, 16);
    for (unsigned i = 0; ib && i < n; i++)
        if (e820[i].addr >= GPA_BIOS_AREA_END)
            e820[i].addr += ib;
    struct linux_boot_params_in in = {
        lay.cmdline_gpa, clen, lay.initrd_gpa, rd_size, vm->acpi_rsdp_gpa, e820, n};
    if (linux_build_boot_params(img, img_size, &li, &in, zero_page, why, sizeof(why)) ||
        vm_write_guest(vm, lay.zero_page_gpa, zero_page, sizeof(zero_page))) {
        fmt_snprintf(err, errlen, "kernel '%s': boot_params: %s", vm->cfg.kernel, why);
        return -1;
    }
    /* GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18), flat 4 GiB. */
    static const uint64_t gdt[4] = {0, 0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL};
    if (vm_write_guest(vm, lay.gdt_gpa, gdt, sizeof(gdt))) {
        fmt_snprintf(err, errlen, "cannot write the boot GDT");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->mode = ENTRY_PROTECTED_FLAT;
    out->rip = lay.kernel_gpa;
    out->gprs[GPR_RSI] = lay.zero_page_gpa;
    out->cs_sel = BOOT_CS;
    out->ds_sel = BOOT_DS;
    out->gdt_base = lay.gdt_gpa;
    out->gdt_limit = sizeof(gdt) - 1;
    return 0;
}
