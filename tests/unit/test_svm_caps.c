/* SVM detection: CPUID 0x80000001/0x8000000A and VM_CR decoded into
 * svm_caps, and the banner text, for each firmware/CPU combination. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "svm/svm_caps.h"

/* What QEMU TCG's -cpu EPYC reports: SVM, nested paging only, 16 ASIDs. */
static struct svm_cpuid_in qemu_epyc(void)
{
    return (struct svm_cpuid_in){
        .max_ext_leaf = 0x8000001f,
        .ext1_ecx = CPUID_80000001_ECX_SVM,
        .leaf_a_eax = 1,
        .leaf_a_ebx = 16,
        .leaf_a_edx = SVM_FEAT_NP,
        .vm_cr_readable = true,
        .vm_cr = 0,
    };
}

static void decode_and_banner(const struct svm_cpuid_in *in, struct svm_caps *c, char *buf,
                              unsigned len)
{
    svm_caps_decode(c, in);
    svm_caps_banner(c, buf, len);
}

static void test_qemu_npt_only(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    struct svm_caps c;
    char buf[128];
    decode_and_banner(&in, &c, buf, sizeof(buf));
    assert_true(c.available);
    assert_true(c.np);
    assert_false(c.nrips);
    assert_false(c.decode_assists);
    assert_false(c.flush_by_asid);
    assert_int_equal(c.nr_asids, 16);
    assert_int_equal(c.revision, 1);
    assert_string_equal(buf, "svm: npt");
}

static void test_full_featured(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.leaf_a_ebx = 32768;
    in.leaf_a_edx = SVM_FEAT_NP | SVM_FEAT_LBRV | SVM_FEAT_NRIPS | SVM_FEAT_TSC_RATE |
                    SVM_FEAT_VMCB_CLEAN | SVM_FEAT_FLUSH_BY_ASID | SVM_FEAT_DECODE_ASSISTS |
                    SVM_FEAT_PAUSE_FILTER | SVM_FEAT_AVIC | SVM_FEAT_VGIF | SVM_FEAT_VNMI;
    struct svm_caps c;
    char buf[256];
    decode_and_banner(&in, &c, buf, sizeof(buf));
    assert_true(c.available);
    assert_true(c.nrips && c.decode_assists && c.vmcb_clean && c.flush_by_asid && c.tsc_rate &&
                c.lbr_virt && c.avic && c.vgif && c.vnmi && c.pause_filter);
    assert_string_equal(buf, "svm: npt, nrips, decode-assists, vmcb-clean, flush-by-asid, "
                             "tsc-rate, lbr-virt, pause-filter, avic, vgif, vnmi");
}

static void test_no_svm_bit(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.ext1_ecx = 0; /* an Intel CPU, or SVM hidden by the outer hypervisor */
    struct svm_caps c;
    char buf[128];
    decode_and_banner(&in, &c, buf, sizeof(buf));
    assert_false(c.available);
    assert_string_equal(buf, "svm: unavailable (no SVM in CPUID)");
}

static void test_no_extended_leaves(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.max_ext_leaf = 0x80000000; /* 0x80000001 absent: its ECX is garbage */
    struct svm_caps c;
    svm_caps_decode(&c, &in);
    assert_false(c.available);
    assert_string_equal(c.reason, "no SVM in CPUID");

    in = qemu_epyc();
    in.max_ext_leaf = 0x80000008;
    svm_caps_decode(&c, &in);
    assert_false(c.available);
    assert_non_null(strstr(c.reason, "0x8000000A missing"));
}

static void test_firmware_disabled_locked(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.vm_cr = VM_CR_SVMDIS | VM_CR_LOCK;
    struct svm_caps c;
    char buf[128];
    decode_and_banner(&in, &c, buf, sizeof(buf));
    assert_false(c.available);
    assert_string_equal(buf, "svm: unavailable (disabled by firmware (VM_CR.SVMDIS with LOCK))");
}

static void test_svmdis_unlocked_is_cleared(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.vm_cr = VM_CR_SVMDIS;
    struct svm_caps c;
    svm_caps_decode(&c, &in);
    assert_true(c.available);
    assert_true(c.svmdis_to_clear);

    /* LOCK alone (SVM left enabled and locked so) is fine, nothing to clear. */
    in.vm_cr = VM_CR_LOCK;
    svm_caps_decode(&c, &in);
    assert_true(c.available);
    assert_false(c.svmdis_to_clear);
}

static void test_vm_cr_unreadable(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.vm_cr_readable = false;
    struct svm_caps c;
    svm_caps_decode(&c, &in);
    assert_false(c.available);
    assert_string_equal(c.reason, "VM_CR MSR unreadable");
}

static void test_no_nested_paging(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.leaf_a_edx = SVM_FEAT_NRIPS | SVM_FEAT_DECODE_ASSISTS;
    struct svm_caps c;
    char buf[128];
    decode_and_banner(&in, &c, buf, sizeof(buf));
    assert_false(c.available);
    assert_true(c.nrips); /* decoded anyway, for the log */
    assert_string_equal(buf, "svm: unavailable (no nested paging)");
}

static void test_no_guest_asid(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.leaf_a_ebx = 1;
    struct svm_caps c;
    svm_caps_decode(&c, &in);
    assert_false(c.available);
    assert_non_null(strstr(c.reason, "ASID"));
}

static void test_banner_truncates_whole_names(void **state)
{
    struct svm_cpuid_in in = qemu_epyc();
    in.leaf_a_edx = SVM_FEAT_NP | SVM_FEAT_NRIPS | SVM_FEAT_DECODE_ASSISTS;
    struct svm_caps c;
    char buf[20]; /* "svm: npt, nrips" fits, ", decode-assists" does not */
    decode_and_banner(&in, &c, buf, sizeof(buf));
    assert_string_equal(buf, "svm: npt, nrips");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_npt_only),
        cmocka_unit_test(test_full_featured),
        cmocka_unit_test(test_no_svm_bit),
        cmocka_unit_test(test_no_extended_leaves),
        cmocka_unit_test(test_firmware_disabled_locked),
        cmocka_unit_test(test_svmdis_unlocked_is_cleared),
        cmocka_unit_test(test_vm_cr_unreadable),
        cmocka_unit_test(test_no_nested_paging),
        cmocka_unit_test(test_no_guest_asid),
        cmocka_unit_test(test_banner_truncates_whole_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
