/* Exit-code names as the AMD APM (appendix C) spells them, for the
 * statistics, the console and error reports. */
#include "svm/vmcb.h"

#define N16(pre, post)                                                                             \
    pre "0" post, pre "1" post, pre "2" post, pre "3" post, pre "4" post, pre "5" post,            \
        pre "6" post, pre "7" post, pre "8" post, pre "9" post, pre "10" post, pre "11" post,      \
        pre "12" post, pre "13" post, pre "14" post, pre "15" post

#define N16_HI(pre)                                                                                \
    pre "16", pre "17", pre "18", pre "19", pre "20", pre "21", pre "22", pre "23", pre "24",      \
        pre "25", pre "26", pre "27", pre "28", pre "29", pre "30", pre "31"

/* 0x000 - 0x05f: CRn/DRn reads and writes, then exception vectors. */
static const char *const ranged[0x60] = {
    N16("VMEXIT_CR", "_READ"),  N16("VMEXIT_CR", "_WRITE"), N16("VMEXIT_DR", "_READ"),
    N16("VMEXIT_DR", "_WRITE"), N16("VMEXIT_EXCP", ""),     N16_HI("VMEXIT_EXCP"),
};

static const char *const cr_write_traps[16] = {N16("VMEXIT_CR", "_WRITE_TRAP")};

/* 0x060 - 0x0a4. */
static const char *const named[] = {
    [VMEXIT_INTR - 0x60] = "VMEXIT_INTR",
    [VMEXIT_NMI - 0x60] = "VMEXIT_NMI",
    [VMEXIT_SMI - 0x60] = "VMEXIT_SMI",
    [VMEXIT_INIT - 0x60] = "VMEXIT_INIT",
    [VMEXIT_VINTR - 0x60] = "VMEXIT_VINTR",
    [VMEXIT_CR0_SEL_WRITE - 0x60] = "VMEXIT_CR0_SEL_WRITE",
    [VMEXIT_IDTR_READ - 0x60] = "VMEXIT_IDTR_READ",
    [VMEXIT_GDTR_READ - 0x60] = "VMEXIT_GDTR_READ",
    [VMEXIT_LDTR_READ - 0x60] = "VMEXIT_LDTR_READ",
    [VMEXIT_TR_READ - 0x60] = "VMEXIT_TR_READ",
    [VMEXIT_IDTR_WRITE - 0x60] = "VMEXIT_IDTR_WRITE",
    [VMEXIT_GDTR_WRITE - 0x60] = "VMEXIT_GDTR_WRITE",
    [VMEXIT_LDTR_WRITE - 0x60] = "VMEXIT_LDTR_WRITE",
    [VMEXIT_TR_WRITE - 0x60] = "VMEXIT_TR_WRITE",
    [VMEXIT_RDTSC - 0x60] = "VMEXIT_RDTSC",
    [VMEXIT_RDPMC - 0x60] = "VMEXIT_RDPMC",
    [VMEXIT_PUSHF - 0x60] = "VMEXIT_PUSHF",
    [VMEXIT_POPF - 0x60] = "VMEXIT_POPF",
    [VMEXIT_CPUID - 0x60] = "VMEXIT_CPUID",
    [VMEXIT_RSM - 0x60] = "VMEXIT_RSM",
    [VMEXIT_IRET - 0x60] = "VMEXIT_IRET",
    [VMEXIT_SWINT - 0x60] = "VMEXIT_SWINT",
    [VMEXIT_INVD - 0x60] = "VMEXIT_INVD",
    [VMEXIT_PAUSE - 0x60] = "VMEXIT_PAUSE",
    [VMEXIT_HLT - 0x60] = "VMEXIT_HLT",
    [VMEXIT_INVLPG - 0x60] = "VMEXIT_INVLPG",
    [VMEXIT_INVLPGA - 0x60] = "VMEXIT_INVLPGA",
    [VMEXIT_IOIO - 0x60] = "VMEXIT_IOIO",
    [VMEXIT_MSR - 0x60] = "VMEXIT_MSR",
    [VMEXIT_TASK_SWITCH - 0x60] = "VMEXIT_TASK_SWITCH",
    [VMEXIT_FERR_FREEZE - 0x60] = "VMEXIT_FERR_FREEZE",
    [VMEXIT_SHUTDOWN - 0x60] = "VMEXIT_SHUTDOWN",
    [VMEXIT_VMRUN - 0x60] = "VMEXIT_VMRUN",
    [VMEXIT_VMMCALL - 0x60] = "VMEXIT_VMMCALL",
    [VMEXIT_VMLOAD - 0x60] = "VMEXIT_VMLOAD",
    [VMEXIT_VMSAVE - 0x60] = "VMEXIT_VMSAVE",
    [VMEXIT_STGI - 0x60] = "VMEXIT_STGI",
    [VMEXIT_CLGI - 0x60] = "VMEXIT_CLGI",
    [VMEXIT_SKINIT - 0x60] = "VMEXIT_SKINIT",
    [VMEXIT_RDTSCP - 0x60] = "VMEXIT_RDTSCP",
    [VMEXIT_ICEBP - 0x60] = "VMEXIT_ICEBP",
    [VMEXIT_WBINVD - 0x60] = "VMEXIT_WBINVD",
    [VMEXIT_MONITOR - 0x60] = "VMEXIT_MONITOR",
    [VMEXIT_MWAIT - 0x60] = "VMEXIT_MWAIT",
    [VMEXIT_MWAIT_CONDITIONAL - 0x60] = "VMEXIT_MWAIT_CONDITIONAL",
    [VMEXIT_XSETBV - 0x60] = "VMEXIT_XSETBV",
    [VMEXIT_RDPRU - 0x60] = "VMEXIT_RDPRU",
    [VMEXIT_EFER_WRITE_TRAP - 0x60] = "VMEXIT_EFER_WRITE_TRAP",
    [VMEXIT_INVLPGB - 0x60] = "VMEXIT_INVLPGB",
    [VMEXIT_INVLPGB_ILLEGAL - 0x60] = "VMEXIT_INVLPGB_ILLEGAL",
    [VMEXIT_INVPCID - 0x60] = "VMEXIT_INVPCID",
    [VMEXIT_MCOMMIT - 0x60] = "VMEXIT_MCOMMIT",
    [VMEXIT_TLBSYNC - 0x60] = "VMEXIT_TLBSYNC",
};

const char *svm_exit_name(uint64_t code)
{
    if (code < 0x60)
        return ranged[code];
    if (code >= VMEXIT_CR0_WRITE_TRAP && code < VMEXIT_CR0_WRITE_TRAP + 16)
        return cr_write_traps[code - VMEXIT_CR0_WRITE_TRAP];
    if (code - 0x60 < sizeof(named) / sizeof(named[0]) && named[code - 0x60])
        return named[code - 0x60];
    switch (code) {
    case VMEXIT_NPF:
        return "VMEXIT_NPF";
    case VMEXIT_AVIC_INCOMPLETE_IPI:
        return "VMEXIT_AVIC_INCOMPLETE_IPI";
    case VMEXIT_AVIC_NOACCEL:
        return "VMEXIT_AVIC_NOACCEL";
    case VMEXIT_VMGEXIT:
        return "VMEXIT_VMGEXIT";
    case VMEXIT_INVALID:
        return "VMEXIT_INVALID";
    case VMEXIT_BUSY:
        return "VMEXIT_BUSY";
    default:
        return "VMEXIT_UNKNOWN";
    }
}
