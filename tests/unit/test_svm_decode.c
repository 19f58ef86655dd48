/* Exit-information decoding (IOIO, NPF, CR, nRIP), event encoding
 * (EVENTINJ, EXITINTINFO), segment attributes and the event windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "svm/svm_decode.h"

static void test_ioio(void **state)
{
    struct svm_ioio io;
    /* OUT dx, al to 0x3f8. */
    assert_true(svm_ioio_decode((0x3f8ULL << 16) | SVM_IOIO_SZ8 | SVM_IOIO_A64, false, &io));
    assert_int_equal(io.port, 0x3f8);
    assert_int_equal(io.size, 1);
    assert_false(io.in);
    assert_false(io.string);
    assert_int_equal(io.seg, 3);
    /* REP INSW, 32-bit addressing. */
    assert_true(svm_ioio_decode((0x1f0ULL << 16) | SVM_IOIO_TYPE_IN | SVM_IOIO_STR | SVM_IOIO_REP |
                                    SVM_IOIO_SZ16 | SVM_IOIO_A32,
                                false, &io));
    assert_int_equal(io.port, 0x1f0);
    assert_int_equal(io.size, 2);
    assert_true(io.in && io.string && io.rep);
    assert_int_equal(io.addr_size, 4);
    /* IN eax, 0xcfc, 16-bit addressing; OUTS with ES override (DecodeAssists). */
    assert_true(svm_ioio_decode((0xcfcULL << 16) | SVM_IOIO_TYPE_IN | SVM_IOIO_SZ32 | SVM_IOIO_A16,
                                false, &io));
    assert_int_equal(io.size, 4);
    assert_int_equal(io.addr_size, 2);
    assert_true(svm_ioio_decode((0x80ULL << 16) | SVM_IOIO_STR | SVM_IOIO_SZ8 | SVM_IOIO_A32 |
                                    (0U << SVM_IOIO_SEG_SHIFT),
                                true, &io));
    assert_int_equal(io.seg, 0);
    /* QEMU TCG's REP INSB (EXITINFO1 0x3ff001d, seen): no address-size bit,
     * reported as unknown for the vCPU layer to decode. */
    assert_true(svm_ioio_decode(0x3ff001d, false, &io));
    assert_int_equal(io.port, 0x3ff);
    assert_true(io.in && io.string && io.rep);
    assert_int_equal(io.size, 1);
    assert_int_equal(io.addr_size, 0);
    /* No size, or two sizes: malformed. */
    assert_false(svm_ioio_decode(0x80ULL << 16, false, &io));
    assert_false(svm_ioio_decode((0x80ULL << 16) | SVM_IOIO_SZ8 | SVM_IOIO_SZ32, false, &io));
}

static void test_npf(void **state)
{
    struct svm_npf n;
    svm_npf_decode(SVM_NPF_WRITE | SVM_NPF_USER | SVM_NPF_FINAL_GPA, 0xfee00030, &n);
    assert_int_equal(n.gpa, 0xfee00030);
    assert_true(n.write);
    assert_false(n.read || n.fetch || n.not_permitted || n.misconfig || n.guest_walk);
    svm_npf_decode(SVM_NPF_P | SVM_NPF_FETCH | SVM_NPF_USER, 0x1000, &n);
    assert_true(n.fetch && n.not_permitted);
    assert_false(n.read || n.write);
    svm_npf_decode(SVM_NPF_USER | SVM_NPF_GUEST_WALK, 0x5000, &n);
    assert_true(n.read && n.guest_walk);
    svm_npf_decode(SVM_NPF_P | SVM_NPF_RSVD, 0x5000, &n);
    assert_true(n.misconfig);
}

static void test_cr(void **state)
{
    struct svm_cr c;
    assert_true(svm_cr_decode(VMEXIT_CR0_WRITE + 4, SVM_EXITINFO1_CR_MOV | 7, true, &c));
    assert_int_equal(c.cr, 4);
    assert_true(c.write && c.decoded);
    assert_int_equal(c.gpr, 7);
    /* Without DecodeAssists the operand is unknown. */
    assert_true(svm_cr_decode(VMEXIT_CR0_WRITE, SVM_EXITINFO1_CR_MOV | 7, false, &c));
    assert_int_equal(c.cr, 0);
    assert_false(c.decoded);
    /* LMSW/CLTS on CR0: no MOV bit. */
    assert_true(svm_cr_decode(VMEXIT_CR0_WRITE, 0, true, &c));
    assert_false(c.decoded);
    assert_true(svm_cr_decode(VMEXIT_CR0_READ + 8, SVM_EXITINFO1_CR_MOV | 3, true, &c));
    assert_int_equal(c.cr, 8);
    assert_false(c.write);
    assert_int_equal(c.gpr, 3);
    assert_false(svm_cr_decode(VMEXIT_DR0_READ, 0, true, &c));
    assert_false(svm_cr_decode(VMEXIT_CPUID, 0, true, &c));
}

static void test_cr_insn(void **state)
{
    struct svm_cr_insn c;
    /* mov cr0, eax */
    const uint8_t mov_to_cr0[] = {0x0f, 0x22, 0xc0};
    assert_true(svm_decode_cr_insn(mov_to_cr0, 3, false, &c));
    assert_int_equal(c.type, SVM_CR_MOV_TO);
    assert_int_equal(c.cr, 0);
    assert_int_equal(c.gpr, 0);
    assert_int_equal(c.len, 3);
    /* mov ebx, cr4 */
    const uint8_t mov_from_cr4[] = {0x0f, 0x20, 0xe3};
    assert_true(svm_decode_cr_insn(mov_from_cr4, 3, false, &c));
    assert_int_equal(c.type, SVM_CR_MOV_FROM);
    assert_int_equal(c.cr, 4);
    assert_int_equal(c.gpr, 3);
    /* 64-bit: mov cr8, r9 (REX.R + REX.B) and mov r12, cr3 (REX.B). */
    const uint8_t mov_cr8_r9[] = {0x45, 0x0f, 0x22, 0xc1};
    assert_true(svm_decode_cr_insn(mov_cr8_r9, 4, true, &c));
    assert_int_equal(c.cr, 8);
    assert_int_equal(c.gpr, 9);
    assert_int_equal(c.len, 4);
    const uint8_t mov_r12_cr3[] = {0x41, 0x0f, 0x20, 0xdc};
    assert_true(svm_decode_cr_insn(mov_r12_cr3, 4, true, &c));
    assert_int_equal(c.type, SVM_CR_MOV_FROM);
    assert_int_equal(c.cr, 3);
    assert_int_equal(c.gpr, 12);
    /* Outside 64-bit mode 0x45 is INC EBP, not a prefix. */
    assert_false(svm_decode_cr_insn(mov_cr8_r9, 4, false, &c));
    /* LOCK MOV CR0 is CR8 on AMD; LOCK with another CR is not. */
    const uint8_t lock_cr0[] = {0xf0, 0x0f, 0x22, 0xc2};
    assert_true(svm_decode_cr_insn(lock_cr0, 4, false, &c));
    assert_int_equal(c.cr, 8);
    assert_int_equal(c.gpr, 2);
    const uint8_t lock_cr4[] = {0xf0, 0x0f, 0x22, 0xe2};
    assert_false(svm_decode_cr_insn(lock_cr4, 4, false, &c));
    /* Prefixes count in the length. */
    const uint8_t prefixed[] = {0x66, 0x2e, 0x0f, 0x22, 0xd8};
    assert_true(svm_decode_cr_insn(prefixed, 5, false, &c));
    assert_int_equal(c.cr, 3);
    assert_int_equal(c.len, 5);
    /* clts; lmsw ax; lmsw [eax] (memory: not decoded). */
    const uint8_t clts[] = {0x0f, 0x06};
    assert_true(svm_decode_cr_insn(clts, 2, false, &c));
    assert_int_equal(c.type, SVM_CR_CLTS);
    assert_int_equal(c.len, 2);
    const uint8_t lmsw_ax[] = {0x0f, 0x01, 0xf0};
    assert_true(svm_decode_cr_insn(lmsw_ax, 3, false, &c));
    assert_int_equal(c.type, SVM_CR_LMSW);
    assert_int_equal(c.gpr, 0);
    const uint8_t lmsw_mem[] = {0x0f, 0x01, 0x30};
    assert_false(svm_decode_cr_insn(lmsw_mem, 3, false, &c));
    /* Truncated, or not a CR instruction at all. */
    assert_false(svm_decode_cr_insn(mov_to_cr0, 2, false, &c));
    assert_false(svm_decode_cr_insn(clts, 1, false, &c));
    const uint8_t cpuid[] = {0x0f, 0xa2, 0x90};
    assert_false(svm_decode_cr_insn(cpuid, 3, false, &c));
    const uint8_t only_prefixes[15] = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                       0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
    assert_false(svm_decode_cr_insn(only_prefixes, 15, false, &c));
}

static void test_insn_len(void **state)
{
    static struct vmcb v;
    v.save.rip = 0x1000;
    v.control.next_rip = 0x1002;
    assert_int_equal(svm_insn_len(&v, true), 2);
    assert_int_equal(svm_insn_len(&v, false), 0); /* QEMU: no NRIPS */
    v.control.next_rip = 0;                       /* an exit that wrote no nRIP */
    assert_int_equal(svm_insn_len(&v, true), 0);
    v.control.next_rip = 0x1010; /* 16: not an instruction */
    assert_int_equal(svm_insn_len(&v, true), 0);
    v.control.next_rip = 0x100f;
    assert_int_equal(svm_insn_len(&v, true), 15);
}

static void test_eventinj(void **state)
{
    uint8_t adv;
    /* #GP(0x10) in protected mode. */
    uint64_t e = svm_eventinj(SVM_EV_HW_EXCEPTION, 13, true, 0x10, 0, true, &adv);
    assert_int_equal(e, SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID_ERR | 13 |
                            (0x10ULL << 32));
    assert_int_equal(adv, 0);
    /* The same in real mode: no error code. */
    e = svm_eventinj(SVM_EV_HW_EXCEPTION, 13, true, 0x10, 0, false, &adv);
    assert_int_equal(e, SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | 13);
    e = svm_eventinj(SVM_EV_EXT_INTR, 0x30, false, 0, 0, true, &adv);
    assert_int_equal(e, SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_INTR | 0x30);
    e = svm_eventinj(SVM_EV_NMI, 0, false, 0, 0, true, &adv);
    assert_int_equal(e, SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI | 2);
    /* INT 0x80 (2 bytes): delivered after RIP moves past it. */
    e = svm_eventinj(SVM_EV_SW_INTR, 0x80, false, 0, 2, true, &adv);
    assert_int_equal(e, SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_SOFT | 0x80);
    assert_int_equal(adv, 2);
    /* INT3 and ICEBP: exceptions after the instruction; never an error code. */
    e = svm_eventinj(SVM_EV_SW_EXCEPTION, 3, true, 5, 1, true, &adv);
    assert_int_equal(e, SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | 3);
    assert_int_equal(adv, 1);
    e = svm_eventinj(SVM_EV_PRIV_SW_EXCEPT, 1, false, 0, 1, true, &adv);
    assert_int_equal(e, SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | 1);
    assert_int_equal(adv, 1);
}

static void test_exitintinfo(void **state)
{
    struct svm_event ev;
    assert_false(svm_exitintinfo_decode(0, &ev));
    assert_true(svm_exitintinfo_decode(SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT |
                                           SVM_EVTINJ_VALID_ERR | 14 | (0x6ULL << 32),
                                       &ev));
    assert_int_equal(ev.type, SVM_EV_HW_EXCEPTION);
    assert_int_equal(ev.vector, 14);
    assert_true(ev.has_error);
    assert_int_equal(ev.error, 6);
    assert_true(svm_exitintinfo_decode(SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_INTR | 0x41, &ev));
    assert_int_equal(ev.type, SVM_EV_EXT_INTR);
    assert_false(ev.has_error);
    assert_true(svm_exitintinfo_decode(SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI | 2, &ev));
    assert_int_equal(ev.type, SVM_EV_NMI);
    assert_true(svm_exitintinfo_decode(SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_SOFT | 0x80, &ev));
    assert_int_equal(ev.type, SVM_EV_SW_INTR);
    /* Reserved types are not re-injected. */
    assert_false(svm_exitintinfo_decode(SVM_EVTINJ_VALID | (1U << SVM_EVTINJ_TYPE_SHIFT), &ev));
    assert_false(svm_exitintinfo_decode(SVM_EVTINJ_VALID | (7U << SVM_EVTINJ_TYPE_SHIFT), &ev));
    /* Every encodable event decodes back to itself. */
    const uint8_t types[] = {SVM_EV_EXT_INTR, SVM_EV_NMI, SVM_EV_HW_EXCEPTION, SVM_EV_SW_INTR};
    for (unsigned t = 0; t < 4; t++) {
        uint8_t adv;
        uint8_t vec = types[t] == SVM_EV_NMI ? 2 : 0x21;
        bool err = types[t] == SVM_EV_HW_EXCEPTION;
        uint64_t inj = svm_eventinj(types[t], vec, err, 0xabc, 2, true, &adv);
        assert_true(svm_exitintinfo_decode(inj, &ev));
        assert_int_equal(ev.type, types[t]);
        assert_int_equal(ev.vector, vec);
        assert_int_equal(ev.has_error, err);
    }
}

static void test_segment_attributes(void **state)
{
    /* The VMX values of vmx/vmcs_init.c and their packed forms. */
    assert_int_equal(svm_attrib_to_ar(0xc9b), 0xc09b);
    assert_int_equal(svm_attrib_to_ar(0xa9b), 0xa09b);
    assert_int_equal(svm_attrib_to_ar(0x08b), 0x008b);
    assert_int_equal(svm_ar_to_attrib(0xc093), 0xc93);
    assert_int_equal(svm_ar_to_attrib(0xa09b), 0xa9b);
    /* Not present: unusable, both ways. */
    assert_int_equal(svm_attrib_to_ar(0), 1U << 16);
    assert_int_equal(svm_attrib_to_ar(0x013), 0x10013);
    assert_int_equal(svm_ar_to_attrib(0x10093), 0x013);
    for (uint32_t a = 0; a < 0x1000; a++) {
        if (a & VMCB_ATTR_P)
            assert_int_equal(svm_ar_to_attrib(svm_attrib_to_ar((uint16_t)a)), a);
    }
}

static void test_windows(void **state)
{
    static struct vmcb v;
    v.control.v_intr = V_INTR_MASKING | 0x5; /* V_TPR 5 */
    v.control.intercept_misc1 = SVM_INTERCEPT_CPUID;
    svm_set_irq_window(&v, true);
    assert_true(v.control.intercept_misc1 & SVM_INTERCEPT_VINTR);
    assert_true(v.control.v_intr & V_IRQ);
    assert_true(v.control.v_intr & V_IGN_TPR);
    svm_set_irq_window(&v, false);
    assert_int_equal(v.control.intercept_misc1, SVM_INTERCEPT_CPUID);
    assert_int_equal(v.control.v_intr, V_INTR_MASKING | 0x5);
    svm_set_nmi_window(&v, true);
    assert_true(v.control.intercept_misc1 & SVM_INTERCEPT_IRET);
    svm_set_nmi_window(&v, false);
    assert_int_equal(v.control.intercept_misc1, SVM_INTERCEPT_CPUID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ioio),        cmocka_unit_test(test_npf),
        cmocka_unit_test(test_cr),          cmocka_unit_test(test_cr_insn),
        cmocka_unit_test(test_insn_len),    cmocka_unit_test(test_eventinj),
        cmocka_unit_test(test_exitintinfo), cmocka_unit_test(test_segment_attributes),
        cmocka_unit_test(test_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
