#include "core/sched_policy.h"

int sched_pick_index(const struct sched_candidate *c, unsigned n, unsigned *cursor)
{
    int best = -1;
    if (!n)
        return -1;
    unsigned start = *cursor % n;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (start + k) % n;
        if (!c[i].runnable)
            continue;
        if (best < 0 || (c[best].yielded && !c[i].yielded) ||
            (c[best].yielded == c[i].yielded && c[i].priority > c[best].priority))
            best = (int)i;
    }
    if (best >= 0)
        *cursor = ((unsigned)best + 1) % n;
    return best;
}

uint64_t sched_turn_length(uint64_t slice, uint64_t now, uint64_t blocked_deadline)
{
    if (blocked_deadline == SCHED_NO_DEADLINE)
        return slice;
    uint64_t d = blocked_deadline > now ? blocked_deadline - now : 1;
    return (!slice || d < slice) ? d : slice;
}

bool sched_wake_ends_turn(bool cur_alone, bool same_vm, unsigned cur_priority,
                          unsigned woken_priority)
{
    return cur_alone || same_vm || woken_priority > cur_priority;
}
