/* Speculative-execution mitigations: what the CPU enumerates, what root
 * mode does about it (docs/security.md, "Speculative execution"). The
 * decision (spec_ctrl_decide) is a pure function of CPUID and
 * IA32_ARCH_CAPABILITIES, unit-tested in tests/unit/test_spec_ctrl.c; the
 * probe and the MSR writes are in spec_ctrl.c. */
#ifndef ARCH_X86_64_SPEC_CTRL_H
#define ARCH_X86_64_SPEC_CTRL_H

#include <stdbool.h>
#include <stdint.h>

/* CPUID.(EAX=7,ECX=0):EDX */
#define CPUID7_EDX_MD_CLEAR  (1U << 10)
#define CPUID7_EDX_IBRS_IBPB (1U << 26) /* IA32_SPEC_CTRL.IBRS and IA32_PRED_CMD exist */
#define CPUID7_EDX_STIBP     (1U << 27)
#define CPUID7_EDX_L1D_FLUSH (1U << 28)
#define CPUID7_EDX_ARCH_CAPS (1U << 29)
#define CPUID7_EDX_SSBD      (1U << 31)
/* CPUID.80000008H:EBX (AMD's enumeration of the same controls) */
#define EXT8_EBX_IBPB   (1U << 12)
#define EXT8_EBX_IBRS   (1U << 14)
#define EXT8_EBX_STIBP  (1U << 15)
#define EXT8_EBX_SSBD   (1U << 24)
#define EXT8_EBX_SSB_NO (1U << 26)
/* CPUID.(EAX=7,ECX=0):EBX */
#define CPUID7_EBX_RTM (1U << 11)
/* CPUID.(EAX=7,ECX=2):EDX */
#define CPUID7_2_EDX_RRSBA_CTRL (1U << 2)
#define CPUID7_2_EDX_BHI_CTRL   (1U << 4)

/* IA32_ARCH_CAPABILITIES (MSR 0x10A) */
#define ARCH_CAP_RDCL_NO            (1ULL << 0)
#define ARCH_CAP_IBRS_ALL           (1ULL << 1) /* enhanced IBRS */
#define ARCH_CAP_RSBA               (1ULL << 2)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ULL << 3)
#define ARCH_CAP_MDS_NO             (1ULL << 5)
#define ARCH_CAP_TAA_NO             (1ULL << 8)
#define ARCH_CAP_RRSBA              (1ULL << 19)
#define ARCH_CAP_BHI_NO             (1ULL << 20)
#define ARCH_CAP_RFDS_NO            (1ULL << 27)
#define ARCH_CAP_RFDS_CLEAR         (1ULL << 28)

/* IA32_SPEC_CTRL (MSR 0x48) */
#define SPEC_CTRL_IBRS        (1ULL << 0)
#define SPEC_CTRL_RRSBA_DIS_S (1ULL << 6)
#define SPEC_CTRL_BHI_DIS_S   (1ULL << 10)

struct spec_cpu {
    uint32_t cpuid7_ebx, cpuid7_edx; /* CPUID.(7,0); zero when leaf 7 is absent */
    uint32_t cpuid7_2_edx;           /* CPUID.(7,2):EDX; zero when subleaf 2 is absent */
    uint64_t arch_caps;              /* zero when CPUID7_EDX_ARCH_CAPS is clear */
};

enum spec_entry_flush {
    SPEC_ENTRY_NONE, /* not affected by L1TF, MDS, TAA or RFDS */
    SPEC_ENTRY_L1D,  /* IA32_FLUSH_CMD.L1D_FLUSH (also clears the MDS buffers) */
    SPEC_ENTRY_VERW, /* VERW: clears the CPU buffers (MD_CLEAR) */
};

/* How root mode keeps guest-trained branch history out of its return
 * predictions (root mode has no indirect jump or call: retpolines). */
enum spec_bhi {
    SPEC_BHI_NONE,        /* BHI_NO, or returns never fall back to the BTB */
    SPEC_BHI_DIS_S,       /* IA32_SPEC_CTRL.BHI_DIS_S */
    SPEC_BHI_RRSBA_DIS_S, /* IA32_SPEC_CTRL.RRSBA_DIS_S: returns use the RSB only */
    SPEC_BHI_CLEAR_LOOP,  /* the history-clearing sequence after every exit */
};

struct spec_plan {
    bool ibpb;  /* IA32_PRED_CMD.IBPB when a CPU changes VM */
    bool eibrs; /* IA32_SPEC_CTRL.IBRS set once per CPU */
    enum spec_bhi bhi;
    uint64_t spec_ctrl; /* value written on every CPU when spec_ctrl_write */
    bool spec_ctrl_write;
    enum spec_entry_flush entry; /* before every VM entry */
    /* Affected with nothing to mitigate it with (no microcode): said at boot. */
    bool l1tf_unmitigated, mds_unmitigated;
    /* Returns may use guest-trained BTB entries once the RSB runs empty
     * (RSBA without enhanced IBRS): only the RSB fill after exits helps. */
    bool rsb_underflow_exposed;
};

void spec_ctrl_decide(const struct spec_cpu *cpu, struct spec_plan *plan);

/* `spec.force=LIST` (boot option): run mitigations the CPU does not need,
 * to measure their cost or to test their code paths in an emulator that
 * enumerates nothing. LIST is comma-separated: verw, bhb_clear, l1d_flush.
 * Returns 0, or -1 on an unknown name (mask unchanged). */
#define SPEC_FORCE_VERW      (1U << 0)
#define SPEC_FORCE_BHB_CLEAR (1U << 1)
#define SPEC_FORCE_L1D_FLUSH (1U << 2)
int spec_ctrl_parse_force(const char *list, unsigned *mask);
/* Applies a force mask to a plan. l1d_flush needs IA32_FLUSH_CMD
 * (CPUID L1D_FLUSH): without it, it is dropped and false returned. */
bool spec_ctrl_apply_force(const struct spec_cpu *cpu, unsigned mask, struct spec_plan *plan);

/* One line naming what the plan does, e.g. "ibpb eibrs bhi_dis_s verw". */
void spec_ctrl_describe(const struct spec_plan *plan, char *buf, unsigned size);

#ifndef HOST_TEST
/* The plan for this machine, decided on the boot CPU (spec_ctrl_probe).
 * spec_plan.spec_ctrl is root mode's IA32_SPEC_CTRL on every CPU that
 * runs guests, wherever the MSR exists. */
extern struct spec_plan spec_plan;
/* What the boot CPU enumerates (spec_ctrl_probe), and its
 * CPUID.80000008H:EBX (AMD's speculation-control bits). */
extern struct spec_cpu spec_host;
extern uint32_t spec_host_ext8_ebx;
/* Read by vmx/vmx_entry.asm on every entry and exit. The entry byte is
 * laid out for SAHF: bit 6 (ZF) set means no VERW, bit 7 (SF) the L1D
 * flush. */
#define SPEC_ENTRY_FLAG_NO_VERW 0x40
#define SPEC_ENTRY_FLAG_L1D     0x80
extern uint8_t spec_entry_flags, spec_bhb_clear;
extern unsigned spec_force; /* SPEC_FORCE_*, from the boot option */
void spec_ctrl_probe(void);
/* Writes IA32_SPEC_CTRL on the calling CPU; every CPU that runs guests.
 * False: the CPU refused the plan's value (logged). */
bool spec_ctrl_init_cpu(void);
/* Called by a backend when the calling CPU loads a vCPU: a vCPU of another
 * VM than the last (or the first VM) gets an IBPB where the plan has one, so that
 * predictions trained by one VM cannot steer the next. vm_serial is the
 * VM's number, never reused (an undefined VM's object may be reused: its
 * address would not do). Counted per CPU for `spec`. */
void spec_vm_switch(uint64_t vm_serial);
unsigned long long spec_vm_switch_ibpbs(unsigned cpu);
#endif

#endif
