/* The VMCB builder (boot modes, intercepts, nested paging), the IOPM and
 * MSRPM builders, ASID allocation and the exit-code names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svm/svm_check.h"
#include "svm/svm_vmcb.h"

static const struct svm_check_limits qemu_limits = {
    .maxphyaddr = 40, .long_mode = true, .nested_paging = true};

static struct svm_vmcb_params params(enum svm_boot_mode mode)
{
    return (struct svm_vmcb_params){
        .mode = mode,
        .rip = 0x100000,
        .rsp = 0x8000,
        .rax = 0x36d76289,
        .cr3 = 0x200000,
        .gdt_base = 0x1000,
        .gdt_limit = 0x17,
        .iopm_pa = 0x3000000,
        .msrpm_pa = 0x3004000,
        .ncr3 = 0x3010000,
        .tsc_offset = (uint64_t)-12345,
        .asid = 1,
    };
}

static struct vmcb *new_vmcb(void)
{
    struct vmcb *v = aligned_alloc(4096, sizeof(struct vmcb));
    memset(v, 0xa5, sizeof(*v)); /* the builder must not rely on a zeroed page */
    return v;
}

static void test_real_mode(void **state)
{
    struct vmcb *v = new_vmcb();
    struct svm_vmcb_params p = params(SVM_BOOT_REAL);
    p.rip = 0x9f000 + 0x123;
    svm_vmcb_init(v, &p);
    assert_int_equal(v->save.cs.selector, 0x9000);
    assert_int_equal(v->save.cs.base, 0x90000);
    assert_int_equal(v->save.cs.limit, 0xffff);
    assert_int_equal(v->save.cs.attrib, 0x9b);
    assert_int_equal(v->save.rip, 0xf123);
    assert_int_equal(v->save.cr0 & 1, 0);       /* PE clear */
    assert_int_equal(v->save.efer, 1ULL << 12); /* only SVME */
    assert_int_equal(v->save.cr3, 0);
    assert_null(svm_check_vmcb(v, &qemu_limits));
    free(v);
}

static void test_protected_flat(void **state)
{
    struct vmcb *v = new_vmcb();
    struct svm_vmcb_params p = params(SVM_BOOT_PROTECTED_FLAT);
    p.cs_sel = 0x18;
    svm_vmcb_init(v, &p);
    assert_int_equal(v->save.cs.selector, 0x18);
    assert_int_equal(v->save.ds.selector, 0x10); /* default data selector */
    assert_int_equal(v->save.cs.limit, 0xffffffff);
    assert_int_equal(v->save.cs.attrib, 0xc9b); /* G, D, P, S, code */
    assert_int_equal(v->save.ss.attrib, 0xc93);
    assert_int_equal(v->save.cr0 & 0x80000031, 0x31); /* PE, ET, NE; no PG */
    assert_int_equal(v->save.rip, 0x100000);
    assert_int_equal(v->save.rsp, 0x8000);
    assert_int_equal(v->save.rax, 0x36d76289); /* RAX lives in the VMCB */
    assert_int_equal(v->save.gdtr.base, 0x1000);
    assert_int_equal(v->save.gdtr.limit, 0x17);
    assert_int_equal(v->save.g_pat, 0x0007040600070406ULL);
    assert_int_equal(v->save.rflags, 2);
    assert_null(svm_check_vmcb(v, &qemu_limits));
    free(v);
}

static void test_long_mode(void **state)
{
    struct vmcb *v = new_vmcb();
    struct svm_vmcb_params p = params(SVM_BOOT_LONG);
    svm_vmcb_init(v, &p);
    assert_int_equal(v->save.cs.attrib, 0xa9b); /* L set, D clear */
    assert_true(v->save.cr0 & (1ULL << 31));
    assert_true(v->save.cr4 & (1ULL << 5));
    assert_int_equal(v->save.efer, (1ULL << 8) | (1ULL << 10) | (1ULL << 12));
    assert_int_equal(v->save.cr3, 0x200000);
    assert_null(svm_check_vmcb(v, &qemu_limits));
    free(v);
}

static void test_intercepts(void **state)
{
    struct vmcb *v = new_vmcb();
    struct svm_vmcb_params p = params(SVM_BOOT_PROTECTED_FLAT);
    svm_vmcb_init(v, &p);
    const struct vmcb_control_area *c = &v->control;
    uint32_t want1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
                     SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT |
                     SVM_INTERCEPT_IOIO_PROT | SVM_INTERCEPT_MSR_PROT | SVM_INTERCEPT_SHUTDOWN |
                     SVM_INTERCEPT_INVLPGA;
    uint32_t want2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
                     SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
                     SVM_INTERCEPT_SKINIT;
    assert_int_equal(c->intercept_misc1 & want1, want1);
    assert_int_equal(c->intercept_misc2 & want2, want2);
    assert_int_equal(c->intercept_exceptions, (1U << 1) | (1U << 17)); /* #DB, #AC */
    /* CR0 and CR4 writes; CR3 is the guest's under nested paging; no CR8. */
    assert_int_equal(c->intercept_cr, (1U << 16) | (1U << 20));
    assert_int_equal(c->nested_ctl, SVM_NESTED_CTL_NP_ENABLE);
    assert_int_equal(c->nested_cr3, 0x3010000);
    assert_int_equal(c->iopm_base_pa, 0x3000000);
    assert_int_equal(c->msrpm_base_pa, 0x3004000);
    assert_int_equal(c->tsc_offset, (uint64_t)-12345);
    assert_int_equal(c->guest_asid, 1);
    assert_int_equal(c->tlb_control, TLB_CONTROL_FLUSH_ALL_ASID);
    assert_int_equal(c->v_intr & V_INTR_MASKING, V_INTR_MASKING);
    assert_int_equal(c->event_inj, 0);

    p.cr8_exiting = true;
    svm_vmcb_init(v, &p);
    assert_int_equal(v->control.intercept_cr, (1U << 16) | (1U << 20) | (1U << 8) | (1U << 24));
    free(v);
}

static void test_pause_filter(void **state)
{
    struct vmcb *v = new_vmcb();
    struct svm_vmcb_params p = params(SVM_BOOT_LONG);
    /* No filter (a CPU without it, or a real-time vCPU): PAUSE never exits. */
    svm_vmcb_init(v, &p);
    assert_int_equal(v->control.intercept_misc1 & SVM_INTERCEPT_PAUSE, 0);
    assert_int_equal(v->control.pause_filter_count, 0);
    /* With it: intercepted after the count, with the threshold given. */
    p.pause_filter_count = 3000;
    p.pause_filter_thresh = 128;
    svm_vmcb_init(v, &p);
    assert_int_equal(v->control.intercept_misc1 & SVM_INTERCEPT_PAUSE, SVM_INTERCEPT_PAUSE);
    assert_int_equal(v->control.pause_filter_count, 3000);
    assert_int_equal(v->control.pause_filter_thresh, 128);
    free(v);
}

static void test_iopm(void **state)
{
    static uint8_t iopm[SVM_IOPM_SIZE];
    const struct svm_port_range pass[] = {{0x60, 1}, {0x3f8, 8}, {0xfffe, 10}};
    svm_iopm_build(iopm, pass, 3);
    assert_false(svm_iopm_intercepts(iopm, 0x60, 1));
    assert_true(svm_iopm_intercepts(iopm, 0x61, 1));
    assert_true(svm_iopm_intercepts(iopm, 0x5f, 1));
    /* A word access touching a passed and an intercepted port exits. */
    assert_true(svm_iopm_intercepts(iopm, 0x60, 2));
    assert_false(svm_iopm_intercepts(iopm, 0x3f8, 4));
    assert_false(svm_iopm_intercepts(iopm, 0x3fc, 4));
    assert_true(svm_iopm_intercepts(iopm, 0x3fd, 4)); /* reaches 0x400 */
    assert_true(svm_iopm_intercepts(iopm, 0x3f7, 1));
    /* The range is clipped at 0xffff; the bits past it (the third page)
     * stay set, so an access wrapping past 0xffff exits. */
    assert_false(svm_iopm_intercepts(iopm, 0xffff, 1));
    assert_true(svm_iopm_intercepts(iopm, 0xfffe, 4));
    assert_int_equal(iopm[0x10000 / 8], 0xff);
    assert_int_equal(iopm[SVM_IOPM_SIZE - 1], 0xff);
    assert_true(svm_iopm_intercepts(iopm, 0xcf8, 4));
    assert_true(svm_iopm_intercepts(iopm, 0x60, 0)); /* malformed size */
    assert_true(svm_iopm_intercepts(iopm, 0x60, 8));

    svm_iopm_build(iopm, NULL, 0);
    for (unsigned i = 0; i < SVM_IOPM_SIZE; i++)
        assert_int_equal(iopm[i], 0xff);
}

static void test_msrpm_layout(void **state)
{
    /* APM 15.11: three 2 KiB vectors, two bits per MSR. */
    assert_int_equal(svm_msrpm_offset(0), 0);
    assert_int_equal(svm_msrpm_offset(0x1fff), 0x7ff);
    assert_int_equal(svm_msrpm_offset(0xc0000000), 0x800);
    assert_int_equal(svm_msrpm_offset(0xc0000082), 0x800 + 0x82 / 4);
    assert_int_equal(svm_msrpm_offset(0xc0010000), 0x1000);
    assert_int_equal(svm_msrpm_offset(0xc0011fff), 0x17ff);
    assert_int_equal(svm_msrpm_offset(0x2000), -1);
    assert_int_equal(svm_msrpm_offset(0xc0002000), -1);
    assert_int_equal(svm_msrpm_offset(0xbfffffff), -1);
    assert_int_equal(svm_msrpm_offset(0xc0012000), -1);
    assert_int_equal(svm_msrpm_offset(0xffffffff), -1);

    static uint8_t pm[SVM_MSRPM_SIZE];
    memset(pm, 0xff, sizeof(pm));
    assert_int_equal(svm_msrpm_set(pm, 0xc0000082, false, true), 0);
    /* LSTAR is MSR 2 of its byte: bits 4 (read) and 5 (write). */
    assert_int_equal(pm[0x820], 0xff & ~(1U << 4));
    assert_false(svm_msrpm_intercepts(pm, 0xc0000082, false));
    assert_true(svm_msrpm_intercepts(pm, 0xc0000082, true));
    assert_int_equal(svm_msrpm_set(pm, 0x40000000, false, false), -1);
    assert_true(svm_msrpm_intercepts(pm, 0x40000000, false)); /* unmapped: always exits */
}

static void test_msrpm_policy(void **state)
{
    static uint8_t pm[SVM_MSRPM_SIZE];
    svm_msrpm_build(pm);
    const uint32_t pass[] = {0xc0000100, 0xc0000101, 0xc0000102, 0xc0000081, 0xc0000082, 0xc0000083,
                             0xc0000084, 0xc0000103, 0x174,      0x175,      0x176};
    for (unsigned i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        assert_false(svm_msrpm_intercepts(pm, pass[i], false));
        assert_false(svm_msrpm_intercepts(pm, pass[i], true));
    }
    assert_false(svm_msrpm_intercepts(pm, 0x10, false)); /* TSC read */
    assert_true(svm_msrpm_intercepts(pm, 0x10, true));
    /* EFER (SVME hidden), PAT, APIC base, SPEC_CTRL, VM_CR, VM_HSAVE_PA and
     * MTRRs exit both ways. */
    const uint32_t trap[] = {0xc0000080, 0x277, 0x1b, 0x48, 0xc0010114, 0xc0010117, 0x2ff, 0x1a0};
    for (unsigned i = 0; i < sizeof(trap) / sizeof(trap[0]); i++) {
        assert_true(svm_msrpm_intercepts(pm, trap[i], false));
        assert_true(svm_msrpm_intercepts(pm, trap[i], true));
    }
    /* The reserved fourth vector stays all ones. */
    for (unsigned i = 0x1800; i < SVM_MSRPM_SIZE; i++)
        assert_int_equal(pm[i], 0xff);
}

static void test_asid_allocation(void **state)
{
    struct svm_asid_pool pool = {.nr_asids = 4};
    struct svm_vcpu_asid a = {.cpu = -1}, b = {.cpu = -1}, c = {.cpu = -1};

    /* The first ASID a CPU hands out flushes what firmware left. */
    assert_int_equal(svm_asid_assign(&pool, &a, 0, false, false), TLB_CONTROL_FLUSH_ALL_ASID);
    assert_int_equal(a.asid, 1);
    assert_int_equal(svm_asid_assign(&pool, &a, 0, false, false), TLB_CONTROL_DO_NOTHING);
    assert_int_equal(a.asid, 1);
    assert_int_equal(svm_asid_assign(&pool, &b, 0, false, false), TLB_CONTROL_DO_NOTHING);
    assert_int_equal(b.asid, 2);
    assert_int_equal(svm_asid_assign(&pool, &c, 0, false, false), TLB_CONTROL_DO_NOTHING);
    assert_int_equal(c.asid, 3);
    /* ASIDs 1-3 used: a new vCPU (or a flush without FlushByAsid) starts
     * a new generation, reusing ASID 1 after a full flush. */
    assert_int_equal(svm_asid_assign(&pool, &a, 0, true, false), TLB_CONTROL_FLUSH_ALL_ASID);
    assert_int_equal(a.asid, 1);
    /* b's ASID 2 belongs to the old generation: it moves to a new one. */
    assert_int_equal(svm_asid_assign(&pool, &b, 0, false, false), TLB_CONTROL_DO_NOTHING);
    assert_int_equal(b.asid, 2);
    assert_int_equal(b.generation, a.generation);
    /* With FlushByAsid a flush keeps the ASID. */
    assert_int_equal(svm_asid_assign(&pool, &b, 0, true, true), TLB_CONTROL_FLUSH_ASID);
    assert_int_equal(b.asid, 2);
    /* Moving to another CPU's pool gets an ASID there. */
    struct svm_asid_pool pool1 = {.nr_asids = 4};
    assert_int_equal(svm_asid_assign(&pool1, &b, 1, false, false), TLB_CONTROL_FLUSH_ALL_ASID);
    assert_int_equal(b.cpu, 1);
    assert_int_equal(b.asid, 1);
    /* Never ASID 0 (the host's), in any order of events. */
    for (unsigned i = 0; i < 100; i++) {
        svm_asid_assign(&pool, &c, 0, i % 3 == 0, false);
        assert_true(c.asid >= 1 && c.asid < 4);
    }
}

static void test_exit_names(void **state)
{
    assert_string_equal(svm_exit_name(VMEXIT_CPUID), "VMEXIT_CPUID");
    assert_string_equal(svm_exit_name(VMEXIT_VMMCALL), "VMEXIT_VMMCALL");
    assert_string_equal(svm_exit_name(VMEXIT_IOIO), "VMEXIT_IOIO");
    assert_string_equal(svm_exit_name(VMEXIT_NPF), "VMEXIT_NPF");
    assert_string_equal(svm_exit_name(VMEXIT_SHUTDOWN), "VMEXIT_SHUTDOWN");
    assert_string_equal(svm_exit_name(VMEXIT_INVALID), "VMEXIT_INVALID");
    assert_string_equal(svm_exit_name(0x000), "VMEXIT_CR0_READ");
    assert_string_equal(svm_exit_name(0x01f), "VMEXIT_CR15_WRITE");
    assert_string_equal(svm_exit_name(0x027), "VMEXIT_DR7_READ");
    assert_string_equal(svm_exit_name(0x040 + 14), "VMEXIT_EXCP14");
    assert_string_equal(svm_exit_name(0x040 + 17), "VMEXIT_EXCP17");
    assert_string_equal(svm_exit_name(0x05f), "VMEXIT_EXCP31");
    assert_string_equal(svm_exit_name(0x093), "VMEXIT_CR3_WRITE_TRAP");
    assert_string_equal(svm_exit_name(VMEXIT_TLBSYNC), "VMEXIT_TLBSYNC");
    assert_string_equal(svm_exit_name(0x0a5), "VMEXIT_UNKNOWN");
    assert_string_equal(svm_exit_name(0x3ff), "VMEXIT_UNKNOWN");
    assert_string_equal(svm_exit_name(0x12345678), "VMEXIT_UNKNOWN");
    /* EXITCODE read as a sign-extended 32-bit value: QEMU's 32-bit -1 is
     * VMEXIT_INVALID as much as the hardware's 64-bit -1. */
    static struct vmcb v;
    v.control.exit_code = 0xffffffffULL;
    assert_int_equal(svm_exit_code(&v), VMEXIT_INVALID);
    v.control.exit_code = ~0ULL;
    assert_int_equal(svm_exit_code(&v), VMEXIT_INVALID);
    v.control.exit_code = 0xfffffffeULL;
    assert_int_equal(svm_exit_code(&v), VMEXIT_BUSY);
    v.control.exit_code = VMEXIT_NPF;
    assert_int_equal(svm_exit_code(&v), VMEXIT_NPF);
    assert_string_equal(svm_exit_name(svm_exit_code(&v)), "VMEXIT_NPF");
    /* Every code from 0 to 0xa4 has a name. */
    for (uint64_t code = 0; code <= VMEXIT_TLBSYNC; code++)
        assert_string_not_equal(svm_exit_name(code), "VMEXIT_UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_mode),       cmocka_unit_test(test_protected_flat),
        cmocka_unit_test(test_long_mode),       cmocka_unit_test(test_intercepts),
        cmocka_unit_test(test_pause_filter),    cmocka_unit_test(test_iopm),
        cmocka_unit_test(test_msrpm_layout),    cmocka_unit_test(test_msrpm_policy),
        cmocka_unit_test(test_asid_allocation), cmocka_unit_test(test_exit_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
