#include "core/power.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/panic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "core/command.h"
#include "drivers/acpi.h"
#include "drivers/uart16550.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

static void (*shutdown_hooks[8])(void);
static unsigned nr_hooks;
static bool acpi_only;
static volatile int going_down;

int power_register_shutdown_hook(void (*fn)(void))
{
    if (nr_hooks >= 8)
        return -1;
    shutdown_hooks[nr_hooks++] = fn;
    return 0;
}

void power_set_acpi_only(bool only)
{
    acpi_only = only;
}

static void run_hooks(void)
{
    /* Once only: a panic during a hook must not rerun them. */
    if (__atomic_exchange_n(&going_down, 1, __ATOMIC_SEQ_CST))
        return;
    for (unsigned i = 0; i < nr_hooks; i++)
        shutdown_hooks[i]();
}

/* Bochs and QEMU both label their ACPI tables with OEM ID "BOCHS". */
static bool in_emulator(void)
{
    return acpi.present && !strncmp(acpi.oem_id, "BOCHS", 5);
}

void machine_poweroff(int code)
{
    char line[48];
    int n = fmt_snprintf(line, sizeof(line), "bulkhead: poweroff %d\n", code);
    irq_disable();
    run_hooks();
    log_puts(line, (size_t)n);
    if (!acpi_only && in_emulator()) {
        /* Bochs' magic breakpoint ends the run; it is a no-op elsewhere. */
        __asm__ volatile("xchg %%bx, %%bx" ::: "memory");
        /* QEMU isa-debug-exit: the process exits with (code << 1) | 1. */
        outb(0xf4, (uint8_t)code);
    }
    acpi_enable_mode();
    acpi_poweroff_s5();
    log_puts("bulkhead: power-off failed; halting\n", 36);
    for (;;)
        halt();
}

/* How long the boot CPU waits for the CPU it handed the reset to. */
#define RESET_HANDOVER_NS 2000000000ULL

/* Every CPU leaves VMX (the shutdown hooks), then this CPU resets. */
__attribute__((noreturn)) static void reset_from_this_cpu(void)
{
    irq_disable();
    run_hooks();
    uart_reset_for_firmware();
    acpi_reset();
    /* Last resort: a triple fault through an empty IDT. */
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) null_idt = {0, 0};
    __asm__ volatile("lidt %0; int3" ::"m"(null_idt));
    for (;;)
        halt();
}

static void reset_call(void *arg)
{
    (void)arg;
    reset_from_this_cpu();
}

/* An application processor that can still take a call, or -1. */
static int answering_ap(void)
{
    for (unsigned i = 1; i < MAX_CPUS; i++)
        if (cpus[i] && cpus[i]->online && !cpus[i]->halted_by_panic)
            return (int)i;
    return -1;
}

/*
 * The boot CPU hands the reset to an application processor when one
 * answers. Any CPU can reset a real machine, but Bochs 2.7 with two or more
 * CPUs cannot take a hard reset from its boot CPU: its SMP loop keeps that
 * CPU's instruction-count limit from before the reset (the count restarts
 * at 0), so the emulated clock stands still while the BIOS runs and its
 * keyboard test fails ("Keyboard error:21"). An AP sleeps until a SIPI
 * after the reset and returns to that loop at once. (A soft reset is no
 * way out: the BIOS then faults writing the still locked
 * IA32_FEATURE_CONTROL.)
 */
void machine_reboot(void)
{
    irq_disable();
    log_puts("bulkhead: reboot\n", 17);
    if (this_cpu_id() == 0 && !__atomic_load_n(&going_down, __ATOMIC_SEQ_CST)) {
        int ap = answering_ap();
        if (ap > 0 && ipi_call((unsigned)ap, reset_call, NULL, false) == 0) {
            /* The AP's shutdown hooks call us (to leave VMX and stop):
             * serve them with interrupts off until the machine resets. */
            uint64_t end = rdtsc() + ns_to_tsc(RESET_HANDOVER_NS);
            while (rdtsc() < end) {
                ipi_poll();
                cpu_relax();
            }
            pr_warn("reboot: cpu %d did not reset the machine; resetting from cpu 0", ap);
        }
    }
    reset_from_this_cpu();
}

static int cmd_poweroff(int argc, char **argv)
{
    unsigned long long code = 0;
    if (argc > 2 || (argc == 2 && (str_to_u64(argv[1], strlen(argv[1]), &code, 0) || code > 255))) {
        cprintf("error: usage: poweroff [code 0-255]\n");
        return -1;
    }
    machine_poweroff((int)code);
}
COMMAND("poweroff", "[code]", "stop all VMs and power the machine off (code for test harnesses)",
        cmd_poweroff);

static int cmd_reboot(int argc, char **argv)
{
    machine_reboot();
}
COMMAND("reboot", "", "stop all VMs and reset the machine", cmd_reboot);

static void panic_poweroff(int code)
{
    machine_poweroff(code);
}

static void panic_reboot(void)
{
    machine_reboot();
}

void power_init(void)
{
    panic_poweroff_hook = panic_poweroff;
    panic_reboot_hook = panic_reboot;
}
