/* What the configuration parser tests share (test_config.c,
 * test_config_validate.c): the parsed file, parsing from a string, and the
 * check for a file's one error. Header-only: each binary has its own copy. */
#ifndef TESTS_UNIT_CONFIG_TEST_H
#define TESTS_UNIT_CONFIG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

static struct config cfg;

static int parse(const char *text)
{
    return config_parse(text, strlen(text), "t.cfg", &cfg);
}

/* The one error of the file: its line, VM, and a part of its message. */
static void expect_one(unsigned line, const char *vm, const char *msg)
{
    if (cfg.nr_errors != 1 || cfg.errors[0].line != line || strcmp(cfg.errors[0].vm, vm) ||
        !strstr(cfg.errors[0].msg, msg)) {
        for (unsigned i = 0; i < cfg.nr_errors; i++)
            print_message("error %u: line %u vm '%s': %s\n", i, cfg.errors[i].line,
                          cfg.errors[i].vm, cfg.errors[i].msg);
        fail_msg("expected one error: line %u vm '%s': %s", line, vm, msg);
    }
}

static const char good[] = "[vm good]\n"
                           "kernel = hello.elf\n"
                           "cmdline = \"name=good\"\n";

/* A file with the valid VM `good` first, then text starting on line 4. */
static int parse_after_good(const char *text)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf), "%s%s", good, text);
    return parse(buf);
}

#pragma GCC diagnostic pop

#endif
