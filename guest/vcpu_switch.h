#ifndef GUEST_VCPU_SWITCH_H
#define GUEST_VCPU_SWITCH_H

#include "guest/vcpu.h"

/* Per physical CPU, before the first vCPU runs there. */
void vcpu_switch_cpu_init(void);
/* Around a change of vCPU on one physical CPU. */
void vcpu_state_save(struct vcpu *v);
void vcpu_state_load(struct vcpu *v);

#endif
