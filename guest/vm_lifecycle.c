/* VM lifecycle operations the console drives: pause/resume, graceful
 * shutdown with a forced-off timeout, destroy, reset, and the restart
 * policy for crashed VMs (with exponential back-off). None of it touches
 * another VM or the machine. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "guest/vm.h"
#include "guest/vm_output.h"
#include "guest/vm_sched.h"
#include "lib/format.h"
#include "lib/string.h"

#define RESTART_MIN_MS 1000ULL
#define RESTART_MAX_MS 60000ULL
#define QUICK_CRASH_MS 30000ULL /* a crash sooner than this after start counts as quick */

static uint64_t ms_to_tsc(uint64_t ms)
{
    return tsc_khz() * ms;
}

static void event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void event(const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    vm_output_event(line);
}

bool vm_is_stopping(const struct vm *vm)
{
    return vm->teardown;
}

int vm_pause(struct vm *vm, char *err, unsigned errlen)
{
    spin_lock(&vm->lock);
    if (vm->state != VM_RUNNING) {
        spin_unlock(&vm->lock);
        fmt_snprintf(err, errlen, "%s is %s, not running", vm->cfg.name, vm_state_name(vm->state));
        return -1;
    }
    vm->state = VM_PAUSED;
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        vm->vcpus[i]->pause_request = true;
    spin_unlock(&vm->lock);
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        vm_sched_ops->kick(vm->vcpus[i]);
    event("vm %s: paused", vm->cfg.name);
    return 0;
}

int vm_resume(struct vm *vm, char *err, unsigned errlen)
{
    spin_lock(&vm->lock);
    if (vm->state != VM_PAUSED) {
        spin_unlock(&vm->lock);
        fmt_snprintf(err, errlen, "%s is %s, not paused", vm->cfg.name, vm_state_name(vm->state));
        return -1;
    }
    vm->state = VM_RUNNING;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = vm->vcpus[i];
        v->pause_request = false;
        if (v->state == VCPU_PAUSED)
            v->state = VCPU_RUNNABLE;
    }
    spin_unlock(&vm->lock);
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        vm_sched_ops->kick(vm->vcpus[i]);
    event("vm %s: resumed", vm->cfg.name);
    return 0;
}

static int check_active(struct vm *vm, char *err, unsigned errlen)
{
    if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
        fmt_snprintf(err, errlen, "%s is %s", vm->cfg.name,
                     vm_is_stopping(vm) ? "already stopping" : vm_state_name(vm->state));
        return -1;
    }
    return 0;
}

int vm_destroy(struct vm *vm, char *err, unsigned errlen)
{
    /* A crashed VM waiting for its restart: destroy cancels the restart. */
    if (vm->restart_at && !vm->teardown && (vm->state == VM_CRASHED || vm->state == VM_SHUTOFF)) {
        vm->restart_at = 0;
        vm->quick_crashes = 0;
        vm->state = VM_SHUTOFF;
        str_copy(vm->reason, "destroyed (pending restart cancelled)", sizeof(vm->reason));
        event("vm %s: destroyed (pending restart cancelled)", vm->cfg.name);
        return 0;
    }
    if (check_active(vm, err, errlen))
        return -1;
    vm->shutdown_deadline = 0;
    vm_stop(vm, VM_SHUTOFF, "destroyed (forced off)");
    return 0;
}

int vm_shutdown(struct vm *vm, uint64_t timeout_ms, char *err, unsigned errlen)
{
    if (check_active(vm, err, errlen))
        return -1;
    if (vm->shutdown_requested) {
        fmt_snprintf(err, errlen, "%s has already been asked to shut down", vm->cfg.name);
        return -1;
    }
    vm->shutdown_requested = true;
    if (vm->power_button)
        vm->power_button(vm);
    vm->shutdown_deadline = rdtsc() + ms_to_tsc(timeout_ms);
    event("vm %s: shutdown requested (forced off in %llu s)", vm->cfg.name,
          (unsigned long long)(timeout_ms / 1000));
    return 0;
}

int vm_reset(struct vm *vm, char *err, unsigned errlen)
{
    if (check_active(vm, err, errlen))
        return -1;
    vm->restart_after_stop = true;
    vm->quick_crashes = 0;
    vm_stop(vm, VM_SHUTOFF, "reset");
    return 0;
}

/* Called once the last vCPU is out (from vm_finish_stop). */
void vm_lifecycle_stopped(struct vm *vm)
{
    uint64_t now = rdtsc();
    vm->stop_tsc = now;
    vm->shutdown_deadline = 0;
    if (vm->restart_after_stop) {
        vm->restart_after_stop = false;
        vm->restart_at = now;
        return;
    }
    if (vm->state != VM_CRASHED || vm->cfg.on_crash != RESTART_ON_CRASH)
        return;
    if (now - vm->start_tsc < ms_to_tsc(QUICK_CRASH_MS))
        vm->quick_crashes++;
    else
        vm->quick_crashes = 1;
    uint64_t delay = RESTART_MIN_MS << (vm->quick_crashes > 7 ? 6 : vm->quick_crashes - 1);
    if (delay > RESTART_MAX_MS)
        delay = RESTART_MAX_MS;
    vm->restart_at = now + ms_to_tsc(delay);
    event("vm %s: restarting in %llu ms (crash %u in a row; policy on_crash=restart)", vm->cfg.name,
          (unsigned long long)delay, vm->quick_crashes);
}

void vm_lifecycle_poll(void)
{
    uint64_t now = rdtsc();
    char err[160];
    for (unsigned i = 0; i < nr_vms; i++) {
        struct vm *vm = vms[i];
        if (!vm)
            continue;
        if (vm->shutdown_deadline && now >= vm->shutdown_deadline &&
            (vm->state == VM_RUNNING || vm->state == VM_PAUSED)) {
            vm->shutdown_deadline = 0;
            vm_stop(vm, VM_SHUTOFF, "did not shut down in time: forced off");
        }
        if (vm->restart_at && now >= vm->restart_at && !vm->teardown) {
            vm->restart_at = 0;
            if (vm_start(vm, err, sizeof(err)))
                event("error: vm %s: restart failed: %s", vm->cfg.name, err);
        }
    }
}

void vm_exit_totals(const struct vm *vm, struct exit_stat *out, uint64_t *guest, uint64_t *root)
{
    memcpy(out, vm->exits, sizeof(vm->exits));
    *guest = vm->guest_cycles;
    *root = vm->root_cycles;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        const struct vcpu *v = vm->vcpus[i];
        if (!v)
            continue;
        for (unsigned r = 0; r < VCPU_EXIT_STATS; r++) {
            out[r].count += v->exits[r].count;
            out[r].cycles += v->exits[r].cycles;
        }
        *guest += v->guest_cycles;
        *root += v->root_cycles;
    }
}
