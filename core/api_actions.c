/* VM actions and words shared by the console and the HTTP API (api_actions.h). */
#include "core/api_actions.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "vm/vm.h"
#include "lib/format.h"
#include "lib/string.h"

static const char *const action_names[VM_ACTION_COUNT] = {
    [VM_ACTION_START] = "start",     [VM_ACTION_SHUTDOWN] = "shutdown",
    [VM_ACTION_DESTROY] = "destroy", [VM_ACTION_SUSPEND] = "suspend",
    [VM_ACTION_RESUME] = "resume",   [VM_ACTION_RESET] = "reset",
};

int vm_action_parse(const char *s, size_t n)
{
    for (unsigned a = 0; a < VM_ACTION_COUNT; a++)
        if (strlen(action_names[a]) == n && !memcmp(s, action_names[a], n))
            return (int)a;
    return -1;
}

const char *vm_action_name(enum vm_action a)
{
    return a < VM_ACTION_COUNT ? action_names[a] : "?";
}

static int start_op(struct vm *vm, char *err, unsigned len)
{
    if (vm_is_stopping(vm)) {
        fmt_snprintf(err, len, "%s is still stopping", vm->cfg.name);
        return -1;
    }
    vm->quick_crashes = 0;
    return vm_start(vm, err, len);
}

int vm_action_run(struct vm *vm, enum vm_action a, uint64_t timeout_ms, char *err, unsigned len)
{
    switch (a) {
    case VM_ACTION_START:
        return start_op(vm, err, len);
    case VM_ACTION_SHUTDOWN:
        return vm_shutdown(vm, timeout_ms, err, len);
    case VM_ACTION_DESTROY:
        return vm_destroy(vm, err, len);
    case VM_ACTION_SUSPEND:
        return vm_pause(vm, err, len);
    case VM_ACTION_RESUME:
        return vm_resume(vm, err, len);
    case VM_ACTION_RESET:
        return vm_reset(vm, err, len);
    default:
        fmt_snprintf(err, len, "no such action");
        return -1;
    }
}

void vm_no_such(const char *name, char *err, size_t len)
{
    fmt_snprintf(err, len, "no VM named '%.64s'", name);
}

const char *vm_state_text(const struct vm *vm, char *buf, size_t len)
{
    if (vm_is_stopping(vm))
        fmt_snprintf(buf, len, "stopping");
    else if (vm->state == VM_CRASHED)
        fmt_snprintf(buf, len, "crashed (%s)", vm->reason);
    else if (vm->state == VM_SHUTOFF && vm->restart_at) {
        /* A guest reset waiting out its back-off. */
        uint64_t now = rdtsc(), khz = tsc_khz() ? tsc_khz() : 1;
        fmt_snprintf(buf, len, "shut off (restart in %llu ms, reset %u in a row)",
                     (unsigned long long)(vm->restart_at > now ? (vm->restart_at - now) / khz : 0),
                     vm->quick_crashes);
    } else
        fmt_snprintf(buf, len, "%s", vm_state_name(vm->state));
    return buf;
}

uint64_t vm_uptime_ms(const struct vm *vm)
{
    if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
        return 0;
    return (rdtsc() - vm->start_tsc) / (tsc_khz() ? tsc_khz() : 1);
}

int vm_is_active(const struct vm *vm)
{
    return vm->state == VM_RUNNING || vm->state == VM_PAUSED || vm_is_stopping(vm) ||
           (vm->state == VM_SHUTOFF && vm->restart_at);
}

bool vm_parse_ms(const char *s, size_t n, uint64_t *ms)
{
    unsigned long long v;
    uint64_t scale = 1;
    if (n > 2 && !memcmp(s + n - 2, "ms", 2)) {
        n -= 2;
    } else if (n > 1 && s[n - 1] == 's') {
        n -= 1;
        scale = 1000;
    }
    if (!n || str_to_u64(s, n, &v, 0) || v > 86400000ULL || v * scale > 86400000ULL)
        return false;
    *ms = v * scale;
    return true;
}
