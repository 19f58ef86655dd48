/* VMs defined at run time and modules uploaded at run time (docs/
 * configuration.md "Defining VMs at run time"). The console's `define`,
 * `undefine` and `modules` and the HTTP API (PUT /api/vms/NAME,
 * PUT /api/modules/NAME) call these. Every function runs on the console CPU
 * (like every console command) and treats its input as hostile: a bad
 * section or upload gets the reason in err and changes nothing. Nothing
 * defined or uploaded here survives a reboot. */
#ifndef CORE_VM_DEFINE_H
#define CORE_VM_DEFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest section text accepted (bytes). */
#define VM_DEFINE_TEXT_MAX 8192
/* Room for every message of a rejected section (one per line). */
#define VM_DEFINE_ERR_MAX 2048

/* Defines the VM in text[0..len): exactly one `[vm NAME]` section in the
 * configuration file's syntax. It is checked by the boot-time checker with
 * the same messages ("define:LINE: vm NAME: ...", LINE counted from the
 * first line of text) and against the VMs already defined and the machine
 * (CPUs, memory, I/O ports, PCI devices, modules) exactly as at boot.
 * expect_name: when not NULL the section must name this VM (the API's URL).
 * The VM is left defined (stopped) unless the section says
 * `autostart = true`, in which case it is started too.
 * Returns 0, or -1 with err holding one message per line ('\n' between).
 * (When only the autostart fails, the VM stays defined and err says so:
 * "vm NAME: defined, but not started: ...".) */
int vm_define_from_text(const char *text, size_t len, const char *expect_name, char *err,
                        size_t errlen);

/* Removes a VM that is not running, paused or still stopping (any VM, from
 * the boot configuration too; it is gone until the next reboot).
 * Returns 0, or -1 with a reason ("vm web is running; destroy or shutdown
 * it first"). */
int vm_undefine(const char *name, char *err, size_t errlen);

/* ---- Uploaded modules (kernels, initrds) ----
 * Held in hypervisor memory; the total is limited by the [global] key
 * `modules.upload_limit` (default VM_DEFINE_UPLOAD_LIMIT_DEFAULT). A name
 * of a boot image module cannot be reused; an uploaded module can be
 * replaced or deleted while no running VM uses it. */
#define VM_DEFINE_UPLOAD_LIMIT_DEFAULT (64ULL << 20)
#define MODULE_STORE_MAX               16 /* uploaded modules at a time */

/* A whole upload at once. Returns 0 or -1 with a reason. */
int module_store_put(const char *name, const void *data, size_t len, char *err, size_t errlen);

/* The same in pieces (an HTTP body as it arrives): begin with the total
 * size (refused at once when over the limit), write exactly that many
 * bytes, then finish; abort frees it. Only one upload at a time. begin
 * returns 0 or -1 with a reason; write and finish fail (and abort the
 * upload) on more or fewer bytes than announced. */
int module_upload_begin(const char *name, uint64_t size, char *err, size_t errlen);
int module_upload_write(const void *data, size_t len, char *err, size_t errlen);
int module_upload_finish(char *err, size_t errlen);
void module_upload_abort(void);

/* Deletes an uploaded module. Returns 0 or -1 with a reason. */
int module_store_delete(const char *name, char *err, size_t errlen);

struct module_info {
    char name[64];
    uint64_t size;
    bool uploaded;     /* false: from the boot image */
    char used_by[128]; /* names of the defined VMs whose kernel or initrd it is, ", " between */
};

/* Every module, the boot image's first. Fills at most max; returns how many
 * there are in all. */
unsigned module_store_list(struct module_info *out, unsigned max);

/* The limit, from the configuration at boot. */
void module_store_set_limit(uint64_t bytes);
/* Bytes uploaded now, and the limit. */
uint64_t module_store_used(void);
uint64_t module_store_limit(void);

#endif
