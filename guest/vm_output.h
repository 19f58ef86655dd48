#ifndef GUEST_VM_OUTPUT_H
#define GUEST_VM_OUTPUT_H

#include <stdbool.h>

/* Called on the console CPU: writes queued guest lines out. */
void vm_output_drain(void);
bool vm_output_pending(void);
/* A lifecycle line ("vm x: stopped ...") queued behind the guest's own
 * output, so the console shows them in the order they happened. */
void vm_output_event(const char *line);
/* Bytes exactly as the guest sent them (an attached console). */
void vm_output_raw(const char *bytes, unsigned len);

#endif
