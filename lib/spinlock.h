/* Ticket spinlock. Interrupt state is the caller's business (see
 * spin_lock_irqsave in arch/x86_64/irqlock.h). */
#ifndef LIB_SPINLOCK_H
#define LIB_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    volatile uint16_t next;
    volatile uint16_t owner;
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
    {                                                                                              \
        0, 0                                                                                       \
    }

static inline void spin_lock(spinlock_t *l)
{
    uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        __builtin_ia32_pause();
}

/* For exception/NMI paths: never waits on a holder that may be us. */
static inline bool spin_trylock(spinlock_t *l)
{
    uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    uint16_t expected = owner;
    return __atomic_compare_exchange_n(&l->next, &expected, (uint16_t)(owner + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

#endif
