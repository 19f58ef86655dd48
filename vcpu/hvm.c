/* Backend selection and the machine-level calls of vcpu/hvm.h. */
#include "vcpu/hvm.h"

#include "hvm/backend.h"
#include "lib/format.h"
#include "lib/string.h"

/* Probed in this order; the first that can run guests is used. An SVM
 * backend adds `&svm_backend` here (and its extern in hvm/backend.h). */
#define HVM_BACKEND_CANDIDATES &vmx_backend

static const struct vcpu_backend *const candidates[] = {HVM_BACKEND_CANDIDATES};

const struct vcpu_backend *vcpu_backend = &vmx_backend;
static bool available;
static const char *reason = "not probed";

void hvm_init(void)
{
    const char *first_reason = NULL;
    svm_boot_init();
    for (unsigned i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        const char *why = "unknown";
        if (candidates[i]->probe(&why)) {
            vcpu_backend = candidates[i];
            available = true;
            reason = NULL;
            return;
        }
        if (!first_reason)
            first_reason = why;
    }
    vcpu_backend = candidates[0];
    available = false;
    reason = first_reason;
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
