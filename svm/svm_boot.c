/* SVM detection and self-test at boot; see svm_boot.h. */
#include "svm/svm_boot.h"

#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "svm/svm_caps.h"

static bool amd_cpu(void)
{
    struct cpuid_regs r = cpuid(0);
    /* "AuthenticAMD" (or Hygon's "HygonGenuine", an SVM CPU too). */
    return (r.ebx == 0x68747541 && r.edx == 0x69746e65 && r.ecx == 0x444d4163) ||
           (r.ebx == 0x6f677948 && r.edx == 0x6e65476e && r.ecx == 0x656e6975);
}

void svm_boot_init(void)
{
    char line[160];
    svm_caps_probe();
    if (!svm_caps.available && !amd_cpu())
        return; /* an Intel CPU: not worth a line */
    svm_caps_banner(&svm_caps, line, sizeof(line));
    if (!svm_caps.available) {
        pr_info("%s", line);
        return;
    }
    pr_info("%s (revision %u, %u ASIDs)", line, svm_caps.revision, svm_caps.nr_asids);
    svm_selftest();
}
