/* `define` (core/define_check.c, core/define_input.c): one [vm NAME]
 * section checked like the boot configuration against the VMs defined now,
 * with hostile input; and the console's line collector. */
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
#include "core/define_check.h"
#include "core/define_input.h"

static struct config scratch;
static struct vm_config existing[CONFIG_MAX_VMS];
static char err[2048];
static struct vm_config out;

static const char *const mod_names[] = {"hello.elf", "empty.bin"};
static const uint64_t mod_sizes[] = {4096, 0};

static struct config_machine machine(void)
{
    struct config_machine m = {0};
    m.nr_cpus = 4;
    m.free_ram = 256ULL << 20;
    m.nr_modules = 2;
    m.module_names = mod_names;
    m.module_sizes = mod_sizes;
    m.check_modules = true;
    return m;
}

static int check_with(const char *text, size_t len, const char *expect, unsigned nr_existing,
                      const struct config_machine *m)
{
    struct define_context ctx = {existing, nr_existing, NULL, m, 8192};
    memset(&out, 0, sizeof(out));
    return define_check_section(text, len, expect, &ctx, &scratch, &out, err, sizeof(err));
}

static int check(const char *text, unsigned nr_existing)
{
    struct config_machine m = machine();
    return check_with(text, strlen(text), NULL, nr_existing, &m);
}

/* An existing VM, parsed from its own section. */
static void add_existing(unsigned i, const char *text)
{
    assert_int_equal(config_parse(text, strlen(text), "x", &scratch), 0);
    existing[i] = scratch.vms[0];
}

static void expect_err(const char *want)
{
    if (strcmp(err, want))
        fail_msg("got '%s'\nwant '%s'", err, want);
}

static void test_valid_section(void **state)
{
    (void)state;
    assert_int_equal(check("[vm web]\nkernel = hello.elf\nmemory = 32M\ncpus = [1]\n", 0), 0);
    assert_string_equal(out.name, "web");
    assert_string_equal(out.kernel, "hello.elf");
    assert_int_equal(out.mem_size, 32ULL << 20);
    assert_int_equal(out.pcpu[0], 1);
    assert_string_equal(err, "");
    /* Comments and blank lines around it are fine. */
    assert_int_equal(check("# mine\n\n[vm w2]   # the VM\nkernel = hello.elf\n\n", 0), 0);
    assert_string_equal(out.name, "w2");
}

static void test_checker_messages_and_lines(void **state)
{
    (void)state;
    /* The parser's own message, its line counted in the text given. */
    assert_int_equal(check("[vm web]\nkernel = hello.elf\nmemory = lots\n", 0), 1);
    expect_err("define:3: vm web: memory: expected a size with a unit like 64M, got 'lots'");
    assert_string_equal(out.name, ""); /* nothing filled */
    /* Machine checks: modules and CPUs. */
    assert_int_equal(check("[vm web]\nkernel = nope.elf\n", 0), 1);
    expect_err("define:2: vm web: kernel: module 'nope.elf' is not present");
    assert_int_equal(check("[vm web]\nkernel = empty.bin\n", 0), 1);
    expect_err("define:2: vm web: kernel: module 'empty.bin' is empty (0 bytes)");
    assert_true(check("[vm web]\nkernel = hello.elf\ncpus = [9]\n", 0) >= 1);
    assert_non_null(strstr(err, "define:3: vm web: cpus:"));
    /* Two errors: two lines. */
    assert_int_equal(check("[vm web]\nkernel = hello.elf\nmemory = x\nslice = y\n", 0), 2);
    assert_non_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "define:3:"));
    assert_non_null(strstr(err, "define:4:"));
}

static void test_one_vm_section_only(void **state)
{
    (void)state;
    assert_int_equal(check("[vm a]\nkernel = hello.elf\n[vm b]\nkernel = hello.elf\n", 0), 1);
    expect_err("define:3: one [vm NAME] section at a time");
    assert_int_equal(check("[global]\nloglevel = debug\n[vm a]\nkernel = hello.elf\n", 0), 1);
    expect_err("define:1: [global] cannot be changed at run time: give one [vm NAME] section "
               "only");
    assert_int_equal(check("", 0), 1);
    expect_err("define: no [vm NAME] section given");
    assert_int_equal(check("# nothing\n\n", 0), 1);
    expect_err("define: no [vm NAME] section given");
    assert_int_equal(check("kernel = hello.elf\n", 0), 1);
    expect_err("define:1: key 'kernel' outside a section (start with [global] or [vm NAME])");
}

static void test_against_defined_vms(void **state)
{
    (void)state;
    add_existing(0, "[vm a]\nkernel = hello.elf\ncpus = [1]\ncpu_policy = dedicated\n");
    add_existing(1, "[vm b]\nkernel = hello.elf\nioports = [0x2f8-0x2ff]\n");
    /* The name is taken. */
    assert_int_equal(check("[vm a]\nkernel = hello.elf\n", 2), 1);
    expect_err("define:1: vm a: a VM of this name is already defined (undefine it first)");
    /* A dedicated CPU of a defined VM: the defined one wins, and the
     * message has no line for it (it is not in this text). */
    assert_int_equal(check("[vm c]\nkernel = hello.elf\ncpus = [1]\n", 2), 1);
    expect_err("define:3: vm c: cpus: CPU 1 is already dedicated to vm a");
    assert_int_equal(check("[vm c]\nkernel = hello.elf\nioports = [0x2fa-0x2fb]\n", 2), 1);
    assert_non_null(
        strstr(err, "define:3: vm c: ioports: 0x2fa-0x2fb overlaps 0x2f8-0x2ff of vm b"));
    assert_null(strstr(err, "line 0"));
    /* No conflict: accepted. */
    assert_int_equal(check("[vm c]\nkernel = hello.elf\ncpus = [2]\n", 2), 0);
    /* A defined VM with a problem of its own (its module is gone) does not
     * make the new one fail. */
    add_existing(2, "[vm d]\nkernel = gone.elf\n");
    assert_int_equal(check("[vm c]\nkernel = hello.elf\n", 3), 0);
}

static void test_pci_against_defined_vms_and_the_nic(void **state)
{
    (void)state;
    add_existing(0, "[vm a]\nkernel = hello.elf\nplatform = pc\npci = [00:04.0]\n");
    assert_int_equal(check("[vm c]\nkernel = hello.elf\nplatform = pc\npci = [00:04.0]\n", 1), 1);
    expect_err("define:4: vm c: pci: 00:04.0 is already given to vm a");
    /* The hypervisor's NIC (net.device, or the one `auto` chose) is no VM's. */
    struct config_global g;
    memset(&g, 0, sizeof(g));
    g.loglevel = -1;
    config_net_defaults(&g.net);
    g.net.enabled = 1;
    g.net.device_auto = false;
    g.net.device = (struct config_pci_dev){0, 0, 3, 0};
    strcpy(g.net.password_hash, "x");
    struct config_machine m = machine();
    struct define_context ctx = {existing, 1, &g, &m, 8192};
    const char *t = "[vm c]\nkernel = hello.elf\nplatform = pc\npci = [00:03.0]\n";
    assert_int_equal(
        define_check_section(t, strlen(t), NULL, &ctx, &scratch, &out, err, sizeof(err)), 1);
    expect_err("define:4: vm c: pci: 00:03.0 is the hypervisor's NIC (net.device): no VM may "
               "have it");
    /* Another device is fine. */
    const char *ok = "[vm c]\nkernel = hello.elf\nplatform = pc\npci = [00:05.0]\n";
    assert_int_equal(
        define_check_section(ok, strlen(ok), NULL, &ctx, &scratch, &out, err, sizeof(err)), 0);
}

static void test_expect_name_and_limits(void **state)
{
    (void)state;
    struct config_machine m = machine();
    const char *t = "[vm web]\nkernel = hello.elf\n";
    assert_int_equal(check_with(t, strlen(t), "web", 0, &m), 0);
    assert_int_equal(check_with(t, strlen(t), "other", 0, &m), 1);
    expect_err("define:1: the section is for vm web, not other");
    /* Too many VMs already. */
    for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
        char s[64];
        snprintf(s, sizeof(s), "[vm v%u]\nkernel = hello.elf\n", i);
        add_existing(i, s);
    }
    assert_int_equal(check(t, CONFIG_MAX_VMS), 1);
    expect_err("define:1: vm web: too many VMs (at most 16)");
    /* The machine's RAM bounds every VM; the VMs defined already do not
     * count as autostarting (their RAM is taken already, or not yet). */
    m.free_ram = 100ULL << 20;
    add_existing(0, "[vm a]\nkernel = hello.elf\nmemory = 64M\nautostart = true\n");
    const char *big = "[vm big]\nkernel = hello.elf\nmemory = 64M\nautostart = true\n";
    assert_int_equal(check_with(big, strlen(big), NULL, 1, &m), 0);
    m.free_ram = 8ULL << 20;
    assert_int_equal(check_with(big, strlen(big), NULL, 1, &m), 1);
    expect_err("define:3: vm big: memory: 64M is more than the free RAM (8M)");
    /* Longer than the limit: refused before parsing. */
    struct define_context ctx = {existing, 0, NULL, &m, 16};
    assert_int_equal(
        define_check_section(t, strlen(t), NULL, &ctx, &scratch, &out, err, sizeof(err)), 1);
    expect_err("define: the section is larger than the 16 byte limit");
}

static void test_hostile_input(void **state)
{
    (void)state;
    struct config_machine m = machine();
    /* NUL and control bytes, no terminator needed. */
    const char nul[] = "[vm a]\nkernel = hello.elf\x00\nmemory = 16M";
    assert_true(check_with(nul, sizeof(nul) - 1, NULL, 0, &m) >= 1);
    assert_non_null(strstr(err, "define:2: vm a: NUL byte in line"));
    /* Random bytes: never a crash, never a VM. */
    srand(14);
    static char junk[8192];
    for (unsigned round = 0; round < 200; round++) {
        size_t n = (size_t)rand() % sizeof(junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (char)(rand() & 0xff);
        if (n > 6 && round % 2)
            memcpy(junk, "[vm x]\n", 7);
        int r = check_with(junk, n, NULL, 0, &m);
        assert_true(r >= 1);
        assert_true(strlen(err) < sizeof(err));
    }
    /* A line over the limit, thousands of lines, and a tiny error buffer. */
    static char big[8192];
    memset(big, 'a', sizeof(big));
    memcpy(big, "[vm a]\nkernel = ", 16);
    assert_true(check_with(big, sizeof(big), NULL, 0, &m) >= 1);
    assert_non_null(strstr(err, "line is longer than"));
    char small[8];
    struct define_context ctx = {existing, 0, NULL, &m, 8192};
    const char *bad = "[vm a]\nmemory = x\n";
    assert_int_equal(
        define_check_section(bad, strlen(bad), NULL, &ctx, &scratch, &out, small, sizeof(small)),
        2); /* no kernel, bad memory */
    assert_int_equal(strlen(small), sizeof(small) - 1);
    /* A zero-length buffer is written not at all. */
    assert_true(define_check_section(bad, strlen(bad), NULL, &ctx, &scratch, &out, NULL, 0) >= 1);
    /* A name with '+' passes the parser; spaces do not. */
    assert_true(check("[vm a b]\nkernel = hello.elf\n", 0) >= 1);
}

static void test_upload_limit_key(void **state)
{
    (void)state;
    const char *ok = "[global]\nmodules.upload_limit = 8M\n";
    assert_int_equal(config_parse(ok, strlen(ok), "t", &scratch), 0);
    assert_int_equal(scratch.global.upload_limit, 8ULL << 20);
    const char *unset = "[global]\nloglevel = info\n";
    assert_int_equal(config_parse(unset, strlen(unset), "t", &scratch), 0);
    assert_int_equal(scratch.global.upload_limit, 0);
    static const char *const bad[] = {"8", "0M", "5G", "lots", "-1M"};
    for (unsigned i = 0; i < 5; i++) {
        char t[80];
        snprintf(t, sizeof(t), "[global]\nmodules.upload_limit = %s\n", bad[i]);
        assert_int_equal(config_parse(t, strlen(t), "t", &scratch), 1);
        assert_non_null(strstr(scratch.errors[0].msg, "modules.upload_limit: expected a size"));
        assert_int_equal(scratch.global.upload_limit, 0);
    }
}

static struct define_input din;

static void test_input_lines(void **state)
{
    (void)state;
    define_input_start(&din);
    assert_true(din.active);
    assert_int_equal(define_input_feed(&din, ""), DEFINE_MORE); /* before the text: skipped */
    assert_int_equal(define_input_feed(&din, "[vm a]"), DEFINE_MORE);
    assert_int_equal(define_input_feed(&din, "kernel = hello.elf  "), DEFINE_MORE);
    assert_int_equal(define_input_feed(&din, "  "), DEFINE_DONE);
    assert_false(din.active);
    assert_int_equal(din.len, strlen("[vm a]\nkernel = hello.elf  \n"));
    assert_memory_equal(din.text, "[vm a]\nkernel = hello.elf  \n", din.len);
    /* "." ends it too, also with nothing given. */
    define_input_start(&din);
    assert_int_equal(define_input_feed(&din, "[vm a]"), DEFINE_MORE);
    assert_int_equal(define_input_feed(&din, " . "), DEFINE_DONE);
    define_input_start(&din);
    assert_int_equal(define_input_feed(&din, "."), DEFINE_DONE);
    assert_int_equal(din.len, 0);
    /* Not active: nothing is taken. */
    assert_int_equal(define_input_feed(&din, "x"), DEFINE_OVERFLOW);
    assert_int_equal(din.len, 0);
}

static void test_input_overflow_and_cancel(void **state)
{
    (void)state;
    char line[200];
    memset(line, 'k', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    define_input_start(&din);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(define_input_feed(&din, line), DEFINE_MORE);
    assert_true(din.overflow);
    assert_true(din.len <= sizeof(din.text));
    assert_int_equal(define_input_feed(&din, ""), DEFINE_OVERFLOW);
    assert_false(din.active);
    /* A new define starts clean. */
    define_input_start(&din);
    assert_false(din.overflow);
    assert_int_equal(define_input_feed(&din, "[vm a]"), DEFINE_MORE);
    define_input_cancel(&din);
    assert_false(din.active);
    assert_int_equal(din.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_section),
        cmocka_unit_test(test_checker_messages_and_lines),
        cmocka_unit_test(test_one_vm_section_only),
        cmocka_unit_test(test_against_defined_vms),
        cmocka_unit_test(test_pci_against_defined_vms_and_the_nic),
        cmocka_unit_test(test_expect_name_and_limits),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_upload_limit_key),
        cmocka_unit_test(test_input_lines),
        cmocka_unit_test(test_input_overflow_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
