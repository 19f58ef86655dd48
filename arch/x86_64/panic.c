#include "arch/x86_64/panic.h"

#include <stdarg.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exceptions.h"
#include "arch/x86_64/percpu.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

#define STACK_TRACE_DEPTH 16

void (*panic_stop_others_hook)(void);
void (*panic_poweroff_hook)(int code);
void (*panic_reboot_hook)(void);

static enum panic_policy policy = PANIC_HALT;
static volatile int panic_cpu = -1;

void panic_set_policy(enum panic_policy p)
{
    policy = p;
}

enum panic_policy panic_get_policy(void)
{
    return policy;
}

bool panic_in_progress(void)
{
    return panic_cpu >= 0;
}

static int current_cpu(void)
{
    /* GS may not be set up yet this early in boot. */
    uint64_t gs = rdmsr(MSR_IA32_GS_BASE);
    return gs ? (int)((struct percpu *)gs)->cpu_id : 0;
}

static __attribute__((noreturn)) void park(void)
{
    for (;;) {
        irq_disable();
        halt();
    }
}

void panic_nmi_check(void)
{
    if (panic_cpu >= 0 && panic_cpu != current_cpu()) {
        uint64_t gs = rdmsr(MSR_IA32_GS_BASE);
        if (gs)
            ((struct percpu *)gs)->halted_by_panic = true;
        park();
    }
}

static void out(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_puts(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* First CPU in wins; a second panic (or a fault while reporting) parks. */
static void panic_begin(void)
{
    irq_disable();
    int me = current_cpu();
    int expected = -1;
    if (!__atomic_compare_exchange_n(&panic_cpu, &expected, me, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
        if (expected == me)
            out("bulkhead: fault during panic report; stopping\n");
        park();
    }
    log_enter_panic();
    if (panic_stop_others_hook)
        panic_stop_others_hook();
}

static bool on_known_stack(uint64_t addr)
{
    uint64_t gs = rdmsr(MSR_IA32_GS_BASE);
    if (!gs)
        return false;
    struct percpu *pc = (struct percpu *)gs;
    if (addr >= pc->stack_base && addr + 16 <= pc->stack_top)
        return true;
    for (int i = 1; i < 4; i++)
        if (pc->ist_base[i] && addr >= pc->ist_base[i] &&
            addr + 16 <= pc->ist_base[i] + IST_STACK_SIZE)
            return true;
    return false;
}

static void stack_trace(uint64_t rbp)
{
    for (int i = 0; i < STACK_TRACE_DEPTH && rbp && !(rbp & 7) && on_known_stack(rbp); i++) {
        const uint64_t *frame = (const uint64_t *)rbp;
        if (!frame[1])
            break;
        out("    #%d 0x%016llx\n", i, (unsigned long long)frame[1]);
        if (frame[0] <= rbp)
            break;
        rbp = frame[0];
    }
}

static __attribute__((noreturn)) void panic_finish(void)
{
    switch (policy) {
    case PANIC_POWEROFF:
        out("bulkhead: panic policy poweroff\n");
        if (panic_poweroff_hook)
            panic_poweroff_hook(PANIC_EXIT_CODE);
        break;
    case PANIC_REBOOT:
        out("bulkhead: panic policy reboot\n");
        if (panic_reboot_hook)
            panic_reboot_hook();
        break;
    case PANIC_HALT:
        break;
    }
    out("bulkhead: system halted\n");
    park();
}

void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    panic_begin();
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    out("bulkhead: panic on cpu %d: %s\n  stack trace:\n", current_cpu(), msg);
    stack_trace((uint64_t)__builtin_frame_address(0));
    panic_finish();
}

void panic_exception(struct irq_frame *f)
{
    panic_begin();
    out("bulkhead: panic on cpu %d: exception %s (vector %llu) error code 0x%llx\n", current_cpu(),
        exception_name((unsigned)f->vector), (unsigned long long)f->vector,
        (unsigned long long)f->error_code);
    out("  rip 0x%016llx  rsp 0x%016llx  rflags 0x%016llx\n", (unsigned long long)f->rip,
        (unsigned long long)f->rsp, (unsigned long long)f->rflags);
    out("  cs  0x%04llx  ss 0x%04llx  cr2 0x%016llx\n", (unsigned long long)f->cs,
        (unsigned long long)f->ss, (unsigned long long)read_cr2());
    out("  cr0 0x%016llx  cr3 0x%016llx  cr4 0x%016llx\n", (unsigned long long)read_cr0(),
        (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    out("  rax 0x%016llx  rbx 0x%016llx  rcx 0x%016llx\n", (unsigned long long)f->rax,
        (unsigned long long)f->rbx, (unsigned long long)f->rcx);
    out("  rdx 0x%016llx  rsi 0x%016llx  rdi 0x%016llx\n", (unsigned long long)f->rdx,
        (unsigned long long)f->rsi, (unsigned long long)f->rdi);
    out("  rbp 0x%016llx  r8  0x%016llx  r9  0x%016llx\n", (unsigned long long)f->rbp,
        (unsigned long long)f->r8, (unsigned long long)f->r9);
    out("  r10 0x%016llx  r11 0x%016llx  r12 0x%016llx\n", (unsigned long long)f->r10,
        (unsigned long long)f->r11, (unsigned long long)f->r12);
    out("  r13 0x%016llx  r14 0x%016llx  r15 0x%016llx\n", (unsigned long long)f->r13,
        (unsigned long long)f->r14, (unsigned long long)f->r15);
    out("  stack trace:\n    #- 0x%016llx (faulting rip)\n", (unsigned long long)f->rip);
    stack_trace(f->rbp);
    panic_finish();
}
