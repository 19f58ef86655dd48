/* libFuzzer target: the hypervisor's command line as the boot loader hands
 * it over (core/cmdline.c: key=value options, GRUB's moved quotes and
 * escapes) and each `vm=` option in it (core/vmspec.c). Input: the command
 * line. Besides the sanitizers it checks what boot relies on: at most
 * CMDLINE_MAX_ARGS options, every key and value a terminated string in the
 * pool (a bare flag's value ""), the last value the one found, and a `vm=`
 * VM accepted only with a name, a module, 1 vCPU and RAM in 2 MiB steps. */
/* clang-format off */
/* fuzz-srcs: core/cmdline.c core/vmspec.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmdline.h"
#include "core/vmspec.h"
#include "tests/fuzz/fuzz_input.h"

/* A key or value: a terminated string in the pool (a bare flag's value is
 * the parser's own ""). */
static void check_pooled(const struct cmdline *c, const char *s)
{
    if (s < c->pool || s >= c->pool + CMDLINE_POOL) {
        FUZZ_CHECK(!*s);
        return;
    }
    FUZZ_CHECK(memchr(s, '\0', (size_t)(c->pool + CMDLINE_POOL - s)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cmdline c;
    static struct vm_config vm;
    char err[200];
    /* The loader's string: terminated at the first NUL or the end. */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    if (cmdline_parse(s, &c, err, sizeof(err))) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
        free(s);
        return 0;
    }
    free(s); /* nothing may point into it now */
    FUZZ_CHECK(c.n <= CMDLINE_MAX_ARGS);
    for (unsigned i = 0; i < c.n; i++) {
        check_pooled(&c, c.key[i]);
        check_pooled(&c, c.value[i]);
        FUZZ_CHECK(c.key[i][0]);
        /* cmdline_get gives the last value of a key. */
        const char *v = cmdline_get(&c, c.key[i]);
        FUZZ_CHECK(v);
        unsigned last = i;
        for (unsigned j = i + 1; j < c.n; j++)
            if (!strcmp(c.key[j], c.key[i]))
                last = j;
        FUZZ_CHECK(v == c.value[last]);
    }
    const char *vms[CMDLINE_MAX_ARGS];
    unsigned n = cmdline_get_all(&c, "vm", vms, CMDLINE_MAX_ARGS);
    FUZZ_CHECK(n <= c.n);
    for (unsigned i = 0; i < n; i++) {
        memset(&vm, 0, sizeof(vm));
        if (vmspec_parse(vms[i], &vm, err, sizeof(err))) {
            FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
            continue;
        }
        FUZZ_CHECK(vm.name[0] && memchr(vm.name, '\0', sizeof(vm.name)));
        FUZZ_CHECK(vm.kernel[0] && memchr(vm.kernel, '\0', sizeof(vm.kernel)));
        FUZZ_CHECK(memchr(vm.cmdline, '\0', sizeof(vm.cmdline)));
        FUZZ_CHECK(vm.nr_vcpus == 1 && vm.mem_size && vm.mem_size % (2u << 20) == 0);
        FUZZ_CHECK(!vm.realtime || vm.pcpu[0] != 0);
    }
    return 0;
}
