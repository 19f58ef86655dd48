#ifndef CORE_BOOT_VMS_H
#define CORE_BOOT_VMS_H

#include <stdbool.h>

struct cmdline;

/* Reads the `bulkhead.cfg` module: reports every error with file and line,
 * defines every valid VM, starts those marked autostart. Global settings
 * apply only where the command line did not set them. */
void boot_vms_from_config(const struct cmdline *cl);
/* The `vm=NAME,MODULE,...` options of the command line. */
void boot_vms_from_cmdline(const struct cmdline *cl);

#endif
