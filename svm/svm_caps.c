/* Pure decoding of the SVM capability bits; see svm_caps.h. */
#include "svm/svm_caps.h"

#include "lib/format.h"
#include "lib/string.h"

struct svm_caps svm_caps;

static void unavailable(struct svm_caps *c, const char *why)
{
    c->available = false;
    str_copy(c->reason, why, sizeof(c->reason));
}

void svm_caps_decode(struct svm_caps *c, const struct svm_cpuid_in *in)
{
    memset(c, 0, sizeof(*c));
    if (in->max_ext_leaf < 0x80000001 || !(in->ext1_ecx & CPUID_80000001_ECX_SVM)) {
        unavailable(c, "no SVM in CPUID");
        return;
    }
    if (in->max_ext_leaf < 0x8000000a) {
        unavailable(c, "no SVM in CPUID (leaf 0x8000000A missing)");
        return;
    }
    if (!in->vm_cr_readable) {
        unavailable(c, "VM_CR MSR unreadable");
        return;
    }
    /* SVMDIS with LOCK: firmware turned SVM off and only it can undo it. */
    if ((in->vm_cr & VM_CR_SVMDIS) && (in->vm_cr & VM_CR_LOCK)) {
        unavailable(c, "disabled by firmware (VM_CR.SVMDIS with LOCK)");
        return;
    }
    c->svmdis_to_clear = in->vm_cr & VM_CR_SVMDIS;
    c->revision = in->leaf_a_eax & 0xff;
    c->nr_asids = in->leaf_a_ebx;
    c->features = in->leaf_a_edx;
    uint32_t f = c->features;
    c->np = f & SVM_FEAT_NP;
    c->nrips = f & SVM_FEAT_NRIPS;
    c->decode_assists = f & SVM_FEAT_DECODE_ASSISTS;
    c->vmcb_clean = f & SVM_FEAT_VMCB_CLEAN;
    c->flush_by_asid = f & SVM_FEAT_FLUSH_BY_ASID;
    c->tsc_rate = f & SVM_FEAT_TSC_RATE;
    c->lbr_virt = f & SVM_FEAT_LBRV;
    c->pause_filter = f & SVM_FEAT_PAUSE_FILTER;
    c->avic = f & SVM_FEAT_AVIC;
    c->vgif = f & SVM_FEAT_VGIF;
    c->vnmi = f & SVM_FEAT_VNMI;
    /* Guest memory isolation is built on nested paging; shadow paging is
     * not implemented. */
    if (!c->np) {
        unavailable(c, "no nested paging");
        return;
    }
    /* ASID 0 is the host's: a guest needs at least one more. */
    if (c->nr_asids < 2) {
        unavailable(c, "no guest ASID (CPUID 0x8000000A EBX < 2)");
        return;
    }
    c->available = true;
}

void svm_caps_banner(const struct svm_caps *c, char *buf, unsigned len)
{
    static const struct {
        const char *name;
        size_t offset;
    } feats[] = {
        {"npt", __builtin_offsetof(struct svm_caps, np)},
        {"nrips", __builtin_offsetof(struct svm_caps, nrips)},
        {"decode-assists", __builtin_offsetof(struct svm_caps, decode_assists)},
        {"vmcb-clean", __builtin_offsetof(struct svm_caps, vmcb_clean)},
        {"flush-by-asid", __builtin_offsetof(struct svm_caps, flush_by_asid)},
        {"tsc-rate", __builtin_offsetof(struct svm_caps, tsc_rate)},
        {"lbr-virt", __builtin_offsetof(struct svm_caps, lbr_virt)},
        {"pause-filter", __builtin_offsetof(struct svm_caps, pause_filter)},
        {"avic", __builtin_offsetof(struct svm_caps, avic)},
        {"vgif", __builtin_offsetof(struct svm_caps, vgif)},
        {"vnmi", __builtin_offsetof(struct svm_caps, vnmi)},
    };
    if (!len)
        return;
    if (!c->available) {
        fmt_snprintf(buf, len, "svm: unavailable (%s)", c->reason[0] ? c->reason : "not probed");
        return;
    }
    int n = fmt_snprintf(buf, len, "svm:");
    unsigned off = n > 0 ? (unsigned)n : 0;
    bool first = true;
    for (unsigned i = 0; i < sizeof(feats) / sizeof(feats[0]) && off < len; i++) {
        if (!*((const bool *)((const char *)c + feats[i].offset)))
            continue;
        n = fmt_snprintf(buf + off, len - off, "%s %s", first ? "" : ",", feats[i].name);
        if (n < 0 || off + (unsigned)n >= len) {
            buf[off] = '\0'; /* never a feature name cut in half */
            break;
        }
        off += (unsigned)n;
        first = false;
    }
}
