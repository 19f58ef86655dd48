/* What delivering an intercepted #DB does to the debug registers, once for
 * every backend (SDM vol. 3 17.2.3, 17.2.4; AMD APM vol. 2 13.1.1): the
 * new conditions are ORed into DR6 (bits already set stay), and entering
 * the guest's #DB handler clears DR7.GD so the handler may use the debug
 * registers. The backend only says which conditions the #DB had (VMX: the
 * exit qualification; SVM: the VMCB's DR6, which the CPU has already
 * updated) and where DR6 and DR7 live (HVM_REG_DR6, HVM_REG_DR7). */
#ifndef VCPU_DEBUG_RULES_H
#define VCPU_DEBUG_RULES_H

#include <stdbool.h>
#include <stdint.h>

struct debug_regs {
    uint64_t dr6, dr7;
};

/* The guest's DR6/DR7 after an intercepted #DB whose conditions are hits
 * (DR6 layout). merge is false for ICEBP (INT1), which reports no
 * condition in DR6 but still clears DR7.GD. */
struct debug_regs db_delivery_rules(struct debug_regs before, uint64_t hits, bool merge);

#endif
