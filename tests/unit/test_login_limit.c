/* Failed network-console logins: growing delays per peer, a lock-out after
 * LOGIN_LOCK_FAILURES, other peers unaffected, a bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/login_limit.h"

#define A 0x0a000202u
#define B 0x0a000203u

static struct login_limit l;

static void test_fresh_peer_may_try(void **state)
{
    login_limit_init(&l);
    assert_int_equal(login_limit_wait(&l, A, 1000), 0);
}

static void test_delays_grow_then_lock(void **state)
{
    login_limit_init(&l);
    uint64_t now = 5000;
    assert_int_equal(login_limit_fail(&l, A, now), 1000);
    assert_int_equal(login_limit_wait(&l, A, now), 1000);
    assert_int_equal(login_limit_wait(&l, A, now + 400), 600);
    assert_int_equal(login_limit_wait(&l, A, now + 1000), 0);
    now += 1000;
    assert_int_equal(login_limit_fail(&l, A, now), 2000);
    now += 2000;
    assert_int_equal(login_limit_fail(&l, A, now), 4000);
    now += 4000;
    assert_int_equal(login_limit_fail(&l, A, now), 8000);
    now += 8000;
    /* The fifth failure in a row: locked out for a minute. */
    assert_int_equal(login_limit_fail(&l, A, now), LOGIN_LOCK_MS);
    assert_int_equal(login_limit_wait(&l, A, now + 30000), LOGIN_LOCK_MS - 30000);
    /* Another peer is not affected. */
    assert_int_equal(login_limit_wait(&l, B, now), 0);
}

static void test_success_forgets(void **state)
{
    login_limit_init(&l);
    login_limit_fail(&l, A, 0);
    login_limit_fail(&l, A, 1000);
    login_limit_success(&l, A);
    assert_int_equal(login_limit_wait(&l, A, 1000), 0);
    assert_int_equal(login_limit_fail(&l, A, 2000), 1000); /* counting starts again */
}

/* Many addresses: the table stays bounded, every record still in force
 * stays, and the peers beyond it share the overflow record's delays. */
static void test_table_is_bounded(void **state)
{
    login_limit_init(&l);
    for (uint32_t i = 0; i < 3 * LOGIN_LIMIT_PEERS; i++)
        login_limit_fail(&l, 0x0b000000u + i, 100 + i);
    uint64_t now = 100 + 3 * LOGIN_LIMIT_PEERS;
    for (uint32_t i = 0; i < LOGIN_LIMIT_PEERS; i++)
        assert_true(login_limit_wait(&l, 0x0b000000u + i, now) > 0);
    /* 64 failures in the overflow record: locked, for any address without a record. */
    assert_int_equal(login_limit_wait(&l, 0x0c000001u, now), LOGIN_LOCK_MS - 1);
    assert_int_equal(login_limit_wait(&l, 0x0b000000u + 3 * LOGIN_LIMIT_PEERS - 1, now),
                     LOGIN_LOCK_MS - 1);
}

/* A flood of new addresses does not push a locked peer out of the table:
 * before, the record whose last failure was oldest made room, and the
 * flood gave the locked address a fresh start. */
static void test_flood_keeps_lock(void **state)
{
    login_limit_init(&l);
    uint64_t now = 1000;
    for (unsigned i = 0; i + 1 < LOGIN_LOCK_FAILURES; i++)
        now += login_limit_fail(&l, A, now);
    assert_int_equal(login_limit_fail(&l, A, now), LOGIN_LOCK_MS);
    uint64_t locked_at = now;
    for (uint32_t i = 0; i < 4 * LOGIN_LIMIT_PEERS; i++)
        login_limit_fail(&l, 0x0c000000u + i, now + 1 + i);
    now += 1 + 4 * LOGIN_LIMIT_PEERS;
    assert_int_equal(login_limit_wait(&l, A, now), LOGIN_LOCK_MS - (now - locked_at));
    /* Once its lock ran out and it stayed quiet, the record may be given up
     * and a failure counts from the start. */
    now = locked_at + LOGIN_LOCK_MS + LOGIN_FORGET_MS;
    assert_int_equal(login_limit_wait(&l, A, now), 0);
    assert_int_equal(login_limit_fail(&l, A, now), LOGIN_DELAY_MS);
}

/* Failures far apart are not "in a row". */
static void test_quiet_peer_counts_afresh(void **state)
{
    login_limit_init(&l);
    uint64_t now = 0;
    for (unsigned i = 0; i < LOGIN_LOCK_FAILURES - 1; i++)
        now += LOGIN_FORGET_MS + login_limit_fail(&l, B, now);
    assert_int_equal(login_limit_fail(&l, B, now), LOGIN_DELAY_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_peer_may_try), cmocka_unit_test(test_delays_grow_then_lock),
        cmocka_unit_test(test_success_forgets),    cmocka_unit_test(test_table_is_bounded),
        cmocka_unit_test(test_flood_keeps_lock),   cmocka_unit_test(test_quiet_peer_counts_afresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
