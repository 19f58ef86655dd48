/* Failed logins per peer address: each failure delays the next attempt
 * (1 s, 2 s, 4 s ... up to LOGIN_DELAY_MAX_MS), and LOGIN_LOCK_FAILURES
 * failures in a row lock the peer out for LOGIN_LOCK_MS. A record is stale
 * once no delay runs and its last failure is LOGIN_FORGET_MS old: a failure
 * then counts from 1 again, and only a stale record is given up to make
 * room in the fixed table of LOGIN_LIMIT_PEERS. While every record is in
 * force, the peers without one fail into one more they share (the overflow
 * record), whose delay then holds for every address without a record: so
 * failures from many addresses can neither grow the table nor push a
 * locked peer out of it. Pure logic; times are milliseconds. */
#ifndef NET_LOGIN_LIMIT_H
#define NET_LOGIN_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define LOGIN_LIMIT_PEERS   32
#define LOGIN_DELAY_MS      1000
#define LOGIN_DELAY_MAX_MS  16000
#define LOGIN_LOCK_FAILURES 5
#define LOGIN_LOCK_MS       60000
#define LOGIN_FORGET_MS     60000

struct login_peer {
    uint32_t addr;
    unsigned failures;
    uint64_t not_before; /* no attempt from it before this time */
    uint64_t last;       /* last failure (for replacement) */
    bool used;
};

struct login_limit {
    struct login_peer peers[LOGIN_LIMIT_PEERS];
    struct login_peer overflow; /* every peer without a record while none can be given up */
};

void login_limit_init(struct login_limit *l);
/* 0 when addr may try now, else the milliseconds it must wait. */
uint64_t login_limit_wait(const struct login_limit *l, uint32_t addr, uint64_t now);
/* A failed attempt: returns the delay before the next one (what the
 * session waits before saying "login incorrect"). */
uint64_t login_limit_fail(struct login_limit *l, uint32_t addr, uint64_t now);
/* A successful login forgets the peer's failures. */
void login_limit_success(struct login_limit *l, uint32_t addr);

#endif
