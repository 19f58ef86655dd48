/* Backend selection and the machine-level calls of vcpu/hvm.h. */
#include "vcpu/hvm.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/spec_guest.h"
#include "hvm/backend.h"
#include "lib/format.h"
#include "lib/string.h"

/* Probed in this order; the first that can run guests is used (VMX first:
 * an Intel CPU never has SVM, an AMD CPU never VMX). */
#define HVM_BACKEND_CANDIDATES &vmx_backend, &svm_backend

static const struct vcpu_backend *const candidates[] = {HVM_BACKEND_CANDIDATES};

const struct vcpu_backend *vcpu_backend = &vmx_backend;
static bool available;
static const char *reason = "not probed";

/* AMD's (and Hygon's) extension is SVM: when no backend can run guests,
 * the banner names the one this CPU's vendor would use. */
static const char *native_backend(void)
{
    struct cpuid_regs r = cpuid(0);
    bool amd = (r.ebx == 0x68747541 && r.edx == 0x69746e65 && r.ecx == 0x444d4163) ||
               (r.ebx == 0x6f677948 && r.edx == 0x6e65476e && r.ecx == 0x656e6975);
    return amd ? "svm" : "vmx";
}

void hvm_init(void)
{
    const char *native = native_backend();
    unsigned shown = 0;
    const char *shown_reason = "unknown";
    for (unsigned i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        const char *why = "unknown";
        if (candidates[i]->probe(&why)) {
            vcpu_backend = candidates[i];
            available = true;
            reason = NULL;
            /* What guests see of the speculation controls depends on
             * whether this backend switches IA32_SPEC_CTRL. */
            spec_guest_init(vcpu_backend->spec_ctrl_load != NULL);
            return;
        }
        if (i == 0 || !strcmp(candidates[i]->name, native)) {
            shown = i;
            shown_reason = why ? why : "unknown";
        }
    }
    vcpu_backend = candidates[shown];
    available = false;
    reason = shown_reason;
}

bool hvm_available(void)
{
    return available;
}

const char *hvm_unavailable_reason(void)
{
    return available ? "" : reason;
}

void hvm_describe(char *buf, unsigned len)
{
    char what[160];
    if (available)
        vcpu_backend->describe(what, sizeof(what));
    else
        fmt_snprintf(what, sizeof(what), "unavailable (%s)", reason);
    fmt_snprintf(buf, len, "%s: %s", vcpu_backend->name, what);
}

int hvm_cpu_enable(void)
{
    return available ? vcpu_backend->cpu_enable() : -1;
}

void hvm_disable_all_cpus(void)
{
    if (available)
        vcpu_backend->disable_all_cpus();
}

const struct ept_format *hvm_npt_format(void)
{
    return available ? vcpu_backend->npt_format : NULL;
}

void hvm_npt_page_sizes(bool *pg_2m, bool *pg_1g)
{
    *pg_2m = *pg_1g = false;
    if (available)
        vcpu_backend->npt_page_sizes(pg_2m, pg_1g);
}

int hvm_set_option(const char *option, const char *value)
{
    for (unsigned i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        const char *name = candidates[i]->name;
        size_t n = strlen(name);
        if (strncmp(option, name, n) || option[n] != '.')
            continue;
        return candidates[i]->set_option(option + n + 1, value);
    }
    return 0;
}
