/* Console commands for VMs, named as in virsh. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "core/api_actions.h"
#include "core/command.h"
#include "core/console.h"
#include "core/time_share.h"
#include "hvm/backend.h"
#include "vdev/rt_ticks.h"
#include "vm/vm.h"
#include "vm/vm_output.h"
#include "lib/format.h"
#include "lib/string.h"

#define DEFAULT_WAIT_TIMEOUT_MS 60000ULL

static struct vm *find_or_complain(const char *name)
{
    struct vm *vm = vm_find(name);
    char err[96];
    if (!vm) {
        vm_no_such(name, err, sizeof(err));
        cprintf("error: %s (see 'list --all')\n", err);
    }
    return vm;
}

static struct vm *vm_arg(int argc, char **argv, const char *usage)
{
    if (argc != 2) {
        cprintf("error: usage: %s %s\n", argv[0], usage);
        return NULL;
    }
    return find_or_complain(argv[1]);
}

static int cmd_list(int argc, char **argv)
{
    bool all = argc > 1 && !strcmp(argv[1], "--all");
    char st[160];
    if (argc > 2 || (argc == 2 && !all)) {
        cprintf("error: usage: list [--all]\n");
        return -1;
    }
    cprintf(" %-3s %-16s %s\n", "Id", "Name", "State");
    cprintf("-----------------------------------------------\n");
    for (unsigned i = 0; i < nr_vms; i++) {
        struct vm *vm = vms[i];
        if (!vm) /* (undefined) */
            continue;
        if (!all && !vm_is_active(vm))
            continue;
        cprintf(" %-3u %-16s %s\n", vm->id, vm->cfg.name, vm_state_text(vm, st, sizeof(st)));
    }
    return 0;
}
COMMAND("list", "[--all]", "list running VMs (--all: every defined VM)", cmd_list);

static void print_crash_regs(const struct vm *vm)
{
    const struct vcpu_snapshot *r = &vm->crash_regs;
    cprintf("registers at the crash (vcpu 0 or the one that crashed):\n");
    cprintf("  rip %016llx rsp %016llx rflags %016llx cs %04x\n", (unsigned long long)r->rip,
            (unsigned long long)r->rsp, (unsigned long long)r->rflags, r->cs);
    cprintf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
            (unsigned long long)r->gprs[GPR_RAX], (unsigned long long)r->gprs[GPR_RBX],
            (unsigned long long)r->gprs[GPR_RCX], (unsigned long long)r->gprs[GPR_RDX]);
    cprintf("  rsi %016llx rdi %016llx rbp %016llx\n", (unsigned long long)r->gprs[GPR_RSI],
            (unsigned long long)r->gprs[GPR_RDI], (unsigned long long)r->gprs[GPR_RBP]);
    cprintf("  cr0 %016llx cr3 %016llx cr4 %016llx efer %llx\n", (unsigned long long)r->cr0,
            (unsigned long long)r->cr3, (unsigned long long)r->cr4, (unsigned long long)r->efer);
}

static int cmd_info(int argc, char **argv)
{
    struct vm *vm = vm_arg(argc, argv, "<vm>");
    char st[160];
    if (!vm)
        return -1;
    const struct vm_config *c = &vm->cfg;
    struct exit_stat ex[VCPU_EXIT_STATS];
    uint64_t guest, root, total = 0;
    vm_exit_totals(vm, ex, &guest, &root);
    for (unsigned r = 0; r < VCPU_EXIT_STATS; r++)
        total += ex[r].count;

    cprintf("name:       %s (id %u)\n", c->name, vm->id);
    cprintf("state:      %s\n", vm_state_text(vm, st, sizeof(st)));
    if (vm->state == VM_SHUTOFF && vm->reason[0])
        cprintf("last stop:  %s\n", vm->reason);
    cprintf("vcpus:      %u", c->nr_vcpus);
    for (unsigned i = 0; i < c->nr_vcpus; i++)
        cprintf("%s vcpu%u on cpu %u", i ? "," : " (", i, c->pcpu[i]);
    cprintf(") %s\n", c->dedicated ? "dedicated" : "shared");
    cprintf("memory:     %llu MiB", (unsigned long long)(c->mem_size >> 20));
    if (vm->ram_hpa)
        cprintf(" at host 0x%llx", (unsigned long long)vm->ram_hpa);
    cprintf("\n");
    cprintf("kernel:     %s%s%s  cmdline \"%s\"\n", c->kernel, c->initrd[0] ? " initrd " : "",
            c->initrd, c->cmdline);
    const char *sep = "";
    cprintf("devices:   ");
    for (unsigned i = 0; i < c->nr_uarts && i < VM_MAX_UARTS; i++, sep = ",")
        cprintf("%s uart 0x%x irq %u", sep, c->uarts[i].port, c->uarts[i].irq);
    for (unsigned i = 0; i < c->nr_ioports && i < VM_MAX_IOPORTS; i++, sep = ",")
        cprintf("%s ioports 0x%x-0x%x", sep, c->ioports[i].base,
                c->ioports[i].base + c->ioports[i].count - 1u);
    for (unsigned i = 0; i < c->nr_pci && i < VM_MAX_PCI; i++, sep = ",")
        cprintf("%s pci %02x:%02x.%x", sep, c->pci[i].bus, c->pci[i].dev, c->pci[i].fn);
    cprintf("%s\n", *sep ? "" : " none");
    cprintf("uptime:     %llu ms, started %u times\n", (unsigned long long)vm_uptime_ms(vm),
            vm->starts);
    cprintf("exits:      %llu\n", (unsigned long long)total);
    cprintf("on crash:   %s", c->on_crash == RESTART_ON_CRASH ? "restart" : "stop");
    if (vm->restart_at)
        cprintf(" (restart pending, crash %u in a row)", vm->quick_crashes);
    cprintf("\n");
    if (vm->state == VM_CRASHED && vm->have_crash_regs)
        print_crash_regs(vm);
    return 0;
}
COMMAND("info", "<vm>", "state, vCPUs, memory, devices, uptime and exits of a VM", cmd_info);

static int simple_op(int argc, char **argv, enum vm_action a)
{
    char err[160];
    struct vm *vm = vm_arg(argc, argv, "<vm>");
    if (!vm)
        return -1;
    if (vm_action_run(vm, a, VM_DEFAULT_SHUTDOWN_TIMEOUT_MS, err, sizeof(err))) {
        cprintf("error: %s\n", err);
        return -1;
    }
    return 0;
}

static int cmd_start(int argc, char **argv)
{
    return simple_op(argc, argv, VM_ACTION_START);
}
COMMAND("start", "<vm>", "start a defined, shut off or crashed VM", cmd_start);

static int cmd_destroy(int argc, char **argv)
{
    return simple_op(argc, argv, VM_ACTION_DESTROY);
}
COMMAND("destroy", "<vm>", "force a VM off at once (memory is scrubbed)", cmd_destroy);

static int cmd_suspend(int argc, char **argv)
{
    return simple_op(argc, argv, VM_ACTION_SUSPEND);
}
COMMAND("suspend", "<vm>", "pause a VM: its vCPUs stop being scheduled", cmd_suspend);

static int cmd_resume(int argc, char **argv)
{
    return simple_op(argc, argv, VM_ACTION_RESUME);
}
COMMAND("resume", "<vm>", "resume a paused VM where it was", cmd_resume);

static int cmd_reset(int argc, char **argv)
{
    return simple_op(argc, argv, VM_ACTION_RESET);
}
COMMAND("reset", "<vm>", "stop a VM, scrub it and start it again from its image", cmd_reset);

static int cmd_shutdown(int argc, char **argv)
{
    char err[160];
    uint64_t timeout = VM_DEFAULT_SHUTDOWN_TIMEOUT_MS;
    if (argc < 2 || argc > 3 || (argc == 3 && !vm_parse_ms(argv[2], strlen(argv[2]), &timeout))) {
        cprintf("error: usage: shutdown <vm> [timeout, e.g. 30s or 500ms]\n");
        return -1;
    }
    struct vm *vm = find_or_complain(argv[1]);
    if (!vm)
        return -1;
    if (vm_action_run(vm, VM_ACTION_SHUTDOWN, timeout, err, sizeof(err))) {
        cprintf("error: %s\n", err);
        return -1;
    }
    return 0;
}
COMMAND("shutdown", "<vm> [timeout]",
        "ask a VM to shut down (ACPI power button / hypercall flag); forced off after timeout",
        cmd_shutdown);

static int cmd_console(int argc, char **argv)
{
    struct vm *vm = vm_arg(argc, argv, "<vm>");
    if (!vm)
        return -1;
    if (!vm->cfg.nr_uarts) {
        cprintf("error: %s has no virtual UART (uarts = [])\n", vm->cfg.name);
        return -1;
    }
    if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
        cprintf("error: %s is %s; start it first\n", vm->cfg.name, vm_state_name(vm->state));
        return -1;
    }
    if (!console_attach(vm))
        return -1;
    cprintf("console: attached to %s (Ctrl-] returns to the prompt)\n", vm->cfg.name);
    return 0;
}
COMMAND("console", "<vm>", "attach to a VM's serial port; Ctrl-] detaches", cmd_console);

/* How the vCPUs of a running VM spent the time since its start: in the
 * guest, in root mode for it (exits), or not running (halted, paused,
 * waiting for another vCPU on a shared CPU). Counted at each exit. */
static void print_shares(const struct vm *vm)
{
    if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
        return;
    uint64_t guest = 0, root = 0, up = rdtsc() - vm->start_tsc;
    unsigned n = 0;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        const struct vcpu *v = vm->vcpus[i];
        if (!v)
            continue;
        guest += v->guest_cycles;
        root += v->root_cycles;
        n++;
    }
    uint64_t whole = up * (n ?: 1);
    unsigned g = share_percent(guest, whole), r = share_percent(root, whole);
    cprintf("  share of the %llu ms since its start: guest %u%%, root %u%%, not running %u%%\n",
            (unsigned long long)(up / (tsc_khz() ?: 1)), g, r, g + r >= 100 ? 0 : 100 - g - r);
}

static void print_stats(struct vm *vm)
{
    struct exit_stat ex[VCPU_EXIT_STATS];
    uint64_t guest, root;
    vm_exit_totals(vm, ex, &guest, &root);
    cprintf("vm %s: time in guest %llu ms, in root %llu ms\n", vm->cfg.name,
            (unsigned long long)(guest / (tsc_khz() ?: 1)),
            (unsigned long long)(root / (tsc_khz() ?: 1)));
    print_shares(vm);
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        const struct vcpu *v = vm->vcpus[i];
        if (v)
            cprintf("  vcpu%u on cpu %u: %llu exits, guest %llu ms, root %llu ms\n", i, v->pcpu,
                    (unsigned long long)vcpu_total_exits(v),
                    (unsigned long long)(v->guest_cycles / (tsc_khz() ?: 1)),
                    (unsigned long long)(v->root_cycles / (tsc_khz() ?: 1)));
    }
    char ticks[200];
    if (rt_ticks_describe(vm, ticks, sizeof(ticks)))
        cprintf("  %s\n", ticks);
    cprintf("  console output: %llu lines dropped (over the %u-byte buffer)%s\n",
            vm_output_dropped(vm), VM_OUTPUT_BUDGET, vm_output_muted(vm) ? "; muted" : "");
    cprintf("  %-22s %12s %14s\n", "exit reason", "count", "cycles/exit");
    for (unsigned r = 0; r < VCPU_EXIT_STATS; r++) {
        if (!ex[r].count)
            continue;
        cprintf("  %-22s %12llu %14llu\n", vcpu_backend->exit_reason_name(r),
                (unsigned long long)ex[r].count, (unsigned long long)(ex[r].cycles / ex[r].count));
    }
}

static int cmd_stats(int argc, char **argv)
{
    if (argc > 2) {
        cprintf("error: usage: stats [vm]\n");
        return -1;
    }
    if (argc == 2) {
        struct vm *vm = find_or_complain(argv[1]);
        if (!vm)
            return -1;
        print_stats(vm);
        return 0;
    }
    for (unsigned i = 0; i < nr_vms; i++)
        if (vms[i])
            print_stats(vms[i]);
    return 0;
}
COMMAND("stats", "[vm]", "exit counts by reason, and time in guest and root per vCPU", cmd_stats);

/* wait <vm> <state> [timeout]: the request lives in the scratch area of the
 * console that typed it (serial or a network session: they wait apart). */
struct wait_req {
    struct vm *vm;
    int state; /* -1: any stopped state */
    char name[16];
};
_Static_assert(sizeof(struct wait_req) <= CONSOLE_WAIT_SCRATCH, "wait request too large");

static bool wait_done(void *ctx)
{
    const struct wait_req *w = ctx;
    struct vm *vm = w->vm;
    if (vm_is_stopping(vm))
        return false;
    if (w->state < 0)
        return vm->state == VM_SHUTOFF || vm->state == VM_CRASHED;
    return (int)vm->state == w->state;
}

static void wait_timed_out(void *ctx)
{
    const struct wait_req *w = ctx;
    cprintf("error: wait: %s is not %s (still %s)\n", w->vm->cfg.name, w->name,
            vm_state_name(w->vm->state));
}

static int parse_state(const char *s)
{
    static const struct {
        const char *name;
        int state;
    } names[] = {{"defined", VM_DEFINED}, {"running", VM_RUNNING},  {"paused", VM_PAUSED},
                 {"shutoff", VM_SHUTOFF}, {"shut-off", VM_SHUTOFF}, {"crashed", VM_CRASHED},
                 {"stopped", -1}};
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(s, names[i].name))
            return names[i].state;
    return -2;
}

static int cmd_wait(int argc, char **argv)
{
    uint64_t timeout = DEFAULT_WAIT_TIMEOUT_MS;
    int state;
    if (argc < 3 || argc > 4 || (state = parse_state(argv[2])) == -2 ||
        (argc == 4 && !vm_parse_ms(argv[3], strlen(argv[3]), &timeout))) {
        cprintf("error: usage: wait <vm> running|paused|shutoff|crashed|stopped|defined "
                "[timeout, e.g. 30s]\n");
        return -1;
    }
    struct vm *vm = find_or_complain(argv[1]);
    if (!vm)
        return -1;
    struct wait_req *w = console_wait_scratch();
    w->vm = vm;
    w->state = state;
    str_copy(w->name, argv[2], sizeof(w->name));
    if (wait_done(w))
        return 0;
    console_wait(wait_done, wait_timed_out, w, rdtsc() + tsc_khz() * timeout);
    return 0;
}
COMMAND("wait", "<vm> <state> [timeout]", "wait until a VM reaches a state (for scripts)",
        cmd_wait);
