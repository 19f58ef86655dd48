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

uint64_t login_limit_wait(const struct login_limit *l, uint32_t addr, uint64_t now)
{
    const struct login_peer *p = find((struct login_limit *)l, addr);
    return p && p->not_before > now ? p->not_before - now : 0;
}

/* A free slot, else the one whose last failure is oldest. */
static struct login_peer *slot(struct login_limit *l)
{
    struct login_peer *best = &l->peers[0];
    for (unsigned i = 0; i < LOGIN_LIMIT_PEERS; i++) {
        if (!l->peers[i].used)
            return &l->peers[i];
        if (l->peers[i].last < best->last)
            best = &l->peers[i];
    }
    return best;
}

uint64_t login_limit_fail(struct login_limit *l, uint32_t addr, uint64_t now)
{
    struct login_peer *p = find(l, addr);
    if (!p) {
        p = slot(l);
        *p = (struct login_peer){.addr = addr, .used = true};
    }
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
