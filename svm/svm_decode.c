/* Exit-information decoding and event encoding; see svm_decode.h. */
#include "svm/svm_decode.h"

#include "lib/string.h"

bool svm_ioio_decode(uint64_t info1, bool decode_assists, struct svm_ioio *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t sz = (uint32_t)info1 & (SVM_IOIO_SZ8 | SVM_IOIO_SZ16 | SVM_IOIO_SZ32);
    if (sz == SVM_IOIO_SZ8)
        out->size = 1;
    else if (sz == SVM_IOIO_SZ16)
        out->size = 2;
    else if (sz == SVM_IOIO_SZ32)
        out->size = 4;
    else
        return false;
    out->port = (uint16_t)(info1 >> SVM_IOIO_PORT_SHIFT);
    out->in = info1 & SVM_IOIO_TYPE_IN;
    out->string = info1 & SVM_IOIO_STR;
    out->rep = info1 & SVM_IOIO_REP;
    if (info1 & SVM_IOIO_A64)
        out->addr_size = 8;
    else if (info1 & SVM_IOIO_A32)
        out->addr_size = 4;
    else if (info1 & SVM_IOIO_A16)
        out->addr_size = 2;
    else
        out->addr_size = 0; /* QEMU TCG sets no bit: the vCPU layer decodes the prefixes */
    out->seg = decode_assists ? (uint8_t)((info1 & SVM_IOIO_SEG_MASK) >> SVM_IOIO_SEG_SHIFT) : 3;
    return true;
}

void svm_npf_decode(uint64_t info1, uint64_t info2, struct svm_npf *out)
{
    memset(out, 0, sizeof(*out));
    out->gpa = info2;
    out->write = info1 & SVM_NPF_WRITE;
    out->fetch = info1 & SVM_NPF_FETCH;
    out->read = !out->write && !out->fetch;
    out->not_permitted = info1 & SVM_NPF_P;
    out->misconfig = info1 & SVM_NPF_RSVD;
    out->guest_walk = info1 & SVM_NPF_GUEST_WALK;
}

bool svm_cr_decode(uint64_t code, uint64_t info1, bool decode_assists, struct svm_cr *out)
{
    memset(out, 0, sizeof(*out));
    if (code > VMEXIT_CR0_WRITE + 15)
        return false;
    out->cr = (uint8_t)(code & 0xf);
    out->write = code >= VMEXIT_CR0_WRITE;
    /* Bit 63 says a MOV caused it; CR0 writes by LMSW or CLTS clear it. */
    if (decode_assists && (info1 & SVM_EXITINFO1_CR_MOV)) {
        out->decoded = true;
        out->gpr = (uint8_t)(info1 & SVM_EXITINFO1_CR_GPR_MSK);
    }
    return true;
}

bool svm_decode_cr_insn(const uint8_t *b, unsigned n, bool long_mode, struct svm_cr_insn *out)
{
    unsigned i = 0;
    bool lock = false;
    uint8_t rex = 0;
    memset(out, 0, sizeof(*out));
    if (n > 15)
        n = 15;
    /* Legacy prefixes (operand size, segments, REP) change nothing here. */
    while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
                     b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65 ||
                     b[i] == 0xf0)) {
        lock |= b[i] == 0xf0;
        i++;
    }
    if (long_mode && i < n && (b[i] & 0xf0) == 0x40)
        rex = b[i++];
    if (i + 2 > n || b[i] != 0x0f)
        return false;
    uint8_t op = b[i + 1];
    if (op == 0x06) { /* CLTS */
        out->type = SVM_CR_CLTS;
        out->len = (uint8_t)(i + 2);
        return !lock;
    }
    if (i + 3 > n)
        return false;
    uint8_t modrm = b[i + 2];
    unsigned reg = (modrm >> 3) & 7, rm = modrm & 7;
    if (op == 0x20 || op == 0x22) {
        /* MOV CR always uses the register form (mod is ignored). */
        out->type = op == 0x22 ? SVM_CR_MOV_TO : SVM_CR_MOV_FROM;
        out->cr = (uint8_t)(reg | ((rex & 4) ? 8 : 0));
        if (lock) {
            if (out->cr != 0)
                return false;
            out->cr = 8; /* AMD's alternative encoding of CR8 */
        }
        out->gpr = (uint8_t)(rm | ((rex & 1) ? 8 : 0));
        out->len = (uint8_t)(i + 3);
        return true;
    }
    if (op == 0x01 && reg == 6 && (modrm >> 6) == 3 && !lock) { /* LMSW r16 */
        out->type = SVM_CR_LMSW;
        out->gpr = (uint8_t)(rm | ((rex & 1) ? 8 : 0));
        out->len = (uint8_t)(i + 3);
        return true;
    }
    return false;
}

uint8_t svm_insn_len(const struct vmcb *v, bool nrips)
{
    if (!nrips)
        return 0;
    uint64_t len = v->control.next_rip - v->save.rip;
    return len >= 1 && len <= 15 ? (uint8_t)len : 0;
}

uint64_t svm_eventinj(uint8_t type, uint8_t vector, bool has_error, uint32_t error,
                      uint8_t insn_len, bool pe, uint8_t *rip_advance)
{
    uint32_t svm_type;
    *rip_advance = 0;
    switch (type) {
    case SVM_EV_EXT_INTR:
        svm_type = SVM_EVTINJ_TYPE_INTR;
        break;
    case SVM_EV_NMI:
        svm_type = SVM_EVTINJ_TYPE_NMI;
        vector = 2;
        break;
    case SVM_EV_SW_INTR:
        svm_type = SVM_EVTINJ_TYPE_SOFT;
        *rip_advance = insn_len;
        break;
    case SVM_EV_PRIV_SW_EXCEPT: /* ICEBP: #DB after the instruction */
    case SVM_EV_SW_EXCEPTION:   /* INT3, INTO: traps after the instruction */
        svm_type = SVM_EVTINJ_TYPE_EXEPT;
        *rip_advance = insn_len;
        break;
    default:
        svm_type = SVM_EVTINJ_TYPE_EXEPT;
        break;
    }
    uint64_t inj = SVM_EVTINJ_VALID | svm_type | vector;
    /* Only hardware exceptions push an error code (and not in real mode). */
    if (has_error && pe && type == SVM_EV_HW_EXCEPTION)
        inj |= SVM_EVTINJ_VALID_ERR | ((uint64_t)error << 32);
    return inj;
}

bool svm_exitintinfo_decode(uint64_t info, struct svm_event *out)
{
    memset(out, 0, sizeof(*out));
    if (!(info & SVM_EVTINJ_VALID))
        return false;
    switch ((uint32_t)info & SVM_EVTINJ_TYPE_MASK) {
    case SVM_EVTINJ_TYPE_INTR:
        out->type = SVM_EV_EXT_INTR;
        break;
    case SVM_EVTINJ_TYPE_NMI:
        out->type = SVM_EV_NMI;
        break;
    case SVM_EVTINJ_TYPE_EXEPT:
        out->type = SVM_EV_HW_EXCEPTION;
        break;
    case SVM_EVTINJ_TYPE_SOFT:
        out->type = SVM_EV_SW_INTR;
        break;
    default:
        return false;
    }
    out->vector = (uint8_t)(info & SVM_EVTINJ_VEC_MASK);
    out->has_error = info & SVM_EVTINJ_VALID_ERR;
    out->error = out->has_error ? (uint32_t)(info >> 32) : 0;
    return true;
}

#define AR_UNUSABLE (1U << 16)

uint32_t svm_attrib_to_ar(uint16_t attrib)
{
    uint32_t ar = (attrib & 0xffU) | ((uint32_t)(attrib & 0xf00U) << 4);
    if (!(attrib & VMCB_ATTR_P))
        ar |= AR_UNUSABLE;
    return ar;
}

uint16_t svm_ar_to_attrib(uint32_t ar)
{
    uint16_t attrib = (uint16_t)((ar & 0xffU) | ((ar >> 4) & 0xf00U));
    if (ar & AR_UNUSABLE)
        attrib &= (uint16_t)~VMCB_ATTR_P;
    return attrib;
}

void svm_set_irq_window(struct vmcb *v, bool on)
{
    struct vmcb_control_area *c = &v->control;
    if (on) {
        c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
        c->v_intr |= V_IRQ | V_IGN_TPR | (0xfU << V_INTR_PRIO_SHIFT);
    } else {
        c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
        c->v_intr &= ~(V_IRQ | V_IGN_TPR | (0xfU << V_INTR_PRIO_SHIFT));
    }
}

void svm_set_nmi_window(struct vmcb *v, bool on)
{
    if (on)
        v->control.intercept_misc1 |= SVM_INTERCEPT_IRET;
    else
        v->control.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
}
