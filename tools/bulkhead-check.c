/* bulkhead-check: the hypervisor's configuration parser, run on the host.
 *
 *   bulkhead-check [--cpus N] [--mem SIZE] [--modules a,b] [--pci 00:02.0,...]
 *                  [--console com1|com2|0xPORT|mmio] FILE
 *       prints every error as "FILE:LINE: ..." and exits 1 when there are
 *       any, 0 when the file is valid (for that machine, when described).
 *       The console (the boot command line's) is COM1 unless --console says
 *       otherwise: no VM may have its ports passed through.
 *   bulkhead-check --list-modules FILE
 *       prints the modules the VMs name (kernel, initrd), one per line, once
 *       each; `make iso` puts exactly those into the ISO. Errors in the file
 *       do not stop the listing (the hypervisor reports them at boot).
 *
 * Exit status 2: bad usage or an unreadable file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

#define MAX_MODULES 64
#define MAX_PCI     64

static void usage(void)
{
    fprintf(stderr, "usage: bulkhead-check [--cpus N] [--mem SIZE] [--modules a,b,...] "
                    "[--pci BDF,...] [--console com1|com2|0xPORT|mmio] FILE\n"
                    "       bulkhead-check --list-modules FILE\n");
    exit(2);
}

/* Reads at most CONFIG_MAX_SIZE + 1 bytes: enough for the parser to see that
 * the file is too large. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bulkhead-check: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char *buf = malloc(CONFIG_MAX_SIZE + 1);
    if (!buf) {
        fprintf(stderr, "bulkhead-check: out of memory\n");
        exit(2);
    }
    *len = fread(buf, 1, CONFIG_MAX_SIZE + 1, f);
    if (ferror(f)) {
        fprintf(stderr, "bulkhead-check: %s: read error\n", path);
        exit(2);
    }
    fclose(f);
    return buf;
}

/* Splits a comma-separated option value in place. */
static unsigned split(char *s, char **out, unsigned max, const char *opt)
{
    unsigned n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max) {
            fprintf(stderr, "bulkhead-check: %s: more than %u entries\n", opt, max);
            exit(2);
        }
        out[n++] = tok;
    }
    return n;
}

static int parse_bdf(const char *s, struct config_pci_dev *d)
{
    unsigned seg = 0, bus, dev, fn;
    char tail;
    if (sscanf(s, "%x:%x:%x.%x%c", &seg, &bus, &dev, &fn, &tail) != 4) {
        seg = 0;
        if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)
            return -1;
    }
    if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
        return -1;
    d->seg = (uint16_t)seg;
    d->bus = (uint8_t)bus;
    d->dev = (uint8_t)dev;
    d->fn = (uint8_t)fn;
    return 0;
}

static int list_modules(const struct config *cfg)
{
    const char *seen[CONFIG_MAX_VMS * 2];
    unsigned n = 0;
    for (unsigned i = 0; i < cfg->nr_vms; i++) {
        const char *names[2] = {cfg->vms[i].kernel, cfg->vms[i].initrd};
        for (unsigned k = 0; k < 2; k++) {
            bool dup = !names[k][0];
            for (unsigned j = 0; j < n && !dup; j++)
                dup = !strcmp(seen[j], names[k]);
            if (!dup) {
                seen[n++] = names[k];
                printf("%s\n", names[k]);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct config cfg;
    struct config_machine m = {0};
    char *modules[MAX_MODULES];
    struct config_pci_dev pci[MAX_PCI];
    bool list = false;
    const char *file = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_arg = i + 1 < argc;
        if (!strcmp(a, "--list-modules")) {
            list = true;
        } else if (!strcmp(a, "--cpus") && has_arg) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 0);
            if (*end || !v || v > CONFIG_MAX_CPUS) {
                fprintf(stderr, "bulkhead-check: --cpus: expected 1-%u\n", CONFIG_MAX_CPUS);
                return 2;
            }
            m.nr_cpus = (unsigned)v;
        } else if (!strcmp(a, "--mem") && has_arg) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 0);
            unsigned shift = 0;
            if (*end == 'K' || *end == 'k')
                shift = 10;
            else if (*end == 'M' || *end == 'm')
                shift = 20;
            else if (*end == 'G' || *end == 'g')
                shift = 30;
            if ((shift && end[1]) || (!shift && *end) || !v || v > (~0ULL >> shift)) {
                fprintf(stderr, "bulkhead-check: --mem: expected a size like 512M\n");
                return 2;
            }
            m.free_ram = v << shift;
        } else if (!strcmp(a, "--modules") && has_arg) {
            m.nr_modules = split(argv[++i], modules, MAX_MODULES, "--modules");
            m.module_names = (const char *const *)modules;
            m.check_modules = true;
        } else if (!strcmp(a, "--pci") && has_arg) {
            char *bdfs[MAX_PCI];
            m.nr_pci = split(argv[++i], bdfs, MAX_PCI, "--pci");
            for (unsigned k = 0; k < m.nr_pci; k++) {
                if (parse_bdf(bdfs[k], &pci[k])) {
                    fprintf(stderr, "bulkhead-check: --pci: bad device '%s'\n", bdfs[k]);
                    return 2;
                }
            }
            m.pci = pci;
            m.check_pci = true;
        } else if (!strcmp(a, "--console") && has_arg) {
            const char *v = argv[++i];
            char *end;
            unsigned long port = strtoul(v, &end, 16);
            if (!strcmp(v, "com1"))
                m.console_port = 0x3f8;
            else if (!strcmp(v, "com2"))
                m.console_port = 0x2f8;
            else if (!strncmp(v, "mmio", 4))
                m.console_port = CONFIG_CONSOLE_MMIO;
            else if (!strncmp(v, "0x", 2) && v[2] && !*end && port && port <= 0xfff8)
                m.console_port = (unsigned)port;
            else {
                fprintf(stderr, "bulkhead-check: --console: expected com1, com2, 0xPORT or mmio\n");
                return 2;
            }
        } else if (a[0] == '-' || file) {
            usage();
        } else {
            file = a;
        }
    }
    if (!file)
        usage();

    size_t len;
    char *text = read_file(file, &len);
    int errors = config_parse(text, len, file, &cfg);
    if (list) {
        if (errors)
            fprintf(stderr, "bulkhead-check: %s has %d error(s); listing its modules anyway\n",
                    file, errors);
        list_modules(&cfg);
        free(text);
        return 0;
    }
    errors = config_validate(&cfg, &m);
    for (unsigned i = 0; i < cfg.nr_errors; i++) {
        char line[512];
        config_format_error(&cfg.errors[i], file, line, sizeof(line));
        printf("%s\n", line);
    }
    free(text);
    return errors ? 1 : 0;
}
