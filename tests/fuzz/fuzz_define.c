/* libFuzzer target: `define`'s check of one [vm NAME] section
 * (core/define_check.c) on arbitrary bytes, against two VMs already
 * defined and a fixed fake machine. Besides the sanitizers it checks what
 * callers rely on: a terminated message whenever the section is refused,
 * and an accepted VM that passed every check and takes no name in use. */
/* clang-format off */
/* fuzz-srcs: core/define_check.c core/config.c core/config_keys.c core/config_validate.c core/config_net.c lib/sha256.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/define_check.h"

static const char *const modules[] = {"hello.elf", "spin.elf", "echo.elf"};
static const uint64_t sizes[] = {4096, 4096, 0}; /* echo.elf: empty */

static const char existing_text[] = "[vm a]\nkernel = hello.elf\ncpus = [1]\ncpu_policy = "
                                    "dedicated\nioports = [0x2f8-0x2ff]\n"
                                    "[vm b]\nkernel = spin.elf\nmemory = 32M\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config scratch;
    static struct vm_config existing[2];
    static char err[2048];
    static int ready;
    if (!ready) {
        if (config_parse(existing_text, sizeof(existing_text) - 1, "x", &scratch) ||
            scratch.nr_vms != 2)
            abort();
        existing[0] = scratch.vms[0];
        existing[1] = scratch.vms[1];
        ready = 1;
    }
    const struct config_machine m = {
        .nr_cpus = 2,
        .free_ram = 256ULL << 20,
        .nr_modules = sizeof(modules) / sizeof(modules[0]),
        .module_names = modules,
        .module_sizes = sizes,
        .check_modules = true,
    };
    struct define_context ctx = {existing, 2, NULL, &m, 8192};
    struct vm_config out;
    memset(&out, 0, sizeof(out));

    /* A private copy: reads past the end then hit ASan's redzone. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    memset(err, 'x', sizeof(err));
    int n = define_check_section(text, size, NULL, &ctx, &scratch, &out, err, sizeof(err));
    free(text);

    if (n < 0 || !memchr(err, '\0', sizeof(err)))
        abort();
    if (n > 0) {
        if (!err[0] || out.name[0]) /* refused: said why, filled nothing */
            abort();
        return 0;
    }
    if (err[0] || !out.name[0] || !out.kernel[0] || !strcmp(out.name, "a") ||
        !strcmp(out.name, "b") || out.mem_size < (2u << 20) || out.mem_size > m.free_ram ||
        !out.nr_vcpus || out.nr_vcpus > MAX_VCPUS)
        abort();
    for (unsigned c = 0; c < out.nr_vcpus; c++)
        if (out.pcpu[c] >= m.nr_cpus || (out.pcpu[c] == 1)) /* CPU 1 is a's alone */
            abort();
    return 0;
}
