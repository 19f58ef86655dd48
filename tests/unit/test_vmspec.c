/* vmspec_parse: the vm=NAME,MODULE,mem=SIZE,cpu=N[,slice=US][,cmdline=REST] option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/vmspec.h"

static struct vm_config cfg;
static char err[160];

static int parse(const char *s)
{
    memset(&cfg, 0x5a, sizeof(cfg));
    memset(err, 0, sizeof(err));
    return vmspec_parse(s, &cfg, err, sizeof(err));
}

static void expect_error(const char *s, const char *fragment)
{
    int rc = parse(s);
    if (rc != -1)
        fail_msg("'%s' was accepted", s);
    if (!strstr(err, fragment))
        fail_msg("'%s': error '%s' does not mention '%s'", s, err, fragment);
}

static void expect_pcpu(unsigned n)
{
    for (unsigned i = 0; i < MAX_VCPUS; i++)
        assert_int_equal(cfg.pcpu[i], n);
}

static void test_realtime(void **state)
{
    (void)state;
    assert_int_equal(parse("rt,rt.elf,mem=4M,cpu=1,realtime=1"), 0);
    assert_true(cfg.realtime);
    assert_true(cfg.dedicated);
    assert_int_equal(parse("rt,rt.elf,mem=4M,cpu=1,realtime=0"), 0);
    assert_false(cfg.realtime);
    expect_error("rt,rt.elf,mem=4M,cpu=0,realtime=1", "realtime: CPU 0 runs the console");
    expect_error("rt,rt.elf,mem=4M,realtime=1", "realtime: CPU 0 runs the console");
    expect_error("rt,rt.elf,mem=4M,cpu=1,realtime=yes", "realtime must be 0 or 1");
}

static void test_full(void **state)
{
    assert_int_equal(parse("hello,hello.elf,mem=16M,cpu=1"), 0);
    assert_string_equal(cfg.name, "hello");
    assert_string_equal(cfg.kernel, "hello.elf");
    assert_int_equal(cfg.mem_size, 16ULL << 20);
    assert_int_equal(cfg.nr_vcpus, 1);
    expect_pcpu(1);
    assert_int_equal(cfg.slice_us, 0);
    assert_string_equal(cfg.cmdline, "");
    assert_string_equal(cfg.initrd, "");
    assert_int_equal(cfg.protocol, BOOT_MULTIBOOT);
    assert_int_equal(cfg.mem_base, 0);
    assert_false(cfg.autostart);
    /* vm= VMs get the configuration file's default vUART: COM1 on IRQ 4. */
    assert_int_equal(cfg.nr_uarts, 1);
    assert_int_equal(cfg.uarts[0].port, 0x3f8);
    assert_int_equal(cfg.uarts[0].irq, 4);
    assert_int_equal(cfg.nr_ioports, 0);
}

static void test_defaults(void **state)
{
    assert_int_equal(parse("a,b"), 0);
    assert_string_equal(cfg.name, "a");
    assert_string_equal(cfg.kernel, "b");
    assert_int_equal(cfg.mem_size, 16ULL << 20);
    assert_int_equal(cfg.nr_vcpus, 1);
    expect_pcpu(0);
    assert_int_equal(cfg.slice_us, 0);
}

static void test_any_key_order(void **state)
{
    assert_int_equal(parse("s1,spin.elf,cpu=3,slice=500,mem=0x400000"), 0);
    assert_int_equal(cfg.mem_size, 4ULL << 20);
    expect_pcpu(3);
    assert_int_equal(cfg.slice_us, 500);
    /* A repeated key: the last one wins. */
    assert_int_equal(parse("s1,spin.elf,mem=4M,mem=8M"), 0);
    assert_int_equal(cfg.mem_size, 8ULL << 20);
}

static void test_mem_sizes(void **state)
{
    assert_int_equal(parse("v,k,mem=2M"), 0);
    assert_int_equal(cfg.mem_size, 2ULL << 20);
    assert_int_equal(parse("v,k,mem=2048K"), 0);
    assert_int_equal(cfg.mem_size, 2ULL << 20);
    assert_int_equal(parse("v,k,mem=1G"), 0);
    assert_int_equal(cfg.mem_size, 1ULL << 30);
    assert_int_equal(parse("v,k,mem=6g"), 0);
    assert_int_equal(cfg.mem_size, 6ULL << 30);
    assert_int_equal(parse("v,k,mem=4194304"), 0);
    assert_int_equal(cfg.mem_size, 4ULL << 20);
}

static void test_mem_errors(void **state)
{
    expect_error("v,k,mem=3M", "mem must be"); /* not a multiple of 2M */
    expect_error("v,k,mem=17M", "mem must be");
    expect_error("v,k,mem=2049K", "mem must be");
    expect_error("v,k,mem=1M", "mem must be"); /* too small */
    expect_error("v,k,mem=0", "mem must be");
    expect_error("v,k,mem=", "mem must be"); /* no number */
    expect_error("v,k,mem=M", "mem must be");
    expect_error("v,k,mem=lots", "mem must be");
    expect_error("v,k,mem=16MB", "mem must be");
    expect_error("v,k,mem=16T", "mem must be");
    expect_error("v,k,mem=-16M", "mem must be");
    expect_error("v,k,mem=99999999999999999999", "mem must be"); /* overflow */
    expect_error("v,k,mem=17179869184G", "mem must be");         /* overflow by suffix */
    /* The error names the VM. */
    expect_error("myvm,k,mem=3M", "vm=myvm");
}

static void test_cpu(void **state)
{
    assert_int_equal(parse("v,k,cpu=0"), 0);
    expect_pcpu(0);
    assert_int_equal(parse("v,k,cpu=63"), 0);
    expect_pcpu(63);
    assert_int_equal(parse("v,k,cpu=0x2"), 0);
    expect_pcpu(2);
    expect_error("v,k,cpu=64", "cpu must be");
    expect_error("v,k,cpu=", "cpu must be");
    expect_error("v,k,cpu=x", "cpu must be");
    expect_error("v,k,cpu=1K", "cpu must be"); /* no size suffixes */
    expect_error("v,k,cpu=-1", "cpu must be");
    expect_error("v,k,cpu=1 ", "cpu must be");
}

static void test_slice(void **state)
{
    assert_int_equal(parse("v,k,slice=100"), 0);
    assert_int_equal(cfg.slice_us, 100);
    assert_int_equal(parse("v,k,slice=1000000"), 0);
    assert_int_equal(cfg.slice_us, 1000000);
    expect_error("v,k,slice=99", "slice must be");
    expect_error("v,k,slice=1000001", "slice must be");
    expect_error("v,k,slice=", "slice must be");
    expect_error("v,k,slice=1M", "slice must be");
}

static void test_platform_and_on_crash(void **state)
{
    assert_int_equal(parse("v,k"), 0);
    assert_int_not_equal(cfg.platform, PLATFORM_PC);
    assert_int_equal(cfg.on_crash, RESTART_NEVER);
    assert_int_equal(parse("v,k,platform=pc,on_crash=restart"), 0);
    assert_int_equal(cfg.platform, PLATFORM_PC);
    assert_int_equal(cfg.on_crash, RESTART_ON_CRASH);
    assert_int_equal(parse("v,k,platform=none,on_crash=stop"), 0);
    assert_int_not_equal(cfg.platform, PLATFORM_PC);
    assert_int_equal(cfg.on_crash, RESTART_NEVER);
    expect_error("v,k,platform=pcx", "platform must be pc or none");
    expect_error("v,k,platform=", "platform must be pc or none");
    expect_error("v,k,on_crash=reboot", "on_crash must be stop or restart");
}

static void test_cmdline_takes_rest(void **state)
{
    assert_int_equal(parse("lx,bzImage,mem=64M,cpu=1,cmdline=console=ttyS0,115200 root=/dev/vda,"
                           "mem=2M"),
                     0);
    assert_string_equal(cfg.cmdline, "console=ttyS0,115200 root=/dev/vda,mem=2M");
    assert_int_equal(cfg.mem_size, 64ULL << 20); /* the mem= inside cmdline is the guest's */
    expect_pcpu(1);

    assert_int_equal(parse("v,k,cmdline="), 0);
    assert_string_equal(cfg.cmdline, "");
    assert_int_equal(parse("v,k,cmdline=a=b=c,,d"), 0);
    assert_string_equal(cfg.cmdline, "a=b=c,,d");
    /* Keys before cmdline still apply. */
    assert_int_equal(parse("v,k,slice=200,cmdline=x"), 0);
    assert_int_equal(cfg.slice_us, 200);
    assert_string_equal(cfg.cmdline, "x");
}

static void test_cmdline_length(void **state)
{
    char s[VM_CMDLINE_MAX + 32];
    strcpy(s, "v,k,cmdline=");
    size_t off = strlen(s);
    memset(s + off, 'c', VM_CMDLINE_MAX - 1);
    s[off + VM_CMDLINE_MAX - 1] = '\0';
    assert_int_equal(parse(s), 0);
    assert_int_equal(strlen(cfg.cmdline), VM_CMDLINE_MAX - 1);

    s[off + VM_CMDLINE_MAX - 1] = 'c';
    s[off + VM_CMDLINE_MAX] = '\0';
    expect_error(s, "cmdline longer than");
}

static void test_missing_fields(void **state)
{
    expect_error("", "missing or too long VM name");
    expect_error(",k", "missing or too long VM name");
    expect_error("v", "missing module");
    expect_error("v,", "missing or too long module name");
    expect_error("v,,mem=2M", "missing or too long module name");
}

static void test_name_lengths(void **state)
{
    char s[256];
    memset(s, 'n', VM_NAME_MAX - 1);
    strcpy(s + VM_NAME_MAX - 1, ",k");
    assert_int_equal(parse(s), 0);
    assert_int_equal(strlen(cfg.name), VM_NAME_MAX - 1);

    memset(s, 'n', VM_NAME_MAX);
    strcpy(s + VM_NAME_MAX, ",k");
    expect_error(s, "too long VM name");

    /* Module name: sizeof(kernel) - 1 fits, one more does not. */
    size_t km = sizeof(cfg.kernel);
    strcpy(s, "v,");
    memset(s + 2, 'm', km - 1);
    s[2 + km - 1] = '\0';
    assert_int_equal(parse(s), 0);
    assert_int_equal(strlen(cfg.kernel), km - 1);
    memset(s + 2, 'm', km);
    s[2 + km] = '\0';
    expect_error(s, "too long module name");
}

static void test_bad_keys(void **state)
{
    expect_error("v,k,colour=blue", "unknown key 'colour'");
    expect_error("v,k,memory=16M", "unknown key 'memory'");
    expect_error("v,k,me=16M", "unknown key 'me'");
    expect_error("v,k,MEM=16M", "unknown key 'MEM'");
    expect_error("v,k,=5", "unknown key ''");
    expect_error("v,k,mem16M", "expected key=value, got 'mem16M'");
    expect_error("v,k,cpu", "expected key=value");
    expect_error("v,k,mem=4M,", "expected key=value"); /* trailing comma */
    expect_error("v,k,,mem=4M", "expected key=value"); /* empty field */
    /* cmdline must be spelled exactly to take the rest. */
    expect_error("v,k,cmdlinex=a,b", "unknown key 'cmdlinex'");
    expect_error("v,k,cmdline", "expected key=value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_realtime),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_any_key_order),
        cmocka_unit_test(test_mem_sizes),
        cmocka_unit_test(test_mem_errors),
        cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_platform_and_on_crash),
        cmocka_unit_test(test_cmdline_takes_rest),
        cmocka_unit_test(test_cmdline_length),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_name_lengths),
        cmocka_unit_test(test_bad_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
