/* The console over TCP (docs/network.md): sessions on net.console_port,
 * each with its own line editor, history and output, the same commands as
 * the serial console. A password (net.password_hash) comes first; failed
 * logins are delayed and rate-limited per peer, idle sessions closed, and
 * at most NETCONSOLE_MAX_SESSIONS are logged in at once. */
#ifndef CORE_NETCONSOLE_H
#define CORE_NETCONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

#define NETCONSOLE_MAX_SESSIONS 4 /* logged in at once */
#define NETCONSOLE_MAX_CONNS    8 /* sessions plus connections still at the password */
#define NETCONSOLE_TRIES        3 /* wrong passwords per connection */

/* Reads the net.* keys of the bulkhead.cfg module and, when they enable
 * it, starts the network and the console (nothing happens otherwise).
 * report_errors: log the configuration's net.* errors (when nothing else
 * reads the file: no VMX). netconsole_boot.c. */
void netconsole_boot(bool report_errors);
/* The console part, once the network runs: listens on console_port;
 * closes connections without a password after login_timeout_s and
 * sessions without input for idle_timeout_s. */
struct pwhash;
int netconsole_listen(const struct pwhash *pw, unsigned console_port, unsigned login_timeout_s,
                      unsigned idle_timeout_s);
/* The console CPU's loop (console_poll): network, sessions, output. */
void netconsole_poll(void);
/* Log sink: every logged-in session gets the console's output. */
void netconsole_sink(const char *s, size_t n);

/* While a session's command runs, these take the place of the serial
 * console's (console.c asks first). */
bool netconsole_in_command(void);
void netconsole_wait(bool (*done)(void *ctx), void (*on_timeout)(void *ctx), void *ctx,
                     uint64_t deadline_tsc);
bool netconsole_attach(struct vm *vm);
/* The running session's CONSOLE_WAIT_SCRATCH bytes (console.h). */
void *netconsole_wait_scratch(void);
void netconsole_follow_log(void);
/* The running session's `define` line collector. */
struct define_input *netconsole_define_input(void);
/* True while a session is attached to a VM's console. */
bool netconsole_attached(void);

#endif
