/* INVEPT / INVVPID wrappers (Intel SDM Vol. 3C, VMX instruction reference).
 * Both report failure through RFLAGS: CF=1 (VMfailInvalid) or ZF=1
 * (VMfailValid, e.g. an unsupported type); either maps to EPT_ERR_HW.
 * Kernel only: host unit tests never execute VMX instructions. */
#ifndef EPT_INVEPT_H
#define EPT_INVEPT_H

#include <stdint.h>

#include "ept/ept.h"

#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT    2

#define INVVPID_INDIVIDUAL_ADDRESS     0
#define INVVPID_SINGLE_CONTEXT         1
#define INVVPID_ALL_CONTEXT            2
#define INVVPID_SINGLE_CONTEXT_GLOBALS 3 /* single context, retaining global translations */

#ifndef HOST_TEST

struct invept_desc {
    uint64_t eptp;
    uint64_t reserved; /* must be zero */
} __attribute__((aligned(16)));

struct invvpid_desc {
    uint64_t vpid; /* bits 15:0; bits 63:16 must be zero */
    uint64_t linear_address;
} __attribute__((aligned(16)));

static inline int invept(uint64_t type, uint64_t eptp)
{
    struct invept_desc desc = {eptp, 0};
    uint8_t fail;
    __asm__ volatile("invept %[desc], %[type]\n\tsetna %[fail]"
                     : [fail] "=qm"(fail)
                     : [desc] "m"(desc), [type] "r"(type)
                     : "cc", "memory");
    return fail ? EPT_ERR_HW : 0;
}

static inline int invvpid(uint64_t type, uint16_t vpid, uint64_t gla)
{
    struct invvpid_desc desc = {vpid, gla};
    uint8_t fail;
    __asm__ volatile("invvpid %[desc], %[type]\n\tsetna %[fail]"
                     : [fail] "=qm"(fail)
                     : [desc] "m"(desc), [type] "r"(type)
                     : "cc", "memory");
    return fail ? EPT_ERR_HW : 0;
}

/* Call on every CPU that ran with this EPTP, after changing its tables. */
static inline int invept_single(uint64_t eptp)
{
    return invept(INVEPT_SINGLE_CONTEXT, eptp);
}

static inline int invept_all(void)
{
    return invept(INVEPT_ALL_CONTEXT, 0);
}

/* gla must be canonical, and VPID 0 is the host's: both are refused by the
 * CPU, and reported here as EPT_ERR_HW. */
static inline int invvpid_addr(uint16_t vpid, uint64_t gla)
{
    return invvpid(INVVPID_INDIVIDUAL_ADDRESS, vpid, gla);
}

static inline int invvpid_single(uint16_t vpid)
{
    return invvpid(INVVPID_SINGLE_CONTEXT, vpid, 0);
}

static inline int invvpid_all(void)
{
    return invvpid(INVVPID_ALL_CONTEXT, 0, 0);
}

static inline int invvpid_single_nonglobal(uint16_t vpid)
{
    return invvpid(INVVPID_SINGLE_CONTEXT_GLOBALS, vpid, 0);
}

#endif /* HOST_TEST */
#endif
