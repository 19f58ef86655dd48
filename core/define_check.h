/* One [vm NAME] section checked for `define` (core/vm_define.h): pure code,
 * unit-tested on the host. The boot-time parser and checker do the work;
 * this adds what is particular to a run-time definition (exactly one VM
 * section, no [global], a name not taken) and checks the section against
 * the VMs already defined. */
#ifndef CORE_DEFINE_CHECK_H
#define CORE_DEFINE_CHECK_H

#include <stddef.h>

#include "core/config.h"

/* Messages name this file: "define:3: vm web: memory: ...". */
#define DEFINE_FILENAME "define"

struct define_context {
    const struct vm_config *existing; /* the VMs defined now */
    unsigned nr_existing;
    const struct config_global *global;   /* the boot's [global] (the NIC), NULL = defaults */
    const struct config_machine *machine; /* NULL: nothing checked against the machine */
    size_t max_len;                       /* longest text accepted */
};

/* Parses and checks text[0..len). On success fills *out and returns 0.
 * Otherwise writes the messages, '\n' between them, to err and returns
 * how many there are. scratch is working memory (large: keep it static). */
int define_check_section(const char *text, size_t len, const char *expect_name,
                         const struct define_context *ctx, struct config *scratch,
                         struct vm_config *out, char *err, size_t errlen);

#endif
