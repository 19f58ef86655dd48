/* Boot modules (kernels, configuration) by name. Images stay pristine:
 * a VM start copies from here into guest RAM every time. */
#ifndef LOADER_MODULES_H
#define LOADER_MODULES_H

#include <stdint.h>

struct guest_module {
    const char *name;
    uint64_t start, end;
};

int guest_modules_add(const char *name, uint64_t start, uint64_t end);
const struct guest_module *guest_module_find(const char *name);
/* Forgets a module (uploads, core/module_store.c); name's memory is the caller's.
 * Returns 0, or -1 when there is none of that name. */
int guest_modules_remove(const char *name);
unsigned guest_module_count(void);
const struct guest_module *guest_module_get(unsigned i);

#endif
