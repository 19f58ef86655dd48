#ifndef CORE_BANNER_H
#define CORE_BANNER_H

#include <stdint.h>

/* Facts only kernel_main knows, kept for `version` to print again. */
struct banner_facts {
    uint64_t usable_bytes;
    unsigned usable_regions;
};

void banner_set_facts(const struct banner_facts *f);
/* The boot banner lines that tests and users rely on (see README). */
void banner_print(void);

#endif
