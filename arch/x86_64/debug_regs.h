/* Debug-register rules a hypervisor applies when it delivers a #DB it
 * intercepted (SDM vol. 3 17.2.3, 17.2.4): the CPU sets the bits of the
 * new condition in DR6 and never clears the others, and entering the #DB
 * handler clears DR7.GD. */
#ifndef ARCH_X86_64_DEBUG_REGS_H
#define ARCH_X86_64_DEBUG_REGS_H

#include <stdint.h>

#define DR6_FIXED1 0xffff0ff0ULL /* read as 1 (RTM and bus-lock bits active low) */
#define DR6_HITS   0xe00fULL     /* B0-B3, BD, BS, BT */
#define DR7_GD     (1ULL << 13)

/* DR6 after a #DB whose conditions are `hits` (the VMX exit
 * qualification, or pending debug exceptions) hit a guest whose DR6 was
 * `dr6`. */
static inline uint64_t x86_dr6_merge(uint64_t dr6, uint64_t hits)
{
    return ((dr6 & 0xffffffffULL) & ~(1ULL << 12)) | (hits & DR6_HITS) | DR6_FIXED1;
}

#endif
