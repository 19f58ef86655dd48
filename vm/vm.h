/* VM lifecycle: create, start, pause, stop, reset, destroy; the restart
 * policy; the VM's serial console. Everything here runs on the console
 * CPU or is a request to it (ownership rule: vcpu/vm.h). The core record
 * (struct vm) that exit handling needs is in vcpu/vm.h. */
#ifndef VM_VM_H
#define VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/vm.h"
#include "vdev/vuart.h"

/* Pages of one VM object: struct vm, then its VM_MAX_UARTS vUARTs. */
#define VM_OBJECT_PAGES ((sizeof(struct vm) + VM_MAX_UARTS * sizeof(struct vuart) + 4095) / 4096)

extern struct vm *vms[MAX_VMS];
extern unsigned nr_vms;

const char *vm_state_name(enum vm_state s);
/* Lifecycle (see docs/console.md): each returns 0 or -1 with a reason. */
int vm_pause(struct vm *vm, char *err, unsigned errlen);
int vm_resume(struct vm *vm, char *err, unsigned errlen);
int vm_destroy(struct vm *vm, char *err, unsigned errlen);
/* Graceful: the guest sees the request (hypercall, ACPI power button when it
 * has one) and is forced off after timeout_ms. */
int vm_shutdown(struct vm *vm, uint64_t timeout_ms, char *err, unsigned errlen);
/* Stop (scrubbing memory) and start again from the pristine image. */
int vm_reset(struct vm *vm, char *err, unsigned errlen);
/* Console CPU housekeeping: forced shutdowns, restarts with back-off. */
void vm_lifecycle_poll(void);
/* Per-VM totals including the running vCPUs. */
void vm_exit_totals(const struct vm *vm, struct exit_stat *out, uint64_t *guest, uint64_t *root);
bool vm_is_stopping(const struct vm *vm);
/* Internal: the VM is fully stopped and scrubbed; decides on a restart. */
void vm_lifecycle_stopped(struct vm *vm);
struct vm *vm_find(const char *name);
/* Creates a VM in the defined state; returns NULL with a reason. */
struct vm *vm_create(const struct vm_config *cfg, char *err, unsigned errlen);
/* Forgets a VM that is neither running, paused nor stopping (undefine) and
 * frees it; its slot in vms[] becomes NULL (loops over vms[] skip NULL).
 * Returns 0 or -1 with a reason. */
int vm_remove(struct vm *vm, char *err, unsigned errlen);
/* Allocates and zeroes memory, loads the kernel, builds EPT and vCPUs, and
 * queues the vCPUs on their CPUs. */
int vm_start(struct vm *vm, char *err, unsigned errlen);
/* Console CPU, once vm->vcpus_out: frees the vCPUs, devices and EPT and
 * starts the RAM scrub (vm_lifecycle_poll). */
void vm_finish_stop(struct vm *vm);
/* Returns the RAM block to the allocator (it must be scrubbed already). */
void vm_free_ram(struct vm *vm);
/* Completes a pending RAM scrub at once (console CPU). */
void vm_scrub_finish(struct vm *vm);

/* Console input for the VM's first serial port (raises its IRQ when it has one). */
bool vm_uart_input(struct vm *vm, uint8_t byte);
/* Drives every vUART's IRQ line (the OR of the vUARTs sharing it). */
void vm_uart_update_irq(struct vm *vm);
/* Guest output, a whole line at a time, prefixed with the VM name:
 * "[NAME] text" for the first vUART, "[NAME:ttySn] text" for vUART n > 0. */
void vm_console_output(struct vm *vm, const char *line, unsigned len);
void vm_console_output_tty(struct vm *vm, unsigned tty, const char *line, unsigned len);

#endif
