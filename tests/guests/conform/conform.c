/* conform: the virtual CPU against the SDM. Each check prints one PASS or
 * FAIL line; the run ends with "conform: done N passed, M failed" and
 * stops itself with code 0 (all passed) or 1. Checks that could take the
 * VM down when the hypervisor gets them wrong (a failed VM entry) run
 * last in their group, so the lines before them still show. Needs
 * `platform = pc` (the local APIC checks). */
#include "tests/guests/conform/conform.h"

volatile struct caught g_caught = {-1, 0, 0};
static unsigned g_passed, g_failed;

void pass(const char *name)
{
    g_passed++;
    printf("conform: PASS %s\n", name);
}

void fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    g_failed++;
    printf("conform: FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

void expect_vector(const char *name, int got, int want)
{
    if (got == want)
        pass(name);
    else
        fail(name, "exception %d (%s), expected %d (%s)", got, got < 0 ? "none" : vector_name(got),
             want, want < 0 ? "none" : vector_name(want));
}

/* Every exception the checks provoke: record what the CPU pushed and
 * resume after the instruction (TRY). Single-step traps clear TF. */
static void on_trap(struct trap_frame64 *f)
{
    g_caught.vector = (int)f->vector;
    g_caught.error = f->error;
    g_caught.rflags = f->rflags;
    trap_last_vector = (int)f->vector;
    f->rflags &= ~RFLAGS_TF;
    if (trap_resume_rip) {
        f->rip = trap_resume_rip;
        trap_resume_rip = 0;
        return;
    }
    printf("conform: unexpected exception %u %s at rip 0x%llx error 0x%llx\n", (unsigned)f->vector,
           vector_name((unsigned)f->vector), (unsigned long long)f->rip,
           (unsigned long long)f->error);
    printf("conform: done %u passed, %u failed\n", g_passed, g_failed + 1);
    guest_exit(3);
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    (void)mbi;
    for (unsigned v = 0; v < 32; v++)
        if (v != 2 && v != 8)
            set_trap64_handler(v, on_trap);
    printf("conform: start\n");
    check_msr();
    check_debug();
    check_xsave();
    check_lmsw();
    check_cr();          /* a wrong CR rule can end the VM */
    check_apic_window(); /* so can a window left behind */
    printf("conform: done %u passed, %u failed\n", g_passed, g_failed);
    guest_exit(g_failed ? 1 : 0);
}
