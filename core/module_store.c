/* Modules uploaded at run time (core/vm_define.h): each one a block of
 * pages from the page allocator, named in the loader's module table like a
 * boot module, so that VMs load it the same way. Gone at reboot. */
#include "core/config.h"
#include "core/vm_define.h"
#include "loader/modules.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vm/vm.h"

struct upload {
    bool used;
    char name[64];
    uint64_t phys, pages, size;
};

static struct upload store[MODULE_STORE_MAX];
static uint64_t used_bytes;
static uint64_t limit = VM_DEFINE_UPLOAD_LIMIT_DEFAULT;

/* The one upload in progress: begin..finish. */
static struct {
    bool active;
    char name[64];
    uint64_t phys, pages, size, got;
} cur;

void module_store_set_limit(uint64_t bytes)
{
    limit = bytes;
}

uint64_t module_store_used(void)
{
    return used_bytes;
}

uint64_t module_store_limit(void)
{
    return limit;
}

static struct upload *find_upload(const char *name)
{
    for (unsigned i = 0; i < MODULE_STORE_MAX; i++)
        if (store[i].used && !strcmp(store[i].name, name))
            return &store[i];
    return NULL;
}

static bool valid_name(const char *s)
{
    size_t n = strnlen(s, 64);
    if (!n || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && (!i || (c != '.' && c != '-' && c != '_' && c != '+')))
            return false;
    }
    return true;
}

/* A running or paused VM (or one stopping) reading this module. */
static const struct vm *running_user(const char *name)
{
    for (unsigned i = 0; i < nr_vms; i++) {
        const struct vm *vm = vms[i];
        if (!vm || (strcmp(vm->cfg.kernel, name) && strcmp(vm->cfg.initrd, name)))
            continue;
        if (vm->state == VM_RUNNING || vm->state == VM_PAUSED || vm->teardown || vm->restart_at)
            return vm;
    }
    return NULL;
}

/* Whether name may be (re)placed now; a reason otherwise. */
static int check_replace(const char *name, char *err, size_t errlen)
{
    if (!valid_name(name)) {
        fmt_snprintf(err, errlen,
                     "bad module name (1 to 63 letters, digits, '.', '-', '_', '+'; a letter or "
                     "digit first)");
        return -1;
    }
    const struct guest_module *gm = guest_module_find(name);
    if (gm && !find_upload(name)) {
        fmt_snprintf(err, errlen, "module %s is from the boot image and cannot be replaced", name);
        return -1;
    }
    const struct vm *vm = running_user(name);
    if (vm) {
        fmt_snprintf(err, errlen, "module %s is in use by vm %s, which is %s", name, vm->cfg.name,
                     vm->state == VM_RUNNING ? "running" : "not stopped");
        return -1;
    }
    return 0;
}

static void drop(struct upload *u)
{
    guest_modules_remove(u->name);
    pmm_free(u->phys, u->pages);
    used_bytes -= u->size;
    memset(u, 0, sizeof(*u));
}

void module_upload_abort(void)
{
    if (cur.active && cur.pages)
        pmm_free(cur.phys, cur.pages);
    memset(&cur, 0, sizeof(cur));
}

int module_upload_begin(const char *name, uint64_t size, char *err, size_t errlen)
{
    if (cur.active) {
        fmt_snprintf(err, errlen, "another upload (%s) is in progress", cur.name);
        return -1;
    }
    if (check_replace(name, err, errlen))
        return -1;
    if (!size) {
        fmt_snprintf(err, errlen, "module %s is empty (0 bytes)", name);
        return -1;
    }
    struct upload *old = find_upload(name);
    uint64_t after = used_bytes - (old ? old->size : 0);
    if (size > limit || size > limit - after) {
        char a[24], b[24], c[24];
        config_format_size(size, a, sizeof(a));
        config_format_size(after, b, sizeof(b));
        config_format_size(limit, c, sizeof(c));
        fmt_snprintf(err, errlen,
                     "module %s: %s does not fit: %s uploaded already, limit %s "
                     "(modules.upload_limit)",
                     name, a, b, c);
        return -1;
    }
    if (!old) {
        unsigned n = 0;
        for (unsigned i = 0; i < MODULE_STORE_MAX; i++)
            n += store[i].used;
        if (n >= MODULE_STORE_MAX) {
            fmt_snprintf(err, errlen, "too many uploaded modules (at most %d)", MODULE_STORE_MAX);
            return -1;
        }
    }
    uint64_t pages = (size + 4095) / 4096;
    uint64_t phys = pmm_alloc(pages, 1, "uploads");
    if (!phys) {
        fmt_snprintf(err, errlen, "module %s: out of memory for %llu bytes", name,
                     (unsigned long long)size);
        return -1;
    }
    cur.active = true;
    str_copy(cur.name, name, sizeof(cur.name));
    cur.phys = phys;
    cur.pages = pages;
    cur.size = size;
    cur.got = 0;
    return 0;
}

int module_upload_write(const void *data, size_t len, char *err, size_t errlen)
{
    if (!cur.active) {
        fmt_snprintf(err, errlen, "no upload in progress");
        return -1;
    }
    if (len > cur.size - cur.got) {
        fmt_snprintf(err, errlen, "module %s: more than the %llu bytes announced", cur.name,
                     (unsigned long long)cur.size);
        module_upload_abort();
        return -1;
    }
    memcpy((uint8_t *)cur.phys + cur.got, data, len);
    cur.got += len;
    return 0;
}

int module_upload_finish(char *err, size_t errlen)
{
    if (!cur.active) {
        fmt_snprintf(err, errlen, "no upload in progress");
        return -1;
    }
    if (cur.got != cur.size) {
        fmt_snprintf(err, errlen, "module %s: %llu of %llu bytes received", cur.name,
                     (unsigned long long)cur.got, (unsigned long long)cur.size);
        module_upload_abort();
        return -1;
    }
    /* Checked again: a VM may have started on the old one meanwhile. */
    if (check_replace(cur.name, err, errlen)) {
        module_upload_abort();
        return -1;
    }
    struct upload *u = find_upload(cur.name);
    if (u)
        drop(u);
    for (unsigned i = 0; i < MODULE_STORE_MAX && !u; i++)
        if (!store[i].used)
            u = &store[i];
    if (!u) { /* (begin checked the count) */
        fmt_snprintf(err, errlen, "too many uploaded modules (at most %d)", MODULE_STORE_MAX);
        module_upload_abort();
        return -1;
    }
    *u = (struct upload){true, "", cur.phys, cur.pages, cur.size};
    str_copy(u->name, cur.name, sizeof(u->name));
    if (guest_modules_add(u->name, u->phys, u->phys + u->size)) {
        fmt_snprintf(err, errlen, "module %s: the module table is full", u->name);
        pmm_free(u->phys, u->pages);
        memset(u, 0, sizeof(*u));
        memset(&cur, 0, sizeof(cur));
        return -1;
    }
    used_bytes += u->size;
    memset(&cur, 0, sizeof(cur));
    return 0;
}

int module_store_put(const char *name, const void *data, size_t len, char *err, size_t errlen)
{
    if (module_upload_begin(name, len, err, errlen))
        return -1;
    if (module_upload_write(data, len, err, errlen))
        return -1;
    return module_upload_finish(err, errlen);
}

int module_store_delete(const char *name, char *err, size_t errlen)
{
    struct upload *u = find_upload(name);
    if (!u) {
        if (guest_module_find(name))
            fmt_snprintf(err, errlen, "module %s is from the boot image and cannot be deleted",
                         name);
        else
            fmt_snprintf(err, errlen, "no uploaded module named '%s'", name);
        return -1;
    }
    if (check_replace(name, err, errlen))
        return -1;
    drop(u);
    return 0;
}

static void users(const char *name, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < nr_vms; i++) {
        const struct vm *vm = vms[i];
        if (!vm || (strcmp(vm->cfg.kernel, name) && strcmp(vm->cfg.initrd, name)))
            continue;
        int n = fmt_snprintf(buf + used, len - used, "%s%s", used ? ", " : "", vm->cfg.name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

unsigned module_store_list(struct module_info *out, unsigned max)
{
    unsigned n = guest_module_count(), filled = 0;
    /* Boot image modules first, then the uploads, each in table order. */
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < n; i++) {
            const struct guest_module *gm = guest_module_get(i);
            bool up = find_upload(gm->name) != NULL;
            if (up != (pass == 1))
                continue;
            if (filled < max) {
                struct module_info *mi = &out[filled];
                str_copy(mi->name, gm->name, sizeof(mi->name));
                mi->size = gm->end - gm->start;
                mi->uploaded = up;
                users(gm->name, mi->used_by, sizeof(mi->used_by));
            }
            filled++;
        }
    }
    return filled;
}
