/* The root-mode console: a prompt with line editing on the serial port,
 * scripts from `exec=`, attach to a VM's vUART, `log -f`. It runs on the
 * boot CPU between vCPU slices and never blocks: commands that wait
 * (sleep, wait, console, log -f) set a state that console_poll advances. */
#ifndef CORE_CONSOLE_H
#define CORE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

void console_init(void);
/* The log sink for the serial port (moves output off the prompt line). */
void console_sink(const char *s, size_t n);
/* Queues `cmd; cmd; ...` to run before the prompt comes back. */
void console_run_script(const char *script);
/* Called on the console CPU as often as it can be. */
void console_poll(void);

/* The console CPU's work writing guest output since boot (TSC cycles): a
 * guest sharing that CPU waits while it runs. */
struct console_drain_stats {
    uint64_t turns, bytes; /* console turns that wrote output, and their bytes */
    uint64_t cycles;       /* spent in them */
    uint64_t longest;      /* the longest of them */
    bool queued;           /* handed to the UART's transmit interrupt, not waited for */
};
void console_drain_stats(struct console_drain_stats *out);

/* For commands that wait: poll `done(ctx)` until it returns true or the
 * deadline (TSC) passes; on_timeout prints the failure. Ctrl-C aborts. */
void console_wait(bool (*done)(void *ctx), void (*on_timeout)(void *ctx), void *ctx,
                  uint64_t deadline_tsc);
/* CONSOLE_WAIT_SCRATCH bytes of the console running the command (serial or
 * a network session), for a waiting command's state: each console waits on
 * its own. */
#define CONSOLE_WAIT_SCRATCH 64
void *console_wait_scratch(void);
/* Attaches the console that runs the command (serial or a network
 * session); false (with an error printed) when a VM console is attached
 * already: one at a time, machine-wide. */
bool console_attach(struct vm *vm);
/* True while the serial console is attached to a VM. */
bool console_serial_attached(void);
void console_follow_log(void);
/* The `define` line collector of the console that runs the command (serial
 * or a network session), or NULL outside a console. */
struct define_input;
struct define_input *console_define_input(void);

#endif
