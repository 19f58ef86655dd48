#include "core/vmspec.h"

#include "lib/format.h"
#include "lib/string.h"

static size_t field_len(const char *s)
{
    size_t n = 0;
    while (s[n] && s[n] != ',')
        n++;
    return n;
}

int vmspec_parse(const char *s, struct vm_config *cfg, char *err, size_t errlen)
{
    unsigned long long v;
    memset(cfg, 0, sizeof(*cfg));
    cfg->nr_vcpus = 1;
    cfg->mem_size = 16ULL << 20;
    cfg->nr_uarts = 1; /* COM1 on IRQ 4, as the configuration file's default */
    cfg->uarts[0].port = 0x3f8;
    cfg->uarts[0].irq = 4;

    size_t n = field_len(s);
    if (!n || n >= sizeof(cfg->name)) {
        fmt_snprintf(err, errlen, "vm=: missing or too long VM name");
        return -1;
    }
    memcpy(cfg->name, s, n);
    s += n;
    if (*s != ',') {
        fmt_snprintf(err, errlen, "vm=%s: missing module name", cfg->name);
        return -1;
    }
    s++;
    n = field_len(s);
    if (!n || n >= sizeof(cfg->kernel)) {
        fmt_snprintf(err, errlen, "vm=%s: missing or too long module name", cfg->name);
        return -1;
    }
    memcpy(cfg->kernel, s, n);
    s += n;
    while (*s == ',') {
        s++;
        if (!strncmp(s, "cmdline=", 8)) {
            /* The guest command line takes the rest, commas included. */
            if (str_copy(cfg->cmdline, s + 8, sizeof(cfg->cmdline)) >= sizeof(cfg->cmdline)) {
                fmt_snprintf(err, errlen, "vm=%s: cmdline longer than %zu bytes", cfg->name,
                             sizeof(cfg->cmdline) - 1);
                return -1;
            }
            break;
        }
        n = field_len(s);
        const char *eq = memchr(s, '=', n);
        if (!eq) {
            fmt_snprintf(err, errlen, "vm=%s: expected key=value, got '%.*s'", cfg->name, (int)n,
                         s);
            return -1;
        }
        size_t klen = (size_t)(eq - s), vlen = n - klen - 1;
        if (klen == 3 && !strncmp(s, "mem", 3)) {
            if (str_to_u64(eq + 1, vlen, &v, 1) || v < (2ULL << 20) || (v & ((2ULL << 20) - 1))) {
                fmt_snprintf(err, errlen, "vm=%s: mem must be a size like 16M, a multiple of 2M",
                             cfg->name);
                return -1;
            }
            cfg->mem_size = v;
        } else if (klen == 3 && !strncmp(s, "cpu", 3)) {
            if (str_to_u64(eq + 1, vlen, &v, 0) || v >= 64) {
                fmt_snprintf(err, errlen, "vm=%s: cpu must be a CPU number", cfg->name);
                return -1;
            }
            for (unsigned i = 0; i < MAX_VCPUS; i++)
                cfg->pcpu[i] = (unsigned)v;
        } else if (klen == 5 && !strncmp(s, "slice", 5)) {
            if (str_to_u64(eq + 1, vlen, &v, 0) || v < 100 || v > 1000000) {
                fmt_snprintf(err, errlen, "vm=%s: slice must be 100-1000000 microseconds",
                             cfg->name);
                return -1;
            }
            cfg->slice_us = v;
        } else if (klen == 8 && !strncmp(s, "platform", 8)) {
            if (vlen == 2 && !strncmp(eq + 1, "pc", 2)) {
                cfg->platform = PLATFORM_PC;
            } else if (vlen == 4 && !strncmp(eq + 1, "none", 4)) {
                cfg->platform = PLATFORM_NONE;
            } else {
                fmt_snprintf(err, errlen, "vm=%s: platform must be pc or none", cfg->name);
                return -1;
            }
        } else if (klen == 8 && !strncmp(s, "realtime", 8)) {
            /* A dedicated CPU other than 0 (docs/realtime.md). */
            if (vlen != 1 || (eq[1] != '0' && eq[1] != '1')) {
                fmt_snprintf(err, errlen, "vm=%s: realtime must be 0 or 1", cfg->name);
                return -1;
            }
            cfg->realtime = eq[1] == '1';
            cfg->dedicated = cfg->realtime;
        } else if (klen == 8 && !strncmp(s, "on_crash", 8)) {
            if (vlen == 7 && !strncmp(eq + 1, "restart", 7)) {
                cfg->on_crash = RESTART_ON_CRASH;
            } else if (vlen == 4 && !strncmp(eq + 1, "stop", 4)) {
                cfg->on_crash = RESTART_NEVER;
            } else {
                fmt_snprintf(err, errlen, "vm=%s: on_crash must be stop or restart", cfg->name);
                return -1;
            }
        } else {
            fmt_snprintf(err, errlen, "vm=%s: unknown key '%.*s'", cfg->name, (int)klen, s);
            return -1;
        }
        s += n;
    }
    if (cfg->realtime && cfg->pcpu[0] == 0) {
        fmt_snprintf(err, errlen,
                     "vm=%s: realtime: CPU 0 runs the console and the hypervisor's "
                     "housekeeping; give the VM another CPU (cpu=N)",
                     cfg->name);
        return -1;
    }
    return 0;
}
