/* Guest console output. Exit handlers queue whole lines (prefixed with the
 * VM's name) in a buffer of the VM's own, with a fixed budget: a VM that
 * prints more than the console can show loses its own lines (counted, see
 * `stats`), never another VM's and never the console's time. The console
 * CPU drains the buffers a bounded amount per turn, oldest line first.
 * Nothing here waits for the UART or interrupts another CPU. */
#ifndef VM_VM_OUTPUT_H
#define VM_VM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

struct vm;

/* Bytes a VM may have waiting: about 1.4 s of the serial line at 115200
 * baud, enough for a Linux guest's burst of boot messages. */
#define VM_OUTPUT_BUDGET (16 * 1024)

/* Console CPU: writes queued output, oldest first, until about max_bytes
 * are out or nothing showable is left. Returns the bytes written. */
unsigned vm_output_drain(unsigned max_bytes);
/* Bytes a sink may add to a record (the console's prompt-hiding prefix). */
#define VM_OUTPUT_SINK_EXTRA 64
/* The same, but stops at the first record that would not fit in room()
 * bytes (twice its length, as each newline may become two, plus
 * VM_OUTPUT_SINK_EXTRA): for a sink that queues without waiting. */
unsigned vm_output_drain_fitting(unsigned max_bytes, size_t (*room)(void));
bool vm_output_pending(void);
/* Console CPU: writes what was queued so far and may be shown now, oldest
 * first, until about max_bytes are out, so that what follows comes after
 * it. */
void vm_output_flush(unsigned max_bytes);
/* A lifecycle line ("vm x: stopped ...") queued behind the guests' output,
 * so the console shows them in the order they happened. Inside a console
 * command (vm_output_set_direct) it is printed at once, after what was
 * queued before it. */
void vm_output_event(const char *line);
/* Bytes exactly as the guest sent them (an attached console). */
void vm_output_raw(struct vm *vm, const char *bytes, unsigned len);

/* While set (the console runs a command on its CPU), events print at once. */
void vm_output_set_direct(bool direct);
/* Attached to a VM: only its output is shown; the others' (and events)
 * wait in their buffers. NULL: everything is shown. */
void vm_output_set_attached(struct vm *vm);
/* A muted VM's lines are discarded (its lifecycle events still show). */
void vm_output_set_muted(struct vm *vm, bool muted);
bool vm_output_muted(const struct vm *vm);
/* Lines refused because the VM's buffer was full, since it was defined. */
unsigned long long vm_output_dropped(const struct vm *vm);
/* A new VM takes a slot vm_remove freed: it starts unmuted with no drops
 * counted. Lines the previous VM left queued still come out, under its
 * name. */
void vm_output_new_owner(const struct vm *vm);

#endif
