#include "core/sched_policy.h"

/* a is a better choice than b (b was found first: ties stay with b). */
static bool better(const struct sched_candidate *a, const struct sched_candidate *b)
{
    if (a->yielded != b->yielded)
        return !a->yielded;
    if (a->priority != b->priority)
        return a->priority > b->priority;
    return a->directed && !b->directed;
}

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
        if (best < 0 || better(&c[i], &c[best]))
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
