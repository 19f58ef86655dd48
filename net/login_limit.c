#include "net/login_limit.h"

void login_limit_init(struct login_limit *l)
{
    *l = (struct login_limit){0};
}

static struct login_peer *find(struct login_limit *l, uint32_t addr)
{
    for (unsigned i = 0; i < LOGIN_LIMIT_PEERS; i++)
        if (l->peers[i].used && l->peers[i].addr == addr)
            return &l->peers[i];
    return 0;
}

/* A record may be given up: no delay running, quiet for LOGIN_FORGET_MS. */
static bool stale(const struct login_peer *p, uint64_t now)
{
    return p->not_before <= now && now >= p->last && now - p->last >= LOGIN_FORGET_MS;
}

/* A free record, else the stale one whose last failure is oldest, else
 * NULL (every record is in force). */
static struct login_peer *slot(struct login_limit *l, uint64_t now)
{
    struct login_peer *best = 0;
    for (unsigned i = 0; i < LOGIN_LIMIT_PEERS; i++) {
        struct login_peer *p = &l->peers[i];
        if (!p->used)
            return p;
        if (stale(p, now) && (!best || p->last < best->last))
            best = p;
    }
    return best;
}

static uint64_t wait_of(const struct login_peer *p, uint64_t now)
{
    return p->not_before > now ? p->not_before - now : 0;
}

uint64_t login_limit_wait(const struct login_limit *l, uint32_t addr, uint64_t now)
{
    const struct login_peer *p = find((struct login_limit *)l, addr);
    /* Without a record of its own, the shared one: its delay runs for every
     * address that has none (one may have failed in it), even once a
     * record could be had. */
    return wait_of(p ? p : &l->overflow, now);
}

uint64_t login_limit_fail(struct login_limit *l, uint32_t addr, uint64_t now)
{
    struct login_peer *p = find(l, addr);
    if (!p) {
        p = slot(l, now);
        if (p)
            *p = (struct login_peer){.addr = addr, .used = true};
        else
            p = &l->overflow;
    }
    if (stale(p, now)) /* quiet long enough to have been given up: count afresh */
        p->failures = 0;
    p->failures++;
    p->last = now;
    uint64_t delay;
    if (p->failures >= LOGIN_LOCK_FAILURES) {
        delay = LOGIN_LOCK_MS;
    } else {
        delay = (uint64_t)LOGIN_DELAY_MS << (p->failures - 1);
        if (delay > LOGIN_DELAY_MAX_MS)
            delay = LOGIN_DELAY_MAX_MS;
    }
    p->not_before = now + delay;
    return delay;
}

void login_limit_success(struct login_limit *l, uint32_t addr)
{
    struct login_peer *p = find(l, addr);
    if (p)
        *p = (struct login_peer){0};
}
