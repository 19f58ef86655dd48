/* VM-exit dispatch: a table indexed by basic exit reason (as ACRN's
 * dispatch_table), each entry naming its handler and whether it needs the
 * exit qualification read. */
#ifndef VMX_VMX_EXIT_H
#define VMX_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/vcpu.h"

enum vmx_exit_action {
    VMX_EXIT_CONTINUE, /* re-enter the guest */
    VMX_EXIT_PREEMPT,  /* back to the scheduler, still runnable */
    VMX_EXIT_HALT,     /* blocked until an event */
    VMX_EXIT_YIELD,
    VMX_EXIT_STOP, /* the VM is stopping */
};

struct vmx_exit {
    uint32_t reason; /* basic reason, bits 15:0 */
    uint64_t qualification;
};

/* Per-vCPU exit bookkeeping that must survive to the next entry. */
struct vmx_exit_state {
    uint32_t reinject_info;
    uint32_t reinject_error;
    uint32_t reinject_len;
};

typedef enum vmx_exit_action (*vmx_exit_handler)(struct vcpu *v, struct vmx_exit *e);

struct vmx_exit_entry {
    vmx_exit_handler handler;
    bool need_qualification;
    const char *name;
};

enum vmx_exit_action vmx_handle_exit(struct vcpu *v, uint64_t exit_tsc);
struct vmx_exit_state *vmx_exit_state(struct vcpu *v);

/* Handlers living in vmx_exit_io.c and vmx_exit_cr.c. */
enum vmx_exit_action vmx_exit_io(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_rdmsr(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_wrmsr(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_ept_violation(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_ept_misconfig(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_cr_access(struct vcpu *v, struct vmx_exit *e);
/* Reads/writes guest memory through its own paging (for INS/OUTS and the
 * MMIO decoder): a linear address to guest-physical. */
int vmx_guest_linear_to_phys(struct vcpu *v, uint64_t la, bool write, uint64_t *gpa);
enum vmx_exit_action vmx_stop_action(struct vcpu *v);

#endif
