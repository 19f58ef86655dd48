/* What the console's VM commands (core/cmd_vm.c) and the HTTP API
 * (core/api_http.c) share: the lifecycle actions by name, the state as the
 * console words it, the error texts. One implementation for both, so the
 * API answers with the console's words. */
#ifndef CORE_API_ACTIONS_H
#define CORE_API_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

enum vm_action {
    VM_ACTION_START,
    VM_ACTION_SHUTDOWN,
    VM_ACTION_DESTROY,
    VM_ACTION_SUSPEND,
    VM_ACTION_RESUME,
    VM_ACTION_RESET,
    VM_ACTION_COUNT,
};

#define VM_DEFAULT_SHUTDOWN_TIMEOUT_MS 30000ULL

/* The action named s[0..n) ("start", ...), or -1. */
int vm_action_parse(const char *s, size_t n);
const char *vm_action_name(enum vm_action a);
/* Runs the action (shutdown with timeout_ms); 0, or -1 with the console's
 * error text in err ("echo is not running"). */
int vm_action_run(struct vm *vm, enum vm_action a, uint64_t timeout_ms, char *err, unsigned len);
/* "no VM named 'x'" (name is untrusted: cut to fit, as given). */
void vm_no_such(const char *name, char *err, size_t len);
/* The state as `list` shows it: "running", "crashed (triple fault)",
 * "shut off (restart in 80 ms, reset 2 in a row)", "stopping". */
const char *vm_state_text(const struct vm *vm, char *buf, size_t len);
/* Since the VM's start while running or paused, else 0. */
uint64_t vm_uptime_ms(const struct vm *vm);
/* A timeout as the console takes it: "30s", "500ms" or milliseconds
 * ("1500"), at most a day. */
bool vm_parse_ms(const char *s, size_t n, uint64_t *ms);
/* Running, paused, stopping or waiting for a restart: what `list` shows. */
int vm_is_active(const struct vm *vm);

#endif
