/* The configuration parser: every error class with its line, the values
 * of every key, and limits. Validation against a machine is in
 * test_config_validate.c; the shared helpers in config_test.h. */
#include "config_test.h"

static void test_empty(void **state)
{
    (void)state;
    assert_int_equal(config_parse("", 0, "t.cfg", &cfg), 0);
    assert_int_equal(cfg.nr_vms, 0);
    assert_int_equal(cfg.global.loglevel, -1);
    assert_int_equal(parse("# only a comment\n\n   \t\n"), 0);
}

static void test_all_keys(void **state)
{
    (void)state;
    assert_int_equal(parse("# full\n"
                           "[global]\n"
                           "loglevel = debug\n"
                           "console = mmio,0xfe001000\n"
                           "baud = 9600\n"
                           "\n"
                           "[vm web]   # comment after a header\n"
                           "kernel = vmlinuz\n"
                           "initrd = \"initrd.img\"\n"
                           "cmdline = \"console=ttyS0 quiet\"  # trailing comment\n"
                           "protocol = linux\n"
                           "memory = 1G\n"
                           "memory_base = 0x40000000\n"
                           "vcpus = 2\n"
                           "cpus = [2, 3]\n"
                           "cpu_policy = dedicated\n"
                           "slice = 500us\n"
                           "priority = 99\n"
                           "autostart = true\n"
                           "on_crash = restart\n"
                           "uarts = [0x3f8:4, 0x2f8:3]\n"
                           "ioports = [0x60-0x64, 0x70]\n"),
                     0);
    const struct config_global *g = &cfg.global;
    assert_int_equal(g->loglevel, 3);
    assert_string_equal(g->console, "mmio,0xfe001000");
    assert_int_equal(g->baud, 9600);

    assert_int_equal(cfg.nr_vms, 1);
    assert_true(cfg.vm_valid[0]);
    assert_int_equal(cfg.vm_line[0], 7);
    const struct vm_config *vm = &cfg.vms[0];
    assert_string_equal(vm->name, "web");
    assert_string_equal(vm->kernel, "vmlinuz");
    assert_string_equal(vm->initrd, "initrd.img");
    assert_string_equal(vm->cmdline, "console=ttyS0 quiet");
    assert_int_equal(vm->protocol, BOOT_LINUX);
    assert_int_equal(vm->mem_size, 1ULL << 30);
    assert_int_equal(vm->mem_base, 0x40000000);
    assert_int_equal(vm->nr_vcpus, 2);
    assert_int_equal(vm->pcpu[0], 2);
    assert_int_equal(vm->pcpu[1], 3);
    assert_true(vm->dedicated);
    assert_int_equal(vm->slice_us, 500);
    assert_int_equal(vm->priority, 99);
    assert_true(vm->autostart);
    assert_int_equal(vm->on_crash, RESTART_ON_CRASH);
    assert_int_equal(vm->nr_uarts, 2);
    assert_int_equal(vm->uarts[1].port, 0x2f8);
    assert_int_equal(vm->uarts[1].irq, 3);
    assert_int_equal(vm->nr_ioports, 2);
    assert_int_equal(vm->ioports[0].base, 0x60);
    assert_int_equal(vm->ioports[0].count, 5);
    assert_int_equal(vm->ioports[1].base, 0x70);
    assert_int_equal(vm->ioports[1].count, 1);
    assert_int_equal(vm->nr_pci, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse(good), 0);
    const struct vm_config *vm = &cfg.vms[0];
    assert_int_equal(vm->protocol, BOOT_MULTIBOOT);
    assert_int_equal(vm->mem_size, CONFIG_DEFAULT_MEM);
    assert_int_equal(vm->mem_base, 0);
    assert_int_equal(vm->nr_vcpus, 1);
    assert_int_equal(vm->pcpu[0], 0);
    assert_false(vm->dedicated);
    assert_false(vm->autostart);
    assert_int_equal(vm->on_crash, RESTART_NEVER);
    assert_int_equal(vm->nr_uarts, 1);
    assert_int_equal(vm->uarts[0].port, 0x3f8);
    assert_int_equal(vm->uarts[0].irq, 4);
    assert_int_equal(vm->nr_ioports, 0);
    assert_int_equal(vm->nr_pci, 0);
}

static void test_raw(void **state)
{
    (void)state;
    assert_int_equal(parse("[vm r]\nkernel = fw.bin\nprotocol = raw\nload_addr = 0x100000\n"
                           "entry = 1M\nmemory = 4M\n"),
                     0);
    assert_int_equal(cfg.vms[0].load_addr, 0x100000);
    assert_int_equal(cfg.vms[0].entry, 0x100000);
    parse("[vm r]\nkernel = fw.bin\nprotocol = raw\nload_addr = 0x100000\n");
    expect_one(3, "r", "protocol: raw needs both load_addr and entry");
    parse("[vm r]\nkernel = fw.bin\nload_addr = 0x100000\n");
    expect_one(3, "r", "load_addr: only used with protocol = raw");
    parse("[vm r]\nkernel = fw.bin\nprotocol = raw\nload_addr = 8M\nentry = 0\nmemory = 4M\n");
    expect_one(4, "r", "load_addr: 0x800000 is outside the VM's 4M of memory");
}

static void test_platform(void **state)
{
    (void)state;
    assert_int_equal(parse("[vm a]\nkernel = k.elf\nvcpus = 4\nplatform = pc\n"
                           "[vm b]\nkernel = k.elf\nplatform = none\n"
                           "[vm c]\nkernel = k.elf\n"),
                     0);
    assert_int_equal(cfg.vms[0].platform, PLATFORM_PC);
    assert_int_equal(cfg.vms[1].platform, PLATFORM_NONE);
    assert_int_equal(cfg.vms[2].platform, PLATFORM_DEFAULT);
    /* Every protocol gets the PC unless it opts out. */
    assert_true(vm_has_platform(&cfg.vms[0]));
    assert_false(vm_has_platform(&cfg.vms[1]));
    assert_true(vm_has_platform(&cfg.vms[2]));
    assert_int_equal(parse("[vm r]\nkernel = r.bin\nprotocol = raw\nload_addr = 0x100000\n"
                           "entry = 0x100000\n"),
                     0);
    assert_true(vm_has_platform(&cfg.vms[0]));
    /* A bare partition has no local APIC to start its APs with. */
    parse("[vm a]\nkernel = k.elf\nvcpus = 2\nplatform = none\n");
    expect_one(4, "a",
               "platform: none leaves 1 of the 2 vCPUs unstartable (no local APIC for "
               "INIT-SIPI); use platform = pc or vcpus = 1");
    parse("[vm a]\nkernel = k.elf\nplatform = \"\"\n");
    expect_one(3, "a", "platform: expected pc or none, got '\"\"'");
    parse("[vm a]\nkernel = k.elf\nplatform = isa\n");
    expect_one(3, "a", "platform: expected pc or none, got 'isa'");
    parse("[vm l]\nkernel = bzImage\nprotocol = linux\nmemory = 128M\nplatform = none\n");
    expect_one(5, "l", "platform: protocol = linux needs the PC platform");
}

static void test_modules(void **state)
{
    (void)state;
    assert_int_equal(parse("[vm a]\nkernel = k.elf\ninitrd = rd.img\n"
                           "modules = [app.bin, data.bin \"mode=fast, depth=3\", e.bin \"\", "
                           "q.bin \"say \\\"hi\\\"\"]\n"),
                     0);
    assert_int_equal(cfg.vms[0].nr_modules, 4);
    assert_string_equal(cfg.vms[0].modules[0].name, "app.bin");
    assert_string_equal(cfg.vms[0].modules[0].string, "app.bin"); /* the name by default */
    assert_string_equal(cfg.vms[0].modules[1].name, "data.bin");
    assert_string_equal(cfg.vms[0].modules[1].string, "mode=fast, depth=3");
    assert_string_equal(cfg.vms[0].modules[2].string, "");
    assert_string_equal(cfg.vms[0].modules[3].string, "say \"hi\"");
    assert_int_equal(parse("[vm a]\nkernel = k.elf\nmodules = []\n"), 0);
    assert_int_equal(cfg.vms[0].nr_modules, 0);
    /* Bad lists, names and strings. */
    parse("[vm a]\nkernel = k.elf\nmodules = app.bin\n");
    expect_one(3, "a",
               "modules: expected a list like [app.bin, data.bin \"size=4\"], got 'app.bin'");
    parse("[vm a]\nkernel = k.elf\nmodules = [a.bin,, b.bin]\n");
    expect_one(3, "a", "modules: empty item in the list");
    parse("[vm a]\nkernel = k.elf\nmodules = [a.bin,]\n");
    expect_one(3, "a", "modules: empty item in the list");
    parse("[vm a]\nkernel = k.elf\nmodules = [../etc/x]\n");
    expect_one(3, "a",
               "modules: expected a module name (letters, digits, '.', '-', '_', at most 63) "
               "with an optional \"string\", got '../etc/x'");
    parse("[vm a]\nkernel = k.elf\nmodules = [a.bin \"open]\n");
    expect_one(3, "a", "modules: unterminated string (missing closing '\"')");
    parse("[vm a]\nkernel = k.elf\nmodules = [a.bin \"x\" y]\n");
    expect_one(3, "a", "modules: unexpected text after the closing '\"': 'y'");
    parse("[vm a]\nkernel = k.elf\nmodules = [a.bin "
          "\"0123456789012345678901234567890123456789012345678901234567890123456789\"]\n");
    expect_one(3, "a", "modules: longer than 63 characters");
    parse("[vm a]\nkernel = k.elf\nmodules = [a, b, c, d, e, f, g, h, i]\n");
    expect_one(3, "a", "modules: at most 8 modules");
    /* Only multiboot kernels take modules. */
    parse("[vm l]\nkernel = bzImage\nprotocol = linux\nmemory = 128M\nmodules = [a.bin]\n");
    expect_one(5, "l", "modules: multiboot only; a Linux VM takes one initrd");
    parse("[vm r]\nkernel = r.bin\nprotocol = raw\nload_addr = 0x100000\nentry = 0x100000\n"
          "modules = [a.bin]\n");
    expect_one(6, "r", "modules: not used with protocol = raw");
}

static void test_cmdline_escapes(void **state)
{
    (void)state;
    assert_int_equal(parse("[vm q]\nkernel = k\ncmdline = \"a=\\\"b c\\\" d=\\\\ # not a "
                           "comment\" # a comment\n"),
                     0);
    assert_string_equal(cfg.vms[0].cmdline, "a=\"b c\" d=\\ # not a comment");
    parse("[vm q]\nkernel = k\ncmdline = \"abc\n");
    expect_one(3, "q", "cmdline: unterminated string");
    parse("[vm q]\nkernel = k\ncmdline = \"a\\nb\"\n");
    expect_one(3, "q", "cmdline: unknown escape '\\n'");
    parse("[vm q]\nkernel = k\ncmdline = name=x\n");
    expect_one(3, "q", "cmdline: expected a double-quoted string");
    parse("[vm q]\nkernel = k\ncmdline = \"a\" b\n");
    expect_one(3, "q", "cmdline: unexpected text after the closing '\"': 'b'");
    parse("[vm q]\nkernel = k\ncmdline = \"abc\\\"\n");
    expect_one(3, "q", "cmdline: unterminated string");

    char buf[600];
    memset(buf, 0, sizeof(buf));
    strcpy(buf, "[vm q]\nkernel = k\ncmdline = \"");
    memset(buf + strlen(buf), 'x', 255);
    strcat(buf, "\"\n");
    assert_int_equal(parse(buf), 0);
    assert_int_equal(strlen(cfg.vms[0].cmdline), 255);
    size_t l = strlen(buf);
    buf[l - 2] = 'x'; /* 256 characters */
    buf[l - 1] = '"';
    strcat(buf, "\n");
    parse(buf);
    expect_one(3, "q", "cmdline: longer than 255 characters");
}

static void test_lists_and_ranges(void **state)
{
    (void)state;
    assert_int_equal(parse("[vm l]\nkernel = k\nvcpus = 3\ncpus = 1-3\n"), 0);
    assert_int_equal(cfg.vms[0].pcpu[0], 1);
    assert_int_equal(cfg.vms[0].pcpu[2], 3);
    /* One CPU shared by every vCPU. */
    assert_int_equal(parse("[vm l]\nkernel = k\nvcpus = 4\ncpus = [1]\n"), 0);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(cfg.vms[0].pcpu[i], 1);
    assert_int_equal(parse("[vm l]\nkernel = k\nvcpus = 3\ncpus = [ 0 , 1-2 ]\n"), 0);
    assert_int_equal(cfg.vms[0].pcpu[2], 2);
    assert_int_equal(parse("[vm l]\nkernel = k\nuarts = []\n"), 0);
    assert_int_equal(cfg.vms[0].nr_uarts, 0);

    parse("[vm l]\nkernel = k\nvcpus = 2\ncpus = [0, 1, 1]\n");
    expect_one(4, "l", "cpus: 3 CPUs listed for 2 vCPUs");
    parse("[vm l]\nkernel = k\ncpus = [0, 1\n");
    expect_one(3, "l", "cpus: missing ']'");
    parse("[vm l]\nkernel = k\ncpus = [0,,1]\n");
    expect_one(3, "l", "cpus: empty item");
    parse("[vm l]\nkernel = k\ncpus = 3-1\n");
    expect_one(3, "l", "cpus: expected a CPU range like 1-3, got '3-1'");
    parse("[vm l]\nkernel = k\ncpus = 0-9\n");
    expect_one(3, "l", "cpus: more than 8 CPUs listed");
    parse("[vm l]\nkernel = k\ncpus = []\n");
    expect_one(3, "l", "cpus: the list is empty");
    parse("[vm l]\nkernel = k\ncpus = [999]\n");
    expect_one(3, "l", "cpus: CPU 999 is out of range");
    parse("[vm l]\nkernel = k\nuarts = [0x3f8]\n");
    expect_one(3, "l", "uarts: expected PORT:IRQ like 0x3f8:4, got '0x3f8'");
    parse("[vm l]\nkernel = k\nuarts = [0x3f8:4, 0x3fc:3]\n");
    expect_one(3, "l", "uarts: UART at 0x3fc overlaps the one at 0x3f8");
    parse("[vm l]\nkernel = k\nuarts = [0x3f8:9]\n");
    expect_one(3, "l", "uarts: IRQ 9 is the virtual ACPI SCI's; pick another (3, 4, 5, 7, 10-15)");
    parse("[vm l]\nkernel = k\nuarts = [0x2f8:0]\n");
    expect_one(3, "l", "uarts: IRQ 0 is the virtual PIT's; pick another (3, 4, 5, 7, 10-15)");
    parse("[vm l]\nkernel = k\nuarts = [0x3f8:4, 0x2f8:3, 0x3e8:4]\n");
    expect_one(3, "l", "uarts: more than 2 UARTs");
    parse("[vm l]\nkernel = k\nioports = [0x70-0x60]\n");
    expect_one(3, "l", "ioports: range must lie in 0x0-0xffff");
    parse("[vm l]\nkernel = k\nioports = [0xcf8-0xcff]\n");
    expect_one(3, "l", "ioports: 0xcf8-0xcff includes the PCI configuration ports");
    parse("[vm l]\nkernel = k\nioports = [0x60-0x64, 0x64]\n");
    expect_one(3, "l", "ioports: 0x64-0x64 overlaps 0x60-0x64");
    parse("[vm l]\nkernel = k\nioports = [0x3f8-0x3ff]\n");
    expect_one(3, "l", "ioports: 0x3f8-0x3ff overlaps the VM's virtual UART at 0x3f8");
    parse("[vm l]\nkernel = k\nioports = [1,2,3,4,5,6,7,8,9]\n");
    expect_one(3, "l", "ioports: more than 8 ranges");
    parse("[vm l]\nkernel = k\npci = [00:20.0]\n");
    expect_one(3, "l", "pci: expected a device like 00:1f.2");
    parse("[vm l]\nkernel = k\npci = [00:1f.8]\n");
    expect_one(3, "l", "pci: expected a device like 00:1f.2");
    parse("[vm l]\nkernel = k\npci = [00:1f.2, 0000:00:1f.2]\n");
    expect_one(3, "l", "pci: device '0000:00:1f.2' listed twice");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    parse_after_good("[vm bad]\nkernel = k\nmemory 4M\n");
    expect_one(6, "bad", "expected 'key = value', got 'memory 4M'");
    assert_true(cfg.vm_valid[0]);
    assert_false(cfg.vm_valid[1]);

    parse_after_good("[vm bad\nkernel = k\n");
    expect_one(4, "", "missing ']' in section header");
    assert_int_equal(cfg.nr_vms, 1); /* keys under a broken header are skipped */
    parse_after_good("[vm bad] x\n");
    expect_one(4, "", "unexpected text after ']': 'x'");
    parse_after_good("[vm]\n");
    expect_one(4, "", "missing VM name");
    parse_after_good("[vm a b]\n");
    expect_one(4, "", "invalid VM name 'a b'");
    parse_after_good("[network]\nx = 1\n");
    expect_one(4, "", "unknown section '[network]'");
    parse("kernel = k\n");
    expect_one(1, "", "key 'kernel' outside a section");
    parse_after_good("= 4\n");
    expect_one(4, "good", "missing key before '='");
    parse_after_good("memory =\n");
    expect_one(4, "good", "memory: missing value");
    parse("[global]\n[global]\n");
    expect_one(2, "", "[global] given twice (first on line 1)");
}

static void test_unknown_and_duplicate_keys(void **state)
{
    (void)state;
    parse_after_good("colour = blue\n");
    expect_one(4, "good", "unknown key 'colour'");
    assert_false(cfg.vm_valid[0]);
    parse("[global]\nverbose = yes\n");
    expect_one(2, "", "unknown key 'verbose' in [global]");
    assert_int_equal(parse("[global]\nvcpus = 1\n"), 1); /* a VM key is not global */
    parse_after_good("memory = 4M\nmemory = 8M\n");
    expect_one(5, "good", "memory: duplicate key (first given on line 4)");
    parse_after_good("kernel = spin.elf\n");
    expect_one(4, "good", "kernel: duplicate key (first given on line 2)");
}

static void test_duplicate_vm_name(void **state)
{
    (void)state;
    parse_after_good("[vm twin]\nkernel = a\n[vm twin]\nkernel = b\nbogus = 1\n");
    assert_int_equal(cfg.nr_errors, 2);
    assert_int_equal(cfg.errors[0].line, 6);
    assert_string_equal(cfg.errors[0].vm, "twin");
    assert_string_equal(cfg.errors[0].msg, "duplicate VM name 'twin' (first defined on line 4)");
    /* The duplicate is still read for its own errors, but takes no slot. */
    assert_int_equal(cfg.errors[1].line, 8);
    assert_int_equal(cfg.nr_vms, 2);
    assert_true(cfg.vm_valid[0]);
    assert_true(cfg.vm_valid[1]);
    assert_string_equal(cfg.vms[1].kernel, "a");
}

static void test_types_and_units(void **state)
{
    (void)state;
    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"memory = 64", "memory: expected a size with a unit like 64M, got '64'"},
        {"memory = 3M", "memory: must be a multiple of 2M between 2M and 1024G, got '3M'"},
        {"memory = 0M", "memory: must be a multiple of 2M"},
        {"memory = 2048G", "memory: must be a multiple of 2M"},
        {"memory = 99999999999999999999M", "memory: expected a size with a unit"},
        {"memory = -4M", "memory: expected a size with a unit"},
        {"memory_base = 0x100000", "memory_base: must be a non-zero multiple of 2M"},
        {"memory_base = 0", "memory_base: must be a non-zero multiple of 2M"},
        {"memory_base = lots", "memory_base: expected a host-physical address"},
        {"slice = 10", "slice: expected a time with a unit like 10ms or 500us, got '10'"},
        {"slice = 10 ms", "slice: expected a time with a unit"},
        {"slice = 50us", "slice: must be between 100us and 1s"},
        {"slice = 2s", "slice: must be between 100us and 1s"},
        {"vcpus = 0", "vcpus: expected a number from 1 to 8, got '0'"},
        {"vcpus = 9", "vcpus: expected a number from 1 to 8"},
        {"vcpus = two", "vcpus: expected a number from 1 to 8"},
        {"priority = 100", "priority: expected a number from 0 to 99"},
        {"autostart = yes", "autostart: expected true or false, got 'yes'"},
        {"autostart = 1", "autostart: expected true or false"},
        {"on_crash = reboot", "on_crash: expected stop or restart"},
        {"cpu_policy = exclusive", "cpu_policy: expected dedicated or shared"},
        {"protocol = pe", "protocol: expected multiboot, linux or raw"},
        {"initrd = a b", "initrd: expected a module name"},
        {"initrd = ../x", "initrd: expected a module name"},
        {"vcpus = 2\ncpus = [0, 0]\ncpu_policy = dedicated\n#", "cpus: CPU 0 runs the console"},
        {"vcpus = 2\ncpus = [1, 1]\ncpu_policy = dedicated\n#", "cpus: CPU 1 listed twice"},
        {"cpu_policy = dedicated", "cpu_policy: dedicated needs the CPUs given with cpus"},
        {"memory = 4M\nmemory_base = 0xfffffffe00000\n#", "ends above the 4P"},
    };
    char buf[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(buf, sizeof(buf), "%s\n", cases[i].line);
        parse_after_good(buf);
        if (cfg.nr_errors != 1 || !strstr(cfg.errors[0].msg, cases[i].msg))
            fail_msg("'%s': got %u errors, first '%s'", cases[i].line, cfg.nr_errors,
                     cfg.nr_errors ? cfg.errors[0].msg : "");
        assert_false(cfg.vm_valid[0]);
    }
    static const struct {
        const char *line, *msg;
    } globals[] = {
        {"loglevel = loud", "loglevel: expected err, warn, info, debug or trace"},
        {"console = com3", "console: expected com1, com2"},
        {"console = 0x0", "console: expected com1, com2"},
        {"console = mmio,", "console: expected com1, com2"},
        {"baud = 7", "baud: expected a rate that divides 115200"},
        {"net.address = 10.0.0.1", "net.address: expected dhcp or an address"},
        {"net.address = 10.0.0.256/24", "net.address: expected dhcp or an address"},
        {"net.address = 10.0.0.1/33", "net.address: expected dhcp or an address"},
        {"net.gateway = 10.0.0", "net.gateway: expected an address"},
        {"net.console_port = 0", "net.console_port: expected a TCP port 1-65535"},
        {"net.console_port = 65536", "net.console_port: expected a TCP port 1-65535"},
        {"net.device = 00:20.0", "net.device: expected auto or a PCI device"},
        {"net.address = 10.0.0.0/24", "net.address: 10.0.0.0/24 is not a host address"},
        {"net.address = 10.0.0.255/24", "net.address: 10.0.0.255/24 is not a host address"},
        {"net.address = 127.0.0.1/8", "net.address: 127.0.0.1/8 is not a host address"},
        {"net.password_hash = secret", "net.password_hash: expected a hash starting with"},
        {"net.idle_timeout = 0s", "net.idle_timeout: expected whole seconds from 1s to 604800s"},
        {"net.idle_timeout = 10", "net.idle_timeout: expected whole seconds"},
        {"net.login_timeout = 1500ms", "net.login_timeout: expected whole seconds"},
        {"net.login_timeout = 604801s", "net.login_timeout: expected whole seconds"},
        {"net.enabled = on", "net.enabled: expected true or false"},
    };
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
        snprintf(buf, sizeof(buf), "[global]\n%s\n%s", globals[i].line, good);
        parse(buf);
        expect_one(2, "", globals[i].msg);
        assert_true(cfg.vm_valid[0]); /* a global error stops no VM */
    }
}

static void test_missing_kernel(void **state)
{
    (void)state;
    parse("[vm a]\nmemory = 4M\n");
    expect_one(1, "a", "missing required key 'kernel'");
}

static void test_too_many_vms(void **state)
{
    (void)state;
    static char buf[4096];
    size_t o = 0;
    for (unsigned i = 0; i <= CONFIG_MAX_VMS; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "[vm v%u]\nkernel = k\n", i);
    parse(buf);
    expect_one(2 * CONFIG_MAX_VMS + 1, "v16", "too many VMs (at most 16)");
    assert_int_equal(cfg.nr_vms, CONFIG_MAX_VMS);
    for (unsigned i = 0; i < CONFIG_MAX_VMS; i++)
        assert_true(cfg.vm_valid[i]);
}

static void test_too_many_errors(void **state)
{
    (void)state;
    static char buf[4096];
    size_t o = 0;
    for (unsigned i = 0; i < 40; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "junk\n");
    assert_int_equal(parse(buf), CONFIG_MAX_ERRORS);
    assert_true(cfg.errors_dropped);
    assert_int_equal(cfg.errors[CONFIG_MAX_ERRORS - 2].line, CONFIG_MAX_ERRORS - 1);
    assert_non_null(strstr(cfg.errors[CONFIG_MAX_ERRORS - 1].msg, "too many errors"));
    /* Exactly the maximum: no error is replaced. */
    buf[CONFIG_MAX_ERRORS * 5] = '\0';
    assert_int_equal(parse(buf), CONFIG_MAX_ERRORS);
    assert_false(cfg.errors_dropped);
    assert_int_equal(cfg.errors[CONFIG_MAX_ERRORS - 1].line, CONFIG_MAX_ERRORS);
}

static void test_long_lines(void **state)
{
    (void)state;
    static char buf[4096];
    /* A comment of exactly the maximum length is fine; one more is not. */
    size_t o = (size_t)snprintf(buf, sizeof(buf), "%s", good);
    memset(buf + o, '#', CONFIG_MAX_LINE);
    strcpy(buf + o + CONFIG_MAX_LINE, "\r\n");
    assert_int_equal(parse(buf), 0);
    memset(buf + o, '#', CONFIG_MAX_LINE + 1);
    strcpy(buf + o + CONFIG_MAX_LINE + 1, "\nmemory = 4M\n");
    parse(buf);
    expect_one(4, "good", "line is longer than 1024 characters");
    assert_int_equal(cfg.vms[0].mem_size, 4ULL << 20); /* the next line is read */
}

static void test_file_too_large(void **state)
{
    (void)state;
    size_t len = CONFIG_MAX_SIZE + 1;
    char *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, '\n', len);
    config_parse(buf, len, "t.cfg", &cfg);
    expect_one(0, "", "larger than the 64 KiB limit");
    assert_int_equal(config_parse(buf, len - 1, "t.cfg", &cfg), 0);
    free(buf);
}

static void test_nul_and_control(void **state)
{
    (void)state;
    static const char text[] = "[vm a]\nkernel = k\nmemory = 2M\0x\nmemory = 4M\n";
    config_parse(text, sizeof(text) - 1, "t.cfg", &cfg);
    expect_one(3, "a", "NUL byte in line (column 12)");
    assert_int_equal(cfg.vms[0].mem_size, 4ULL << 20);
    parse("[vm a]\nkernel = k\ncmdline = \"\x1b[2J\"\n");
    expect_one(3, "a", "control character 0x1b in line (column 12)");
    /* Input quoted in messages is printable. */
    parse("[vm a]\nkernel = k\nn\xc3\xa9 = 1\n");
    expect_one(3, "a",
               "unknown key 'n?"
               "?'");
}

static void test_line_endings(void **state)
{
    (void)state;
    /* No newline at the end, and no terminator: the length bounds the read. */
    static const char text[] = "[vm a]\nkernel = k\nmemory = 4MXXXX";
    assert_int_equal(config_parse(text, sizeof(text) - 5, "t.cfg", &cfg), 0);
    assert_int_equal(cfg.vms[0].mem_size, 4ULL << 20);
    assert_int_equal(parse("[vm a]\r\nkernel = k\r\ncmdline = \"x\"\r\nmemory = 4M\r\n"), 0);
    assert_string_equal(cfg.vms[0].cmdline, "x");
    assert_int_equal(cfg.vms[0].mem_size, 4ULL << 20);
    parse("[vm a]\r\nkernel = k\r\nbad\r\n");
    expect_one(3, "a", "expected 'key = value', got 'bad'");
    /* A lone CR inside a line is a control character. */
    parse("[vm a]\nkernel = k\nmemory = 4M\rx\n");
    expect_one(3, "a", "control character 0x0d in line (column 12)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_platform),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_cmdline_escapes),
        cmocka_unit_test(test_lists_and_ranges),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_unknown_and_duplicate_keys),
        cmocka_unit_test(test_duplicate_vm_name),
        cmocka_unit_test(test_types_and_units),
        cmocka_unit_test(test_missing_kernel),
        cmocka_unit_test(test_too_many_vms),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_file_too_large),
        cmocka_unit_test(test_nul_and_control),
        cmocka_unit_test(test_line_endings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
