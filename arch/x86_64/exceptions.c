#include "arch/x86_64/exceptions.h"

#include "arch/x86_64/panic.h"

struct ex_table_entry {
    uint64_t fault_rip;
    uint64_t fixup_rip;
};

extern const struct ex_table_entry __ex_table_start[], __ex_table_end[];

static const char *const names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved 15",
    "#MF x87 floating point",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating point",
    "#VE virtualization",
    "#CP control protection",
};

const char *exception_name(unsigned vector)
{
    if (vector < 32 && names[vector])
        return names[vector];
    return "reserved";
}

uint64_t exception_fixup_lookup(uint64_t rip)
{
    for (const struct ex_table_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->fault_rip == rip)
            return e->fixup_rip;
    return 0;
}

void exception_handle(struct irq_frame *f)
{
    if (f->vector == 2) {
        panic_nmi_check();
        if (nmi_hook)
            nmi_hook(f);
        return;
    }
    /* An expected fault (an MSR probe, say) resumes at its fixup. */
    if (f->vector == 13 || f->vector == 14 || f->vector == 6) {
        uint64_t fix = exception_fixup_lookup(f->rip);
        if (fix) {
            f->rip = fix;
            return;
        }
    }
    panic_exception(f);
}
