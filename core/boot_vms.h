#ifndef CORE_BOOT_VMS_H
#define CORE_BOOT_VMS_H

#include <stdbool.h>

struct cmdline;
struct config_machine;
struct config_global;

/* Reads the `bulkhead.cfg` module: reports every error with file and line,
 * defines every valid VM, starts those marked autostart. Global settings
 * apply only where the command line did not set them. */
void boot_vms_from_config(const struct cmdline *cl);
/* Facts about the machine now (CPUs, free RAM, modules, ports, PCI) for
 * checking a VM as at boot; valid until the next call. */
void boot_vms_machine(struct config_machine *m);
/* The configuration's [global] section, or NULL without a configuration. */
const struct config_global *boot_vms_global(void);
/* The `vm=NAME,MODULE,...` options of the command line. */
void boot_vms_from_cmdline(const struct cmdline *cl);

#endif
