/* svm_fetch_insn: the instruction bytes at CS:RIP in each mode, across
 * pages, at a CS limit, with faults, and from DecodeAssists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svm/svm_fetch.h"
#include "svm/svm_vmcb.h"

#define RAM_SIZE 0x100000u
static uint8_t *ram;

static int ram_read(void *ctx, uint64_t gpa, void *buf, unsigned len)
{
    if (gpa >= RAM_SIZE || RAM_SIZE - gpa < len)
        return -1;
    memcpy(buf, ram + gpa, len);
    return 0;
}

static const struct gwalk_mem mem = {ram_read, NULL, NULL};

static int setup(void **state)
{
    ram = calloc(1, RAM_SIZE);
    for (unsigned i = 0; i < RAM_SIZE; i++)
        ram[i] = (uint8_t)(i * 7 + (i >> 12)); /* distinct per page */
    return 0;
}

static int teardown(void **state)
{
    free(ram);
    return 0;
}

static struct vmcb *vmcb_for(enum svm_boot_mode mode, uint64_t rip)
{
    struct vmcb *v = aligned_alloc(4096, sizeof(struct vmcb));
    struct svm_vmcb_params p = {.mode = mode, .rip = rip, .cr3 = 0x10000, .asid = 1};
    svm_vmcb_init(v, &p);
    return v;
}

static void test_flat_paging_off(void **state)
{
    struct vmcb *v = vmcb_for(SVM_BOOT_PROTECTED_FLAT, 0x1ffc);
    uint8_t buf[15];
    struct svm_fetch_result r;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_OK);
    assert_int_equal(r.len, 15);
    assert_int_equal(r.la, 0x1ffc);
    assert_memory_equal(buf, ram + 0x1ffc, 15);
    assert_int_equal(r.from_decode_assists, 0);
    /* More than 15 is never fetched. */
    uint8_t big[32];
    svm_fetch_insn(v, &mem, 40, big, 32, &r);
    assert_int_equal(r.len, 15);
    free(v);
}

static void test_real_mode_segment_and_limit(void **state)
{
    struct vmcb *v = vmcb_for(SVM_BOOT_REAL, 0x90010);
    uint8_t buf[15];
    struct svm_fetch_result r;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_OK);
    assert_int_equal(r.la, 0x90010);
    assert_memory_equal(buf, ram + 0x90010, 15);
    /* IP 0xfffa: only six bytes lie inside the 64 KiB segment. */
    v->save.rip = 0xfffa;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_OK);
    assert_int_equal(r.len, 6);
    assert_memory_equal(buf, ram + 0x9fffa, 6);
    v->save.rip = 0x10000; /* beyond the limit: nothing */
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.len, 0);
    free(v);
}

static void put64(uint64_t gpa, uint64_t val)
{
    memcpy(ram + gpa, &val, 8);
}

/* 4-level tables at 0x10000: la 0x200000 -> gpa 0x30000, la 0x201000 ->
 * gpa 0x50000, la 0x202000 not present. */
static void build_long_mode_tables(void)
{
    const uint64_t P = 1, RW = 2, US = 4;
    memset(ram + 0x10000, 0, 0x4000);
    put64(0x10000, 0x11000 | P | RW | US);
    put64(0x11000, 0x12000 | P | RW | US);
    put64(0x12000 + 1 * 8, 0x13000 | P | RW | US); /* PD index 1: 2 MiB */
    put64(0x13000 + 0 * 8, 0x30000 | P);
    put64(0x13000 + 1 * 8, 0x50000 | P);
}

static void test_long_mode_across_pages(void **state)
{
    build_long_mode_tables();
    struct vmcb *v = vmcb_for(SVM_BOOT_LONG, 0x200ffa);
    uint8_t buf[15];
    struct svm_fetch_result r;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_OK);
    assert_int_equal(r.len, 15);
    assert_memory_equal(buf, ram + 0x30ffa, 6);
    assert_memory_equal(buf + 6, ram + 0x50000, 9);

    /* The next page is not present: the first page's bytes still come. */
    v->save.rip = 0x201ffd;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_OK);
    assert_int_equal(r.len, 3);
    assert_memory_equal(buf, ram + 0x50ffd, 3);
    free(v);
}

static void test_long_mode_fault(void **state)
{
    build_long_mode_tables();
    struct vmcb *v = vmcb_for(SVM_BOOT_LONG, 0x202000);
    uint8_t buf[15];
    struct svm_fetch_result r;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_PAGE_FAULT);
    assert_int_equal(r.fault.error & PF_ERR_P, 0);
    assert_int_equal(r.len, 0);

    /* A page table outside guest RAM breaks the VM, not the hypervisor. */
    put64(0x13000 + 2 * 8, 0x30000 | 1);
    put64(0x11000, 0x7ff000 | 7); /* PD beyond RAM */
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_BAD_MEMORY);
    free(v);
}

static void test_code_outside_ram(void **state)
{
    struct vmcb *v = vmcb_for(SVM_BOOT_PROTECTED_FLAT, RAM_SIZE + 0x100);
    uint8_t buf[15];
    struct svm_fetch_result r;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_BAD_MEMORY);
    /* The last bytes of RAM: what there is. */
    v->save.rip = RAM_SIZE - 4;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_OK);
    assert_int_equal(r.len, 4);
    free(v);
}

static void test_decode_assists_bytes(void **state)
{
    struct vmcb *v = vmcb_for(SVM_BOOT_LONG, 0x202000); /* unmapped: not walked */
    const uint8_t insn[] = {0x89, 0x07, 0x90};
    v->control.insn_len = 3;
    memcpy(v->control.insn_bytes, insn, 3);
    uint8_t buf[15];
    struct svm_fetch_result r;
    svm_fetch_insn(v, &mem, 40, buf, 15, &r);
    assert_int_equal(r.status, SVM_FETCH_OK);
    assert_int_equal(r.len, 3);
    assert_int_equal(r.from_decode_assists, 1);
    assert_memory_equal(buf, insn, 3);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_paging_off),
        cmocka_unit_test(test_real_mode_segment_and_limit),
        cmocka_unit_test(test_long_mode_across_pages),
        cmocka_unit_test(test_long_mode_fault),
        cmocka_unit_test(test_code_outside_ram),
        cmocka_unit_test(test_decode_assists_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
