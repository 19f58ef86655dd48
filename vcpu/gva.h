/* Guest linear addresses for emulated accesses: translated through the
 * guest's own page tables (ept/gwalk.c) with every check the CPU makes,
 * the guest's paging state read through the backend. */
#ifndef VCPU_GVA_H
#define VCPU_GVA_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/gwalk.h"
#include "hvm/vcpu.h"

enum walk_outcome {
    WALK_OK,
    WALK_FAULTED, /* an exception is queued for the guest (when asked to) */
    WALK_RETRY,   /* re-execute the instruction */
    WALK_BROKEN,  /* the guest's tables lie outside its RAM: crash it */
};

/* Guest linear -> guest physical. With inject, a refused access queues
 * #PF (CR2 = la) or #GP(0), as the CPU would. */
enum walk_outcome vcpu_translate(struct vcpu *v, uint64_t la, enum gwalk_access acc, uint64_t *gpa,
                                 bool inject);
/* Reads up to 15 instruction bytes at la as the CPU fetches them. Returns
 * the number had (the instruction may end on a page that cannot be
 * fetched: then what the first page holds), 0 when an exception was
 * queued or the access must be retried, -1 when nothing is readable. */
int vcpu_fetch_instruction(struct vcpu *v, uint64_t la, uint8_t bytes[15]);
/* The linear address of RIP (CS base added, truncated outside 64-bit
 * code) and the decoder's code mode (16, 32 or 64). */
uint64_t vcpu_rip_linear(struct vcpu *v, uint64_t rip, unsigned *mode);

#endif
