/* Configuration checks added for users' mistakes: keys of features that do
 * not exist yet, "did you mean" for mistyped keys, fixed RAM on the
 * hypervisor's image (boot/layout.h), and empty modules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot/layout.h"
#include "core/config.h"

static struct config cfg;

static int parse(const char *text)
{
    return config_parse(text, strlen(text), "t.cfg", &cfg);
}

static void expect_one(unsigned line, const char *vm, const char *msg)
{
    if (cfg.nr_errors != 1 || cfg.errors[0].line != line || strcmp(cfg.errors[0].vm, vm) ||
        strcmp(cfg.errors[0].msg, msg)) {
        for (unsigned i = 0; i < cfg.nr_errors; i++)
            print_message("error %u: line %u vm '%s': %s\n", i, cfg.errors[i].line,
                          cfg.errors[i].vm, cfg.errors[i].msg);
        fail_msg("expected exactly: line %u vm '%s': %s", line, vm, msg);
    }
}

static void test_pci_keys(void **state)
{
    (void)state;
    parse("[vm a]\nkernel = k\nplatform = pc\npci = [00:1f.2, 0001:02:03.4]\n");
    assert_int_equal(cfg.nr_errors, 0);
    assert_true(cfg.vm_valid[0]);
    assert_int_equal(cfg.vms[0].nr_pci, 2);
    assert_int_equal(cfg.vms[0].pci[1].seg, 1);
    assert_int_equal(cfg.vms[0].pci[1].fn, 4);
    assert_false(cfg.vms[0].iommu_off_unsafe);
    assert_false(cfg.vms[0].dma_fault_stop);
    /* Devices need the PC platform's bus: every VM has it unless it asks
     * for a bare partition. */
    parse("[vm a]\nkernel = k\nplatform = none\npci = [00:1f.2]\n");
    expect_one(4, "a", "pci: passed-through devices need `platform = pc`");
    parse("[vm a]\nkernel = k\npci = [00:1f.2]\n");
    assert_int_equal(cfg.nr_errors, 0);
    parse("[vm a]\nkernel = k\nprotocol = linux\npci = [00:1f.2]\n");
    assert_int_equal(cfg.nr_errors, 0);
    /* A malformed value keeps its own message (one error, not two). */
    parse("[vm a]\nkernel = k\nplatform = pc\npci = [00:20.0]\n");
    expect_one(4, "a", "pci: expected a device like 00:1f.2 or 0000:00:1f.2, got '00:20.0'");
    assert_int_equal(cfg.vms[0].nr_pci, 0);
    /* iommu and on_dma_fault. */
    parse("[vm a]\nkernel = k\niommu = off-unsafe\non_dma_fault = stop\n");
    assert_int_equal(cfg.nr_errors, 0);
    assert_true(cfg.vms[0].iommu_off_unsafe);
    assert_true(cfg.vms[0].dma_fault_stop);
    parse("[vm a]\nkernel = k\niommu = off\n");
    expect_one(3, "a", "iommu: expected on or off-unsafe, got 'off'");
    parse("[vm a]\nkernel = k\non_dma_fault = ignore\n");
    expect_one(3, "a", "on_dma_fault: expected log or stop, got 'ignore'");
}

#define HASH                                                                                       \
    "pbkdf2-sha256$1000$0001020304050607$"                                                         \
    "a4b73ecf7748f653cd88240e714eab0699f18624780ce481c2376d64872d936e"

static void parse_validate(const char *text)
{
    parse(text);
    config_validate(&cfg, NULL);
}

static void test_net_keys(void **state)
{
    (void)state;
    parse("[global]\nnet.enabled = true\nnet.device = 00:03.0\nnet.address = 10.0.2.15/24\n"
          "net.gateway = 10.0.2.2\nnet.console_port = 2424\nnet.password_hash = " HASH
          "\nnet.login_timeout = 5s\nnet.idle_timeout = 2000ms\n[vm a]\nkernel = k\n");
    assert_int_equal(cfg.nr_errors, 0);
    const struct config_net *n = &cfg.global.net;
    assert_int_equal(n->enabled, 1);
    assert_false(n->device_auto);
    assert_int_equal(n->device.dev, 3);
    assert_false(n->dhcp);
    assert_int_equal(n->address, 0x0a00020f);
    assert_int_equal(n->prefix, 24);
    assert_int_equal(n->gateway, 0x0a000202);
    assert_int_equal(n->console_port, 2424);
    assert_string_equal(n->password_hash, HASH);
    assert_int_equal(n->login_timeout, 5);
    assert_int_equal(n->idle_timeout, 2);
    /* Defaults: off, auto, DHCP, 2323. */
    parse("[vm a]\nkernel = k\n");
    assert_int_equal(cfg.global.net.enabled, -1);
    assert_true(cfg.global.net.device_auto);
    assert_true(cfg.global.net.dhcp);
    assert_int_equal(cfg.global.net.console_port, 2323);
    assert_int_equal(cfg.global.net.login_timeout, 60);
    assert_int_equal(cfg.global.net.idle_timeout, 900);
    /* Switched off: the other keys may stay. */
    parse("[global]\nnet.enabled = false\nnet.address = dhcp\n");
    assert_int_equal(cfg.nr_errors, 0);
}

static void test_net_checks(void **state)
{
    (void)state;
    parse_validate("[global]\nnet.enabled = true\n");
    expect_one(2, "",
               "net.enabled = true needs net.password_hash (make one with bulkhead-check "
               "--hash-password)");
    parse_validate("[global]\nnet.address = dhcp\n[vm a]\nkernel = k\n");
    expect_one(2, "",
               "net.* keys given without net.enabled: write net.enabled = true (or false "
               "to keep the network console off)");
    assert_true(cfg.vm_valid[0]); /* a [global] error stops no VM */
    parse_validate("[global]\nnet.enabled = true\nnet.password_hash = " HASH
                   "\nnet.gateway = 10.0.2.2\n");
    expect_one(4, "", "net.gateway: only with a static net.address (DHCP gives the gateway)");
    parse_validate("[global]\nnet.enabled = true\nnet.password_hash = " HASH
                   "\nnet.address = 10.0.2.15/24\nnet.gateway = 10.0.3.2\n");
    expect_one(5, "", "net.gateway: 10.0.3.2 is not another host of 10.0.2.15/24");
    parse_validate("[global]\nnet.enabled = true\nnet.password_hash = " HASH
                   "\nnet.address = 10.0.2.15/24\nnet.gateway = 10.0.2.15\n");
    expect_one(5, "", "net.gateway: 10.0.2.15 is not another host of 10.0.2.15/24");
    parse_validate("[global]\nnet.console_port = 0\n");
    expect_one(2, "", "net.console_port: expected a TCP port 1-65535, got '0'");
    parse_validate("[global]\nnet.password_hash = pbkdf2-sha256$10$0001020304050607$00\n");
    expect_one(2, "", "net.password_hash: iterations: expected a number from 1000 to 1000000");
}

/* A VM may never have the hypervisor's NIC. The VM's list is filled in here
 * directly, so that only the NIC rule (not the passthrough ones) applies. */
static void test_net_device_not_for_vms(void **state)
{
    (void)state;
    parse("[global]\nnet.enabled = true\nnet.device = 00:03.0\nnet.password_hash = " HASH
          "\n[vm a]\nkernel = k\n[vm b]\nkernel = k\n");
    assert_int_equal(cfg.nr_errors, 0);
    cfg.vms[1].nr_pci = 2;
    cfg.vms[1].pci[0].bus = 0;
    cfg.vms[1].pci[0].dev = 4;
    cfg.vms[1].pci[1].bus = 0;
    cfg.vms[1].pci[1].dev = 3;
    cfg.vm_lines[1].pci = 9;
    config_validate(&cfg, NULL);
    expect_one(9, "b", "pci: 00:03.0 is the hypervisor's NIC (net.device): no VM may have it");
    assert_true(cfg.vm_valid[0]);
    assert_false(cfg.vm_valid[1]);
    /* Another device is fine. */
    parse("[global]\nnet.enabled = true\nnet.device = 00:03.0\nnet.password_hash = " HASH
          "\n[vm a]\nkernel = k\n");
    cfg.vms[0].nr_pci = 1;
    cfg.vms[0].pci[0].dev = 5;
    config_validate(&cfg, NULL);
    assert_int_equal(cfg.nr_errors, 0);
}

static void test_did_you_mean(void **state)
{
    (void)state;
    parse("[vm a]\nkernel = k\nmemroy = 4M\n");
    expect_one(3, "a", "unknown key 'memroy' (did you mean 'memory'?)");
    parse("[vm a]\nkernel = k\ncmdlne = \"x\"\n");
    expect_one(3, "a", "unknown key 'cmdlne' (did you mean 'cmdline'?)");
    parse("[vm a]\nkrnel = k\n");
    assert_int_equal(cfg.nr_errors, 2); /* and kernel is then missing */
    assert_string_equal(cfg.errors[0].msg, "unknown key 'krnel' (did you mean 'kernel'?)");
    parse("[vm a]\nkernel = k\nmemory_bas = 0x40000000\n");
    expect_one(3, "a", "unknown key 'memory_bas' (did you mean 'memory_base'?)");
    parse("[global]\nconsle = com1\n");
    expect_one(2, "", "unknown key 'consle' in [global] (did you mean 'console'?)");
    /* Nothing close: no guess. */
    parse("[vm a]\nkernel = k\ncolour = blue\n");
    expect_one(3, "a", "unknown key 'colour'");
    parse("[global]\nverbose = yes\n");
    expect_one(2, "", "unknown key 'verbose' in [global]");
    /* A key of the other section says where it belongs. */
    parse("[global]\nmemory = 4M\n");
    expect_one(2, "", "key 'memory' belongs in a [vm NAME] section, not in [global]");
    parse("[vm a]\nkernel = k\nloglevel = info\n");
    expect_one(3, "a", "key 'loglevel' belongs in [global], not in a VM's section");
}

static void test_did_you_mean_sections(void **state)
{
    (void)state;
    parse("[globl]\n");
    expect_one(1, "", "unknown section '[globl]' (did you mean [global]?)");
    parse("[Global]\n");
    expect_one(1, "", "unknown section '[Global]' (did you mean [global]?)");
    parse("[vn web]\n");
    expect_one(1, "", "unknown section '[vn web]' (did you mean [vm web]?)");
    parse("[VM web]\n");
    expect_one(1, "", "unknown section '[VM web]' (did you mean [vm web]?)");
    /* [global] takes no name, [vm] needs one: no suggestion that is wrong too. */
    parse("[gobal x]\n");
    expect_one(1, "", "unknown section '[gobal x]' (expected [global] or [vm NAME])");
    parse("[vn]\n");
    expect_one(1, "", "unknown section '[vn]' (expected [global] or [vm NAME])");
    parse("[network]\n");
    expect_one(1, "", "unknown section '[network]' (expected [global] or [vm NAME])");
    /* Keys under the broken header are skipped, not reported again. */
    parse("[vn web]\nkernel = k\nmemroy = 4M\n");
    assert_int_equal(cfg.nr_errors, 1);
}

static void test_memory_on_the_hypervisor(void **state)
{
    (void)state;
    char text[160], want[160];
    static const struct {
        uint64_t base, size;
        bool clash;
    } cases[] = {
        {HV_IMAGE_BASE, 4 << 20, true},
        {HV_IMAGE_BASE - (2 << 20), 4 << 20, true},                /* runs into the image */
        {HV_IMAGE_BASE - (4 << 20), 4 << 20, false},               /* ends just below */
        {HV_IMAGE_BASE + HV_IMAGE_MAX - (2 << 20), 2 << 20, true}, /* its last 2M */
        {HV_IMAGE_BASE + HV_IMAGE_MAX, 4 << 20, false},            /* just above */
        {2 << 20, 1024ULL << 20, true},                            /* across it */
        {0x40000000, 64 << 20, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "[vm a]\nkernel = k\nmemory = %lluM\nmemory_base = 0x%llx\n",
                 (unsigned long long)(cases[i].size >> 20), (unsigned long long)cases[i].base);
        assert_int_equal(parse(text), 0);
        /* Known without any machine facts (bulkhead-check with no options). */
        config_validate(&cfg, NULL);
        if (!cases[i].clash) {
            if (cfg.nr_errors)
                fail_msg("case %zu: %s", i, cfg.errors[0].msg);
            continue;
        }
        snprintf(want, sizeof(want),
                 "memory_base: 0x%llx-0x%llx overlaps the hypervisor image (0x%x-0x%x), which "
                 "the hypervisor keeps",
                 (unsigned long long)cases[i].base,
                 (unsigned long long)(cases[i].base + cases[i].size - 1), HV_IMAGE_BASE,
                 HV_IMAGE_BASE + HV_IMAGE_MAX - 1);
        expect_one(4, "a", want);
        assert_false(cfg.vm_valid[0]);
    }
    /* RAM placed anywhere is the allocator's business. */
    assert_int_equal(parse("[vm a]\nkernel = k\nmemory = 64M\n"), 0);
    assert_int_equal(config_validate(&cfg, NULL), 0);
}

static void test_empty_modules(void **state)
{
    (void)state;
    static const char *const names[] = {"hello.elf", "empty.elf", "initrd.img", "void.img"};
    static const uint64_t sizes[] = {4096, 0, 8192, 0};
    struct config_machine m = {
        .nr_modules = 4,
        .module_names = names,
        .module_sizes = sizes,
        .check_modules = true,
    };
    parse("[vm a]\nkernel = hello.elf\ninitrd = initrd.img\n[vm b]\nkernel = empty.elf\n");
    config_validate(&cfg, &m);
    expect_one(5, "b", "kernel: module 'empty.elf' is empty (0 bytes)");
    assert_true(cfg.vm_valid[0]);
    parse("[vm a]\nkernel = hello.elf\ninitrd = void.img\n");
    config_validate(&cfg, &m);
    expect_one(3, "a", "initrd: module 'void.img' is empty (0 bytes)");
    parse("[vm a]\nkernel = nothere.elf\n");
    config_validate(&cfg, &m);
    expect_one(2, "a", "kernel: module 'nothere.elf' is not present");
    /* Every entry of `modules` must be there too, each named. */
    parse("[vm a]\nkernel = hello.elf\nmodules = [initrd.img \"x\", gone.bin, hello.elf]\n");
    config_validate(&cfg, &m);
    expect_one(3, "a", "modules: module 'gone.bin' is not present");
    assert_false(cfg.vm_valid[0]);
    parse("[vm a]\nkernel = hello.elf\nmodules = [hello.elf, void.img]\n");
    config_validate(&cfg, &m);
    expect_one(3, "a", "modules: module 'void.img' is empty (0 bytes)");
    parse("[vm a]\nkernel = hello.elf\nmodules = [initrd.img, hello.elf \"k\"]\n");
    assert_int_equal(config_validate(&cfg, &m), 0);
    /* Sizes unknown (bulkhead-check --modules): only presence is checked. */
    m.module_sizes = NULL;
    parse("[vm b]\nkernel = empty.elf\n");
    assert_int_equal(config_validate(&cfg, &m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pci_keys),
        cmocka_unit_test(test_net_keys),
        cmocka_unit_test(test_net_checks),
        cmocka_unit_test(test_net_device_not_for_vms),
        cmocka_unit_test(test_did_you_mean),
        cmocka_unit_test(test_did_you_mean_sections),
        cmocka_unit_test(test_memory_on_the_hypervisor),
        cmocka_unit_test(test_empty_modules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
