/* VM lifecycle operations the console drives: pause/resume, graceful
 * shutdown with a forced-off timeout, destroy, reset, the end of a stop
 * (freeing, and scrubbing RAM a chunk per console turn), and the restart
 * policy for crashed and self-resetting VMs (with exponential back-off).
 * All of it runs on the console CPU (see the ownership rule in vm.h); none
 * of it touches another VM or the machine. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "vm/vm.h"
#include "vm/vm_output.h"
#include "vcpu/vm_sched.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

#define RESTART_MIN_MS 1000ULL
#define RESTART_MAX_MS 60000ULL
#define QUICK_CRASH_MS 30000ULL /* a crash sooner than this after start counts as quick */
/* RAM scrubbing per console turn: steps of SCRUB_STEP until SCRUB_TURN_US
 * of time is used, so a large VM's scrub never stalls the console. */
#define SCRUB_STEP    (256ULL << 10)
#define SCRUB_TURN_US 1000ULL

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
    /* Its guest owns the CPU's local APIC: a paused vCPU would leave the
     * guest's timer firing into the host (docs/realtime.md). */
    if (vm->cfg.realtime) {
        fmt_snprintf(err, errlen, "%s is a real-time VM and cannot be paused (use destroy)",
                     vm->cfg.name);
        return -1;
    }
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
        vm_free_ram(vm); /* kept, scrubbed, for the restart */
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
    vm->quick_crashes = 0;
    if (!vm_request_reset(vm, VM_RESTART_CONSOLE, "reset")) {
        fmt_snprintf(err, errlen, "%s is already stopping", vm->cfg.name);
        return -1;
    }
    return 0;
}

/* Called once the VM is stopped and its RAM scrubbed. Guest resets count
 * toward the same back-off as crashes: the first in a row restarts at
 * once, the next ones wait 1 s, 2 s, 4 s ... up to a minute. */
void vm_lifecycle_stopped(struct vm *vm)
{
    uint64_t now = rdtsc();
    enum vm_restart_kind kind = vm->restart_kind;
    vm->restart_kind = VM_RESTART_NONE;
    vm->stop_tsc = now;
    vm->shutdown_deadline = 0;
    if (kind == VM_RESTART_CONSOLE) {
        vm->restart_at = now;
        return;
    }
    bool crashed = vm->state == VM_CRASHED && vm->cfg.on_crash == RESTART_ON_CRASH;
    if (kind != VM_RESTART_GUEST && !crashed)
        return;
    if (now - vm->start_tsc < ms_to_tsc(QUICK_CRASH_MS))
        vm->quick_crashes++;
    else
        vm->quick_crashes = 1;
    unsigned n = vm->quick_crashes;
    uint64_t delay;
    if (kind == VM_RESTART_GUEST)
        delay = n == 1 ? 0 : RESTART_MIN_MS << (n - 2 > 6 ? 6 : n - 2);
    else
        delay = RESTART_MIN_MS << (n > 7 ? 6 : n - 1);
    if (delay > RESTART_MAX_MS)
        delay = RESTART_MAX_MS;
    vm->restart_at = now + ms_to_tsc(delay);
    if (!vm->restart_at)
        vm->restart_at = 1;
    if (kind == VM_RESTART_GUEST)
        event("vm %s: restarting in %llu ms (reset %u in a row)", vm->cfg.name,
              (unsigned long long)delay, n);
    else
        event("vm %s: restarting in %llu ms (crash %u in a row; policy on_crash=restart)",
              vm->cfg.name, (unsigned long long)delay, n);
}

/* Clears the next part of a stopped VM's RAM; true when all of it is. */
static bool scrub_some(struct vm *vm, uint64_t until)
{
    do {
        uint64_t n = vm->ram_alloc_size - vm->scrub_done;
        if (n > SCRUB_STEP)
            n = SCRUB_STEP;
        memset((void *)(vm->ram_hpa + vm->scrub_done), 0, n);
        vm->scrub_done += n;
    } while (vm->scrub_done < vm->ram_alloc_size && rdtsc() < until);
    return vm->scrub_done >= vm->ram_alloc_size;
}

static void scrubbed(struct vm *vm)
{
    vm->scrubbing = false;
    vm_lifecycle_stopped(vm);
    /* A restart reuses the block, already zero; otherwise it goes back. */
    if (vm->restart_at) {
        vm->ram_clean = vm->ram_hpa != 0;
    } else {
        vm_free_ram(vm);
        if (log_get_level() >= LOG_DEBUG)
            event("vm %s: memory scrubbed and released", vm->cfg.name);
    }
}

void vm_scrub_finish(struct vm *vm)
{
    if (!vm->scrubbing)
        return;
    memset((void *)(vm->ram_hpa + vm->scrub_done), 0, vm->ram_alloc_size - vm->scrub_done);
    vm->scrub_done = vm->ram_alloc_size;
    scrubbed(vm);
}

/* The end of every stop, on the console CPU: free what the vCPUs used once
 * the last one is out, then scrub the RAM within a time budget per turn. */
static void finish_stops(uint64_t now)
{
    uint64_t until = now + ms_to_tsc(1) * SCRUB_TURN_US / 1000;
    for (unsigned i = 0; i < nr_vms; i++) {
        struct vm *vm = vms[i];
        if (!vm)
            continue;
        if (__atomic_load_n(&vm->vcpus_out, __ATOMIC_ACQUIRE)) {
            vm->vcpus_out = false;
            vm_finish_stop(vm);
            /* Stopped: it leaves `stopping` now; a `start` before the
             * scrub is done finishes it first (vm_start). */
            __atomic_store_n(&vm->teardown, false, __ATOMIC_RELEASE);
            if (!vm->scrubbing)
                scrubbed(vm);
        }
        if (vm->scrubbing && rdtsc() < until && scrub_some(vm, until))
            scrubbed(vm);
    }
}

void vm_lifecycle_poll(void)
{
    uint64_t now = rdtsc();
    char err[160];
    finish_stops(now);
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
