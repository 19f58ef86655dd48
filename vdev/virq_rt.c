/* Which vCPUs of a real-time VM a vIOAPIC delivery reaches (virq_rt.h).
 * Pure logic: vdev/virq.c sends the IPIs. */
#include "vdev/virq_rt.h"

#define MODE_FIXED  0u
#define MODE_LOWEST 1u

uint32_t virq_rt_targets(const uint32_t *phys_ids, unsigned n, uint32_t dest, bool logical,
                         unsigned mode, uint8_t vector)
{
    /* NMI, SMI, INIT and ExtINT would need an exit to emulate; vectors
     * below 16 are illegal in a fixed IPI. */
    if ((mode != MODE_FIXED && mode != MODE_LOWEST) || vector < 16 || !n)
        return 0;
    if (n > 32)
        n = 32;
    uint32_t all = n == 32 ? 0xffffffffu : (1u << n) - 1;
    if (logical)
        return 1;
    if (dest == 0xff)
        return mode == MODE_LOWEST ? 1 : all;
    for (unsigned i = 0; i < n; i++)
        if (phys_ids[i] == dest)
            return 1u << i;
    return dest < n ? 1u << dest : 0;
}
