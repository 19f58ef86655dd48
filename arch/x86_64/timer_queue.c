#include "arch/x86_64/timer_queue.h"

#include <stddef.h>

void tq_insert(struct timer_queue *q, struct timer *t)
{
    struct timer **pp = &q->head;
    while (*pp && (*pp)->deadline_tsc <= t->deadline_tsc)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    q->count++;
}

bool tq_remove(struct timer_queue *q, struct timer *t)
{
    for (struct timer **pp = &q->head; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            t->next = NULL;
            q->count--;
            return true;
        }
    }
    return false;
}

struct timer *tq_pop_expired(struct timer_queue *q, uint64_t now)
{
    struct timer *t = q->head;
    if (!t || t->deadline_tsc > now)
        return NULL;
    q->head = t->next;
    t->next = NULL;
    q->count--;
    return t;
}

uint64_t tq_next_deadline(const struct timer_queue *q)
{
    return q->head ? q->head->deadline_tsc : UINT64_MAX;
}
