#ifndef VCPU_VCPU_SWITCH_H
#define VCPU_VCPU_SWITCH_H

#include "hvm/vcpu.h"

/* Per physical CPU, before the first vCPU runs there. */
void vcpu_switch_cpu_init(void);
/* Around a change of vCPU on one physical CPU. Every load restores every
 * FPU/SIMD component a guest may enable, so no register content crosses
 * from one vCPU (or a destroyed VM) to the next. */
void vcpu_state_save(struct vcpu *v);
void vcpu_state_load(struct vcpu *v);
/* Fills an 8 KiB XSAVE area with the reset state (XSTATE_BV = 0, MXCSR
 * 0x1f80): what a vCPU of a freshly started VM gets. */
void vcpu_fpu_area_init(void *area);
/* The XSAVE components switched (x87 | SSE | what guests may enable). */
uint64_t vcpu_xsave_mask(void);

#endif
