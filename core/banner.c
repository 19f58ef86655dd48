#include "core/banner.h"

#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "core/command.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vcpu/hvm.h"

static struct banner_facts facts;

void banner_set_facts(const struct banner_facts *f)
{
    facts = *f;
}

static void cpu_description(char *buf, size_t len)
{
    struct cpuid_regs r = cpuid(0);
    char vendor[13];
    memcpy(vendor, &r.ebx, 4);
    memcpy(vendor + 4, &r.edx, 4);
    memcpy(vendor + 8, &r.ecx, 4);
    vendor[12] = '\0';

    struct cpuid_regs sig = cpuid(1);
    unsigned family = (sig.eax >> 8) & 0xf, model = (sig.eax >> 4) & 0xf;
    if (family == 0xf)
        family += (sig.eax >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf)
        model |= ((sig.eax >> 16) & 0xf) << 4;

    char brand[49] = "";
    if (cpuid(0x80000000).eax >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++) {
            struct cpuid_regs b = cpuid(0x80000002 + i);
            memcpy(brand + 16 * i, &b, 16);
        }
        brand[48] = '\0';
    }
    const char *bp = brand;
    while (*bp == ' ')
        bp++;
    if (*bp)
        fmt_snprintf(buf, len, "%s %s (family %u model %u)", vendor, bp, family, model);
    else
        fmt_snprintf(buf, len, "%s family %u model %u", vendor, family, model);
}

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_puts(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void banner_print(void)
{
    char cpu[160], hvm[180];

    cpu_description(cpu, sizeof(cpu));
    hvm_describe(hvm, sizeof(hvm));
    line("bulkhead %s (%s)\n", BULKHEAD_VERSION, BULKHEAD_GIT);
    line("cpu: %s, %u cpus, %s\n", cpu, nr_cpus, hvm);
    line("mem: %llu MiB usable in %u regions\n", (unsigned long long)(facts.usable_bytes >> 20),
         facts.usable_regions);
    if (acpi.present) {
        char sigs[32 * 5 + 1] = "";
        unsigned off = 0;
        for (unsigned i = 0; i < acpi.nr_tables && off + 6 < sizeof(sigs); i++)
            off += (unsigned)fmt_snprintf(sigs + off, sizeof(sigs) - off, "%s%s", i ? " " : "",
                                          acpi.tables[i].sig);
        line("acpi: %s\n", sigs);
    } else {
        line("acpi: none\n");
    }
    if (acpi.has_dmar && acpi.nr_drhd)
        line("iommu: vt-d, %u units\n", acpi.nr_drhd);
    else
        line("iommu: none\n");
    line("pci: %u devices\n", pci_count());
}

static int cmd_version(int argc, char **argv)
{
    banner_print();
    return 0;
}
COMMAND("version", "", "print the version and the boot banner", cmd_version);
