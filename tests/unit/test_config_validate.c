/* The configuration validator against a fake machine (modules, CPUs, RAM,
 * I/O ports owned by the hypervisor), error formatting, and the shipped
 * configs/ files. The parser itself is in test_config.c. */
#include "config_test.h"

static const char *const mods[] = {"hello.elf", "spin.elf", "initrd.img"};
static const struct config_machine machine = {
    .nr_cpus = 2,
    .free_ram = 64ULL << 20,
    .nr_modules = 3,
    .module_names = mods,
    .check_modules = true,
};

static int validate(const char *text)
{
    if (parse(text))
        fail_msg("parse: %s", cfg.errors[0].msg);
    return config_validate(&cfg, &machine);
}

static void test_validate_ok(void **state)
{
    (void)state;
    assert_int_equal(validate("[vm a]\nkernel = hello.elf\ninitrd = initrd.img\nmemory = 32M\n"
                              "cpus = [1]\ncpu_policy = dedicated\nautostart = true\n"
                              "memory_base = 0x40000000\n"
                              "[vm b]\nkernel = spin.elf\nmemory = 32M\nautostart = true\n"
                              "memory_base = 0x42000000\n"
                              "[vm c]\nkernel = spin.elf\nmemory = 64M\n"),
                     0);
    assert_int_equal(config_validate(&cfg, NULL), 0);
}

static void test_validate_errors(void **state)
{
    (void)state;
    validate(good) /* line 1-3 */;
    assert_int_equal(cfg.nr_errors, 0);

    validate("[vm good]\nkernel = hello.elf\n[vm b]\nkernel = missing.elf\n");
    expect_one(4, "b", "kernel: module 'missing.elf' is not present");
    assert_true(cfg.vm_valid[0]);
    assert_false(cfg.vm_valid[1]);
    validate("[vm b]\nkernel = hello.elf\ninitrd = none.img\n");
    expect_one(3, "b", "initrd: module 'none.img' is not present");
    validate("[vm b]\nkernel = hello.elf\nvcpus = 2\ncpus = [1, 2]\n");
    expect_one(4, "b", "cpus: CPU 2 does not exist (the machine has 2)");
    validate("[vm b]\nkernel = hello.elf\nmemory = 128M\n");
    expect_one(3, "b", "memory: 128M is more than the free RAM (64M)");

    /* Cross-VM conflicts: the later VM loses. */
    validate("[vm a]\nkernel = hello.elf\nmemory = 4M\nmemory_base = 0x40000000\n"
             "[vm b]\nkernel = hello.elf\nmemory = 4M\nmemory_base = 0x40200000\n");
    expect_one(8, "b",
               "memory_base: 0x40200000-0x405fffff overlaps vm a (0x40000000-0x403fffff, line 4)");
    assert_true(cfg.vm_valid[0]);
    validate("[vm a]\nkernel = hello.elf\ncpus = [1]\ncpu_policy = dedicated\n"
             "[vm b]\nkernel = hello.elf\ncpus = [1]\ncpu_policy = dedicated\n");
    expect_one(7, "b", "cpus: CPU 1 is already dedicated to vm a (line 3)");
    validate("[vm a]\nkernel = hello.elf\ncpus = [1]\n"
             "[vm b]\nkernel = hello.elf\ncpus = [1]\ncpu_policy = dedicated\n");
    expect_one(6, "b", "cpus: CPU 1 cannot be dedicated: vm a also runs on it (line 3)");
    validate("[vm a]\nkernel = hello.elf\ncpus = [1]\ncpu_policy = dedicated\n"
             "[vm b]\nkernel = hello.elf\n"
             "[vm c]\nkernel = hello.elf\nvcpus=2\ncpus = [0, 1]\n");
    expect_one(10, "c", "cpus: CPU 1 is already dedicated to vm a (line 3)");
    validate("[vm a]\nkernel = hello.elf\nioports = [0x300-0x304]\n"
             "[vm b]\nkernel = hello.elf\nioports = [0x304-0x310]\n");
    expect_one(6, "b", "ioports: 0x304-0x310 overlaps 0x300-0x304 of vm a (line 3)");

    /* Autostart VMs must fit together; the first ones win. */
    validate("[vm a]\nkernel = hello.elf\nmemory = 32M\nautostart = true\n"
             "[vm b]\nkernel = hello.elf\nmemory = 48M\nautostart = true\n"
             "[vm c]\nkernel = hello.elf\nmemory = 32M\nautostart = true\n"
             "[vm d]\nkernel = hello.elf\nmemory = 48M\n");
    expect_one(7, "b",
               "memory: 48M does not fit: autostart VMs before it leave 32M of the "
               "free RAM (64M)");
    assert_true(cfg.vm_valid[0]);
    assert_false(cfg.vm_valid[1]);
    assert_true(cfg.vm_valid[2]);
    assert_true(cfg.vm_valid[3]);

    /* A VM invalid already claims nothing. */
    validate("[vm a]\nkernel = missing.elf\nioports = [0x300]\n"
             "[vm b]\nkernel = hello.elf\nioports = [0x300]\n");
    expect_one(2, "a", "kernel: module 'missing.elf' is not present");
    assert_true(cfg.vm_valid[1]);
}

/* ioports may not reach a port the hypervisor owns or emulates for every VM. */
static void expect_owned(const char *ports, const char *msg)
{
    char text[256];
    snprintf(text, sizeof(text),
             "[vm good]\nkernel = hello.elf\nioports = [0x80]\n"
             "[vm p]\nkernel = hello.elf\nuarts = []\nioports = [%s]\n",
             ports);
    validate(text);
    expect_one(7, "p", msg);
    assert_true(cfg.vm_valid[0]);
    assert_false(cfg.vm_valid[1]);
    /* Also without machine facts (bulkhead-check with no options). */
    parse(text);
    config_validate(&cfg, NULL);
    expect_one(7, "p", msg);
}

static void test_validate_owned_ports(void **state)
{
    (void)state;
    expect_owned("0x21", "ioports: 0x21-0x21 overlaps the PIC (0x20-0x21), which the "
                         "hypervisor owns");
    expect_owned("0x90-0x9f", "ioports: 0x90-0x9f overlaps the reset port 0x92 (0x92-0x92)");
    expect_owned("0xa1", "overlaps the PIC (0xa0-0xa1)");
    expect_owned("0x43", "overlaps the PIT (0x40-0x43)");
    expect_owned("0x61", "overlaps port 0x61 (PIT gate) (0x61-0x61)");
    expect_owned("0x60", "overlaps the keyboard controller (reset) (0x60-0x60)");
    expect_owned("0x64", "overlaps the keyboard controller (reset) (0x64-0x64)");
    expect_owned("0x71", "overlaps the RTC (0x70-0x71)");
    expect_owned("0xe9", "overlaps the emulator debug port (0xe9-0xe9)");
    expect_owned("0xf0-0xff", "overlaps the emulator exit port (0xf4-0xf4)");
    expect_owned("0x8900", "overlaps the emulator shutdown port (0x8900-0x8900)");
    expect_owned("0x4d1", "overlaps the PIC ELCR (0x4d0-0x4d1)");
    expect_owned("0x602", "overlaps the ACPI PM1a event block (0x600-0x603)");
    expect_owned("0x605", "overlaps the ACPI PM1a control block (0x604-0x605)");
    expect_owned("0x60b", "overlaps the ACPI PM timer (0x608-0x60b)");
    /* The console: COM1 unless the file or the machine says otherwise. */
    expect_owned("0x3fc", "ioports: 0x3fc-0x3fc overlaps the console UART (0x3f8-0x3ff)");

    /* Ports nobody owns pass, one range per VM. */
    assert_int_equal(validate("[vm a]\nkernel = hello.elf\nioports = [0x80, 0x378-0x37f]\n"
                              "[vm b]\nkernel = hello.elf\nioports = [0x2f8-0x2ff, 0xed]\n"
                              "[vm c]\nkernel = hello.elf\nioports = [0x62-0x63, 0x65-0x6f]\n"),
                     0);

    /* The file's console setting. */
    validate("[global]\nconsole = com2\n[vm a]\nkernel = hello.elf\nioports = [0x2f8]\n");
    expect_one(5, "a", "ioports: 0x2f8-0x2f8 overlaps the console UART (0x2f8-0x2ff)");
    validate("[global]\nconsole = 0x2e8\n[vm a]\nkernel = hello.elf\nioports = [0x2ef]\n");
    expect_one(5, "a", "overlaps the console UART (0x2e8-0x2ef)");

    /* The machine's console and its own ACPI ports. */
    static const struct config_port_range host[] = {
        {0xb004, 2, "the host ACPI PM1a control block"}};
    struct config_machine m = machine;
    m.console_port = 0x2e8;
    m.nr_host_ports = 1;
    m.host_ports = host;
    parse("[vm a]\nkernel = hello.elf\nioports = [0x2e8]\n"
          "[vm b]\nkernel = hello.elf\nioports = [0xb000-0xb00f]\n"
          "[vm c]\nkernel = hello.elf\nuarts = [0x2f8:3]\nioports = [0x3f8-0x3ff]\n");
    assert_int_equal(config_validate(&cfg, &m), 2);
    assert_string_equal(cfg.errors[0].msg, "ioports: 0x2e8-0x2e8 overlaps the console UART "
                                           "(0x2e8-0x2ef), which the hypervisor owns");
    assert_int_equal(cfg.errors[1].line, 6);
    assert_string_equal(cfg.errors[1].msg, "ioports: 0xb000-0xb00f overlaps the host ACPI PM1a "
                                           "control block (0xb004-0xb005), which the hypervisor "
                                           "owns");
    assert_true(cfg.vm_valid[2]); /* COM1 is not the console here */
    m.console_port = CONFIG_CONSOLE_MMIO;
    parse("[vm c]\nkernel = hello.elf\nuarts = []\nioports = [0x3f8-0x3ff]\n");
    assert_int_equal(config_validate(&cfg, &m), 0);
}

static void test_format_error(void **state)
{
    (void)state;
    char buf[256];
    parse("\n[vm web]\nkernel = k\nmemory = 64\n");
    config_format_error(&cfg.errors[0], "demo.cfg", buf, sizeof(buf));
    assert_string_equal(buf, "demo.cfg:4: vm web: memory: expected a size with a unit like 64M, "
                             "got '64'");
    parse("[nope]\n");
    config_format_error(&cfg.errors[0], "demo.cfg", buf, sizeof(buf));
    assert_string_equal(buf, "demo.cfg:1: unknown section '[nope]' (expected [global] or "
                             "[vm NAME])");
    struct config_error e = {0, "", "file is too large"};
    config_format_error(&e, "x.cfg", buf, sizeof(buf));
    assert_string_equal(buf, "x.cfg: file is too large");
    config_format_error(&e, "x.cfg", buf, 4);
    assert_string_equal(buf, "x.c");

    config_format_size(64ULL << 20, buf, sizeof(buf));
    assert_string_equal(buf, "64M");
    config_format_size(3ULL << 30, buf, sizeof(buf));
    assert_string_equal(buf, "3G");
    config_format_size(1000, buf, sizeof(buf));
    assert_string_equal(buf, "1000");
}

/* The shipped files: demo.cfg is valid, and each configs/bad file gives exactly the
 * error its "# expect:" line names. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: cannot open (run from the repository root)", path);
    static char buf[CONFIG_MAX_SIZE + 1];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return buf;
}

static void test_shipped_files(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "syntax",          "unknown-key",     "bad-unit",
        "duplicate-name",  "too-much-memory", "overlapping-fixed",
        "dedicated-twice", "absent-cpu",      "pci",
        "misspelt-key",    "missing-module",  "ioports-owned",
        "ioports-twice",   "reserved-memory",
    };
    static const char *const all_mods[] = {"hello.elf", "spin.elf", "echo.elf", "cpuid-bench.elf",
                                           "hostile.elf"};
    const struct config_machine m = {
        .nr_cpus = 2,
        .free_ram = 512ULL << 20,
        .nr_modules = 5,
        .module_names = all_mods,
        .check_modules = true,
    };
    size_t len;
    char *text = slurp("configs/demo.cfg", &len);
    assert_int_equal(config_parse(text, len, "demo.cfg", &cfg), 0);
    assert_int_equal(config_validate(&cfg, &m), 0);
    assert_true(cfg.nr_vms >= 5);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[64], line[256], want[256];
        snprintf(path, sizeof(path), "configs/bad/%s.cfg", bad[i]);
        text = slurp(path, &len);
        const char *exp = strstr(text, "# expect: ");
        assert_non_null(exp);
        exp += 10;
        snprintf(want, sizeof(want), "%s:%.*s", path, (int)(strchr(exp, '\n') - exp), exp);
        config_parse(text, len, path, &cfg);
        config_validate(&cfg, &m);
        if (cfg.nr_errors != 1)
            fail_msg("%s: %u errors", path, cfg.nr_errors);
        config_format_error(&cfg.errors[0], path, line, sizeof(line));
        assert_string_equal(line, want);
        int g = config_find_vm(&cfg, "good");
        assert_true(g >= 0 && cfg.vm_valid[g]);
        assert_string_equal(cfg.vms[g].cmdline, "name=good");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_ok),          cmocka_unit_test(test_validate_errors),
        cmocka_unit_test(test_validate_owned_ports), cmocka_unit_test(test_format_error),
        cmocka_unit_test(test_shipped_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
