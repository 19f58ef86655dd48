#include "core/define_check.h"

#include "lib/format.h"
#include "lib/string.h"

struct errbuf {
    char *buf;
    size_t len, used;
    int count;
};

static void add_msg(struct errbuf *e, const char *msg)
{
    e->count++;
    if (!e->len)
        return;
    size_t n = strlen(msg);
    if (e->used && e->used + 1 < e->len)
        e->buf[e->used++] = '\n';
    if (e->used + n >= e->len)
        n = e->used + 1 < e->len ? e->len - e->used - 1 : 0;
    memcpy(e->buf + e->used, msg, n);
    e->used += n;
    e->buf[e->used] = '\0';
}

static void add_fmt(struct errbuf *e, unsigned line, const char *vm, const char *msg)
{
    struct config_error ce = {.line = line};
    char out[256];
    str_copy(ce.vm, vm ? vm : "", sizeof(ce.vm));
    str_copy(ce.msg, msg, sizeof(ce.msg));
    config_format_error(&ce, DEFINE_FILENAME, out, sizeof(out));
    add_msg(e, out);
}

/* VMs already defined have no line in this text: a checker message that
 * points at "line 0" of one of them drops that part. */
static void drop_line0(char *s)
{
    static const char *const pats[] = {", line 0)", " (line 0)"};
    for (unsigned k = 0; k < 2; k++) {
        size_t pn = strlen(pats[k]);
        for (char *p = s; *p; p++) {
            if (strncmp(p, pats[k], pn))
                continue;
            const char *keep = k == 0 ? ")" : "";
            size_t kn = strlen(keep);
            memmove(p + kn, p + pn, strlen(p + pn) + 1);
            memcpy(p, keep, kn);
        }
    }
}

/* Line of the first section header that is [global], or 0. */
static unsigned find_global(const char *text, size_t len)
{
    unsigned line = 0;
    const char *s = text, *end = text + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        line++;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        if (s < e && *s == '[') {
            s++;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            if ((size_t)(e - s) >= 6 && !memcmp(s, "global", 6)) {
                const char *r = s + 6;
                while (r < e && (*r == ' ' || *r == '\t'))
                    r++;
                if (r < e && *r == ']')
                    return line;
            }
        }
        s = nl ? nl + 1 : end;
    }
    return 0;
}

int define_check_section(const char *text, size_t len, const char *expect_name,
                         const struct define_context *ctx, struct config *scratch,
                         struct vm_config *out, char *err, size_t errlen)
{
    struct errbuf e = {err, errlen, 0, 0};
    struct config *c = scratch;
    char msg[200];
    if (errlen)
        err[0] = '\0';

    if (len > ctx->max_len) {
        fmt_snprintf(msg, sizeof(msg), "the section is larger than the %zu byte limit",
                     ctx->max_len);
        add_fmt(&e, 0, "", msg);
        return e.count;
    }
    unsigned gl = find_global(text, len);
    if (gl)
        add_fmt(&e, gl, "",
                "[global] cannot be changed at run time: give one [vm NAME] section only");

    config_parse(text, len, DEFINE_FILENAME, c);
    for (unsigned i = 0; i < c->nr_errors; i++) {
        config_format_error(&c->errors[i], DEFINE_FILENAME, msg, sizeof(msg));
        add_msg(&e, msg);
    }
    if (!c->nr_vms) {
        if (!e.count)
            add_fmt(&e, 0, "", "no [vm NAME] section given");
        return e.count;
    }
    if (c->nr_vms > 1)
        add_fmt(&e, c->vm_line[1], "", "one [vm NAME] section at a time");
    if (e.count)
        return e.count;

    const char *name = c->vms[0].name;
    unsigned line = c->vm_line[0];
    if (expect_name && strcmp(expect_name, name)) {
        fmt_snprintf(msg, sizeof(msg), "the section is for vm %s, not %s", name, expect_name);
        add_fmt(&e, line, "", msg);
        return e.count;
    }
    for (unsigned i = 0; i < ctx->nr_existing; i++) {
        if (!strcmp(ctx->existing[i].name, name)) {
            add_fmt(&e, line, name, "a VM of this name is already defined (undefine it first)");
            return e.count;
        }
    }
    if (ctx->nr_existing >= CONFIG_MAX_VMS) {
        fmt_snprintf(msg, sizeof(msg), "too many VMs (at most %u)", CONFIG_MAX_VMS);
        add_fmt(&e, line, name, msg);
        return e.count;
    }

    /* The new VM goes last: of two that conflict the checker refuses the
     * later one, so the VMs already defined always win. They are checked
     * as not autostarting: their RAM is taken already or not wanted now,
     * and only the new VM's start must fit into what is free. */
    struct vm_config vm = c->vms[0];
    struct config_vm_lines lines = c->vm_lines[0];
    memset(c, 0, sizeof(*c));
    if (ctx->global) {
        c->global = *ctx->global;
    } else {
        c->global.loglevel = -1;
        config_net_defaults(&c->global.net);
    }
    for (unsigned i = 0; i < ctx->nr_existing; i++) {
        c->vms[i] = ctx->existing[i];
        c->vms[i].autostart = false;
        c->vm_valid[i] = true;
    }
    unsigned me = ctx->nr_existing;
    c->vms[me] = vm;
    c->vm_valid[me] = true;
    c->vm_line[me] = line;
    c->vm_lines[me] = lines;
    c->nr_vms = me + 1;
    config_validate(c, ctx->machine);
    /* Only the new VM's messages: the others were checked when defined. */
    for (unsigned i = 0; i < c->nr_errors; i++) {
        struct config_error *ce = &c->errors[i];
        if (strcmp(ce->vm, vm.name))
            continue;
        drop_line0(ce->msg);
        config_format_error(ce, DEFINE_FILENAME, msg, sizeof(msg));
        add_msg(&e, msg);
    }
    if (!c->vm_valid[me] && !e.count)
        add_fmt(&e, line, vm.name, "refused by the configuration checker");
    if (!e.count)
        *out = vm;
    return e.count;
}
