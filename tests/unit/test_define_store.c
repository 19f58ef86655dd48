/* Uploaded modules (core/module_store.c): the total limit, names, boot
 * modules that cannot be replaced, modules in use by a running VM, pieces
 * that do not add up, and the list with its users. The page allocator is
 * malloc here; the loader's module table is the real one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/vm_define.h"
#include "loader/modules.h"
#include "vm/vm.h"

/* ---- stubs: the VM table and the page allocator ---- */
struct vm *vms[MAX_VMS];
unsigned nr_vms;
static unsigned pages_out;
static bool alloc_fails;

uint64_t pmm_alloc(uint64_t npages, uint64_t align_pages, const char *owner)
{
    (void)align_pages;
    (void)owner;
    if (alloc_fails)
        return 0;
    void *p = calloc(npages, 4096);
    if (p)
        pages_out += (unsigned)npages;
    return (uint64_t)(uintptr_t)p;
}

void pmm_free(uint64_t phys, uint64_t npages)
{
    pages_out -= (unsigned)npages;
    free((void *)(uintptr_t)phys);
}

static char err[256];
static struct vm vm_a;
static char boot_image[100];

static int setup(void **state)
{
    (void)state;
    static bool once;
    if (!once) { /* a boot module, as GRUB gives them */
        assert_int_equal(guest_modules_add("kernel.elf", (uint64_t)(uintptr_t)boot_image,
                                           (uint64_t)(uintptr_t)boot_image + sizeof(boot_image)),
                         0);
        once = true;
    }
    module_store_set_limit(64 << 10);
    memset(&vm_a, 0, sizeof(vm_a));
    strcpy(vm_a.cfg.name, "a");
    vm_a.state = VM_DEFINED;
    vms[0] = &vm_a;
    nr_vms = 1;
    alloc_fails = false;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    struct module_info list[40];
    unsigned n = module_store_list(list, 40);
    for (unsigned i = 0; i < n && i < 40; i++)
        if (list[i].uploaded)
            assert_int_equal(module_store_delete(list[i].name, err, sizeof(err)), 0);
    module_upload_abort();
    assert_int_equal(module_store_used(), 0);
    assert_int_equal(pages_out, 0); /* nothing leaked */
    return 0;
}

static void test_put_find_list_delete(void **state)
{
    (void)state;
    const char data[] = "\x7f"
                        "ELF and the rest";
    assert_int_equal(module_store_put("up.elf", data, sizeof(data), err, sizeof(err)), 0);
    const struct guest_module *m = guest_module_find("up.elf");
    assert_non_null(m);
    assert_int_equal(m->end - m->start, sizeof(data));
    assert_memory_equal((void *)(uintptr_t)m->start, data, sizeof(data));
    assert_int_equal(module_store_used(), sizeof(data));

    strcpy(vm_a.cfg.kernel, "up.elf");
    struct module_info list[8];
    assert_int_equal(module_store_list(list, 8), 2);
    assert_string_equal(list[0].name, "kernel.elf"); /* boot modules first */
    assert_false(list[0].uploaded);
    assert_string_equal(list[1].name, "up.elf");
    assert_true(list[1].uploaded);
    assert_int_equal(list[1].size, sizeof(data));
    assert_string_equal(list[1].used_by, "a");
    assert_string_equal(list[0].used_by, "");

    /* Replaced while its VM is stopped: the new content counts. */
    assert_int_equal(module_store_put("up.elf", "xy", 2, err, sizeof(err)), 0);
    assert_int_equal(module_store_used(), 2);
    assert_int_equal(guest_module_count(), 2);
    assert_int_equal(module_store_delete("up.elf", err, sizeof(err)), 0);
    assert_null(guest_module_find("up.elf"));
    assert_int_equal(module_store_delete("up.elf", err, sizeof(err)), -1);
    assert_string_equal(err, "no uploaded module named 'up.elf'");
}

static void test_limit(void **state)
{
    (void)state;
    static char big[40 << 10];
    assert_int_equal(module_store_put("one", big, sizeof(big), err, sizeof(err)), 0);
    assert_int_equal(module_store_put("two", big, sizeof(big), err, sizeof(err)), -1);
    assert_string_equal(err, "module two: 40K does not fit: 40K uploaded already, limit 64K "
                             "(modules.upload_limit)");
    assert_null(guest_module_find("two"));
    /* Replacing counts the old one out. */
    assert_int_equal(module_store_put("one", big, sizeof(big), err, sizeof(err)), 0);
    assert_int_equal(module_store_used(), sizeof(big));
    /* Announced sizes beyond any limit are refused before any memory. */
    assert_int_equal(module_upload_begin("huge", UINT64_MAX, err, sizeof(err)), -1);
    assert_int_equal(module_upload_begin("zero", 0, err, sizeof(err)), -1);
    assert_string_equal(err, "module zero is empty (0 bytes)");
    alloc_fails = true;
    assert_int_equal(module_store_put("small", "a", 1, err, sizeof(err)), -1);
    assert_string_equal(err, "module small: out of memory for 1 bytes");
}

static void test_names_and_boot_modules(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        ".hidden",
        "a/b",
        "a b",
        "-x",
        "x\n",
        "0123456789012345678901234567890123456789012345678901234567890123"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(module_store_put(bad[i], "a", 1, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "bad module name"));
    }
    assert_int_equal(module_store_put("kernel.elf", "a", 1, err, sizeof(err)), -1);
    assert_string_equal(err, "module kernel.elf is from the boot image and cannot be replaced");
    assert_int_equal(module_store_delete("kernel.elf", err, sizeof(err)), -1);
    assert_string_equal(err, "module kernel.elf is from the boot image and cannot be deleted");
    assert_int_equal(module_store_put("v1.2_x+y-z", "a", 1, err, sizeof(err)), 0);
}

static void test_in_use_by_a_running_vm(void **state)
{
    (void)state;
    assert_int_equal(module_store_put("k", "ab", 2, err, sizeof(err)), 0);
    strcpy(vm_a.cfg.initrd, "k");
    vm_a.state = VM_RUNNING;
    assert_int_equal(module_store_put("k", "cd", 2, err, sizeof(err)), -1);
    assert_string_equal(err, "module k is in use by vm a, which is running");
    assert_int_equal(module_store_delete("k", err, sizeof(err)), -1);
    /* Stopping (scrub pending) still counts as in use. */
    vm_a.state = VM_SHUTOFF;
    vm_a.teardown = true;
    assert_int_equal(module_store_delete("k", err, sizeof(err)), -1);
    vm_a.teardown = false;
    assert_int_equal(module_store_put("k", "cd", 2, err, sizeof(err)), 0);
    vm_a.cfg.initrd[0] = '\0';
}

static void test_pieces(void **state)
{
    (void)state;
    assert_int_equal(module_upload_begin("p", 6, err, sizeof(err)), 0);
    assert_int_equal(module_upload_begin("q", 6, err, sizeof(err)), -1);
    assert_string_equal(err, "another upload (p) is in progress");
    assert_int_equal(module_upload_write("abc", 3, err, sizeof(err)), 0);
    assert_int_equal(module_upload_write("def", 3, err, sizeof(err)), 0);
    assert_int_equal(module_upload_finish(err, sizeof(err)), 0);
    assert_memory_equal((void *)(uintptr_t)guest_module_find("p")->start, "abcdef", 6);
    /* More than announced: aborted, nothing kept. */
    assert_int_equal(module_upload_begin("r", 2, err, sizeof(err)), 0);
    assert_int_equal(module_upload_write("abc", 3, err, sizeof(err)), -1);
    assert_string_equal(err, "module r: more than the 2 bytes announced");
    assert_int_equal(module_upload_finish(err, sizeof(err)), -1);
    assert_string_equal(err, "no upload in progress");
    assert_null(guest_module_find("r"));
    /* Fewer: refused at the end. */
    assert_int_equal(module_upload_begin("s", 4, err, sizeof(err)), 0);
    assert_int_equal(module_upload_write("ab", 2, err, sizeof(err)), 0);
    assert_int_equal(module_upload_finish(err, sizeof(err)), -1);
    assert_string_equal(err, "module s: 2 of 4 bytes received");
    assert_null(guest_module_find("s"));
    /* Aborted half-way: the memory is back. */
    assert_int_equal(module_upload_begin("t", 4, err, sizeof(err)), 0);
    module_upload_abort();
    assert_int_equal(module_upload_write("ab", 2, err, sizeof(err)), -1);
}

static void test_too_many(void **state)
{
    (void)state;
    char name[16];
    for (unsigned i = 0; i < MODULE_STORE_MAX; i++) {
        snprintf(name, sizeof(name), "m%u", i);
        assert_int_equal(module_store_put(name, "a", 1, err, sizeof(err)), 0);
    }
    assert_int_equal(module_store_put("one-more", "a", 1, err, sizeof(err)), -1);
    assert_string_equal(err, "too many uploaded modules (at most 16)");
    assert_int_equal(module_store_put("m3", "b", 1, err, sizeof(err)), 0); /* replace: fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_find_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_boot_modules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_use_by_a_running_vm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
