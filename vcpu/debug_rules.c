/* The #DB delivery rules; see debug_rules.h. */
#include "vcpu/debug_rules.h"

#include "arch/x86_64/debug_regs.h"

struct debug_regs db_delivery_rules(struct debug_regs before, uint64_t hits, bool merge)
{
    struct debug_regs after = before;
    if (merge)
        after.dr6 = x86_dr6_merge(before.dr6, hits);
    after.dr7 = before.dr7 & ~DR7_GD;
    return after;
}
