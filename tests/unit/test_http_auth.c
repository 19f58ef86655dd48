/* The HTTP API's bearer token: net.api_token parsed by the configuration
 * (core/config_net.c) and a request's Authorization checked against it
 * (core/api_auth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/api_auth.h"
#include "core/config.h"

/* echo bulkhead-test-token | bulkhead-check --hash-token (configs/http-test.cfg) */
#define TOKEN_HASH                                                                                 \
    "sha256$0884c1eded2f23298aa5af30b5a94b79$"                                                     \
    "aef77f7aa5c462756a1758001708e785410f37488ad1dcc4902bb1860bb78463"

static struct config cfg;

static void parse(const char *text)
{
    config_parse(text, strlen(text), "t.cfg", &cfg);
    config_validate(&cfg, NULL);
}

static void token_from(struct api_token *t)
{
    const struct config_net *n = &cfg.global.net;
    t->set = n->have_api_token;
    t->salt_len = n->api_token_salt_len;
    memcpy(t->salt, n->api_token_salt, sizeof(t->salt));
    memcpy(t->hash, n->api_token_hash, sizeof(t->hash));
}

static bool check(const struct api_token *t, const char *field)
{
    return api_auth_check(t, field, field ? strlen(field) : 0);
}

static void test_token_accepted_and_refused(void **state)
{
    struct api_token t;
    parse("[global]\nnet.enabled = false\nnet.api_token = " TOKEN_HASH "\n");
    assert_int_equal(cfg.nr_errors, 0);
    token_from(&t);
    assert_true(t.set);
    assert_true(check(&t, "Bearer bulkhead-test-token"));
    assert_true(check(&t, "bearer bulkhead-test-token"));
    assert_true(check(&t, "BEARER  bulkhead-test-token"));
    assert_false(check(&t, NULL));
    assert_false(check(&t, ""));
    assert_false(check(&t, "Bearer"));
    assert_false(check(&t, "Bearer "));
    assert_false(check(&t, "Bearer bulkhead-test-toke"));
    assert_false(check(&t, "Bearer bulkhead-test-token "));
    assert_false(check(&t, "Bearer bulkhead-test-tokenX"));
    assert_false(check(&t, "Basic bulkhead-test-token"));
    assert_false(check(&t, "bulkhead-test-token"));
    char big[600];
    memset(big, 'a', sizeof(big));
    memcpy(big, "Bearer ", 7);
    big[sizeof(big) - 1] = '\0';
    assert_false(check(&t, big));
}

static void test_no_token_refuses_everything(void **state)
{
    struct api_token t = {0};
    assert_false(check(&t, "Bearer "));
    assert_false(check(&t, "Bearer anything"));
}

static void test_bad_hash_strings(void **state)
{
    static const char *const bad[] = {
        "sha256$",
        "sha256$00$"
        "aef77f7aa5c462756a1758001708e785410f37488ad1dcc4902bb1860bb78463",
        "md5$0884c1eded2f23298aa5af30b5a94b79$"
        "aef77f7aa5c462756a1758001708e785410f37488ad1dcc4902bb1860bb78463",
        "sha256$0884c1eded2f23298aa5af30b5a94b79$aef7",
        "sha256$0884c1eded2f23298aa5af30b5a94b7g$"
        "aef77f7aa5c462756a1758001708e785410f37488ad1dcc4902bb1860bb78463",
        "sha256$0884c1eded2f23298aa5af30b5a94b79"
        "aef77f7aa5c462756a1758001708e785410f37488ad1dcc4902bb1860bb78463",
        "bulkhead-test-token",
    };
    char text[512];
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "[global]\nnet.enabled = false\nnet.api_token = %s\n", bad[i]);
        parse(text);
        print_message("case %u\n", i);
        assert_int_equal(cfg.nr_errors, 1);
        assert_non_null(strstr(cfg.errors[0].msg, "bulkhead-check --hash-token"));
        assert_false(cfg.global.net.have_api_token);
    }
}

static void test_http_port_checks(void **state)
{
    parse("[global]\nnet.enabled = false\nnet.http_port = 2323\n");
    assert_int_equal(cfg.nr_errors, 1);
    assert_non_null(strstr(cfg.errors[0].msg, "net.console_port too"));
    parse("[global]\nnet.enabled = false\nnet.http_port = 0\n");
    assert_int_equal(cfg.nr_errors, 1);
    parse("[global]\nnet.enabled = false\nnet.http_port = 9000\nnet.http_timeout = 10s\n");
    assert_int_equal(cfg.nr_errors, 0);
    assert_int_equal(cfg.global.net.http_port, 9000);
    assert_int_equal(cfg.global.net.http_timeout, 10);
    parse("[global]\nnet.enabled = false\n");
    assert_int_equal(cfg.global.net.http_port, 8080);
    assert_int_equal(cfg.global.net.http_timeout, 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_accepted_and_refused),
        cmocka_unit_test(test_no_token_refuses_everything),
        cmocka_unit_test(test_bad_hash_strings),
        cmocka_unit_test(test_http_port_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
