#include "loader/modules.h"

#include "lib/string.h"

#define MAX_GUEST_MODULES 32

static struct guest_module modules[MAX_GUEST_MODULES];
static unsigned nr_modules;

int guest_modules_add(const char *name, uint64_t start, uint64_t end)
{
    if (nr_modules >= MAX_GUEST_MODULES || !name || end < start)
        return -1;
    /* GRUB puts the path first when a name is given twice; keep the base name. */
    const char *base = name;
    for (const char *p = name; *p; p++)
        if (*p == '/')
            base = p + 1;
    modules[nr_modules++] = (struct guest_module){base, start, end};
    return 0;
}

const struct guest_module *guest_module_find(const char *name)
{
    for (unsigned i = 0; i < nr_modules; i++)
        if (!strcmp(modules[i].name, name))
            return &modules[i];
    return NULL;
}

unsigned guest_module_count(void)
{
    return nr_modules;
}

const struct guest_module *guest_module_get(unsigned i)
{
    return i < nr_modules ? &modules[i] : NULL;
}

int guest_modules_remove(const char *name)
{
    for (unsigned i = 0; i < nr_modules; i++) {
        if (strcmp(modules[i].name, name))
            continue;
        memmove(&modules[i], &modules[i + 1], (nr_modules - i - 1) * sizeof(modules[0]));
        nr_modules--;
        return 0;
    }
    return -1;
}
