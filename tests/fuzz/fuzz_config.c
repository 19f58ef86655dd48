/* libFuzzer target: the configuration parser and validator on arbitrary
 * bytes, against a fixed fake machine. Besides the sanitizers it checks the
 * invariants callers rely on: bounded counts and terminated strings. */
/* clang-format off */
/* fuzz-srcs: core/config.c core/config_keys.c core/config_validate.c core/config_net.c lib/sha256.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

static const char *const modules[] = {"hello.elf", "spin.elf", "echo.elf", "cpuid-bench.elf",
                                      "hostile.elf"};
static const uint64_t sizes[] = {4096, 4096, 0, 4096, 4096}; /* echo.elf: empty */

static void check_string(const char *s, size_t size)
{
    if (!memchr(s, '\0', size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;
    const struct config_machine m = {
        .nr_cpus = 2,
        .free_ram = 256ULL << 20,
        .nr_modules = sizeof(modules) / sizeof(modules[0]),
        .module_names = modules,
        .module_sizes = sizes,
        .check_modules = true,
    };

    /* A private copy: reads past the end then hit ASan's redzone. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    int n = config_parse(text, size, "fuzz.cfg", &cfg);
    if (n < 0 || (unsigned)n != cfg.nr_errors)
        abort();
    config_validate(&cfg, &m);
    free(text);

    if (cfg.nr_errors > CONFIG_MAX_ERRORS || cfg.nr_vms > CONFIG_MAX_VMS)
        abort();
    for (unsigned i = 0; i < cfg.nr_errors; i++) {
        char line[512];
        check_string(cfg.errors[i].vm, sizeof(cfg.errors[i].vm));
        check_string(cfg.errors[i].msg, sizeof(cfg.errors[i].msg));
        config_format_error(&cfg.errors[i], "fuzz.cfg", line, sizeof(line));
    }
    check_string(cfg.global.console, sizeof(cfg.global.console));
    for (unsigned i = 0; i < cfg.nr_vms; i++) {
        const struct vm_config *vm = &cfg.vms[i];
        check_string(vm->name, sizeof(vm->name));
        check_string(vm->kernel, sizeof(vm->kernel));
        check_string(vm->initrd, sizeof(vm->initrd));
        check_string(vm->cmdline, sizeof(vm->cmdline));
        if (!vm->name[0] || vm->nr_vcpus < 1 || vm->nr_vcpus > MAX_VCPUS ||
            vm->nr_uarts > VM_MAX_UARTS || vm->nr_ioports > VM_MAX_IOPORTS ||
            vm->nr_pci > VM_MAX_PCI)
            abort();
        /* A VM that is still valid has passed every check. */
        if (cfg.vm_valid[i]) {
            if (!vm->kernel[0] || vm->mem_size < (2u << 20) || vm->mem_size > m.free_ram)
                abort();
            for (unsigned c = 0; c < vm->nr_vcpus; c++)
                if (vm->pcpu[c] >= m.nr_cpus)
                    abort();
        }
    }
    return 0;
}
