/* The Virtual Machine Control Block (AMD64 APM vol. 2, appendix B "Layout
 * of VMCB"): a 4 KiB page, control area at 0x000, state-save area at 0x400.
 * Offsets are asserted below against the appendix tables; names follow the
 * APM (VMEXIT_* exit codes, EVENTINJ, EXITINTINFO, TLB_CONTROL, ...). */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <stdint.h>

/* --- Control area (table B-1) ------------------------------------------- */

/* Intercept vector 3 (offset 0x00c). */
#define SVM_INTERCEPT_INTR          (1U << 0)
#define SVM_INTERCEPT_NMI           (1U << 1)
#define SVM_INTERCEPT_SMI           (1U << 2)
#define SVM_INTERCEPT_INIT          (1U << 3)
#define SVM_INTERCEPT_VINTR         (1U << 4)
#define SVM_INTERCEPT_CR0_SEL_WRITE (1U << 5)
#define SVM_INTERCEPT_IDTR_READ     (1U << 6)
#define SVM_INTERCEPT_GDTR_READ     (1U << 7)
#define SVM_INTERCEPT_LDTR_READ     (1U << 8)
#define SVM_INTERCEPT_TR_READ       (1U << 9)
#define SVM_INTERCEPT_IDTR_WRITE    (1U << 10)
#define SVM_INTERCEPT_GDTR_WRITE    (1U << 11)
#define SVM_INTERCEPT_LDTR_WRITE    (1U << 12)
#define SVM_INTERCEPT_TR_WRITE      (1U << 13)
#define SVM_INTERCEPT_RDTSC         (1U << 14)
#define SVM_INTERCEPT_RDPMC         (1U << 15)
#define SVM_INTERCEPT_PUSHF         (1U << 16)
#define SVM_INTERCEPT_POPF          (1U << 17)
#define SVM_INTERCEPT_CPUID         (1U << 18)
#define SVM_INTERCEPT_RSM           (1U << 19)
#define SVM_INTERCEPT_IRET          (1U << 20)
#define SVM_INTERCEPT_INTN          (1U << 21)
#define SVM_INTERCEPT_INVD          (1U << 22)
#define SVM_INTERCEPT_PAUSE         (1U << 23)
#define SVM_INTERCEPT_HLT           (1U << 24)
#define SVM_INTERCEPT_INVLPG        (1U << 25)
#define SVM_INTERCEPT_INVLPGA       (1U << 26)
#define SVM_INTERCEPT_IOIO_PROT     (1U << 27)
#define SVM_INTERCEPT_MSR_PROT      (1U << 28)
#define SVM_INTERCEPT_TASK_SWITCH   (1U << 29)
#define SVM_INTERCEPT_FERR_FREEZE   (1U << 30)
#define SVM_INTERCEPT_SHUTDOWN      (1U << 31)

/* Intercept vector 4 (offset 0x010). */
#define SVM_INTERCEPT_VMRUN           (1U << 0)
#define SVM_INTERCEPT_VMMCALL         (1U << 1)
#define SVM_INTERCEPT_VMLOAD          (1U << 2)
#define SVM_INTERCEPT_VMSAVE          (1U << 3)
#define SVM_INTERCEPT_STGI            (1U << 4)
#define SVM_INTERCEPT_CLGI            (1U << 5)
#define SVM_INTERCEPT_SKINIT          (1U << 6)
#define SVM_INTERCEPT_RDTSCP          (1U << 7)
#define SVM_INTERCEPT_ICEBP           (1U << 8)
#define SVM_INTERCEPT_WBINVD          (1U << 9)
#define SVM_INTERCEPT_MONITOR         (1U << 10)
#define SVM_INTERCEPT_MWAIT           (1U << 11)
#define SVM_INTERCEPT_MWAIT_COND      (1U << 12)
#define SVM_INTERCEPT_XSETBV          (1U << 13)
#define SVM_INTERCEPT_RDPRU           (1U << 14)
#define SVM_INTERCEPT_EFER_WRITE_TRAP (1U << 15)
/* Bits 16-31: CR0-CR15 write traps (after the write). */

/* Intercept vector 5 (offset 0x014). */
#define SVM_INTERCEPT_INVLPGB         (1U << 0)
#define SVM_INTERCEPT_INVLPGB_ILLEGAL (1U << 1)
#define SVM_INTERCEPT_INVPCID         (1U << 2)
#define SVM_INTERCEPT_MCOMMIT         (1U << 3)
#define SVM_INTERCEPT_TLBSYNC         (1U << 4)

/* TLB_CONTROL (offset 0x05c). */
#define TLB_CONTROL_DO_NOTHING       0
#define TLB_CONTROL_FLUSH_ALL_ASID   1 /* every ASID, every entry */
#define TLB_CONTROL_FLUSH_ASID       3 /* this guest's ASID (FlushByAsid) */
#define TLB_CONTROL_FLUSH_ASID_LOCAL 7 /* ... except global entries */

/* V_INTR control (offset 0x060). */
#define V_TPR_MASK        0xffU
#define V_IRQ             (1U << 8)
#define V_GIF             (1U << 9)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR         (1U << 20)
#define V_INTR_MASKING    (1U << 24)
#define V_GIF_ENABLE      (1U << 25)
#define AVIC_ENABLE       (1U << 31)

/* Interrupt state (offset 0x068). */
#define SVM_INTERRUPT_SHADOW (1U << 0)
#define SVM_GUEST_INT_MASK   (1U << 1)

/* Nested-paging control (offset 0x090). */
#define SVM_NESTED_CTL_NP_ENABLE     (1ULL << 0)
#define SVM_NESTED_CTL_SEV_ENABLE    (1ULL << 1)
#define SVM_NESTED_CTL_SEV_ES_ENABLE (1ULL << 2)

/* Virtualized extensions (offset 0x0b8). */
#define SVM_VIRT_EXT_LBR           (1ULL << 0)
#define SVM_VIRT_EXT_VMLOAD_VMSAVE (1ULL << 1)

/* EVENTINJ (offset 0x0a8) and EXITINTINFO (offset 0x088) share a format
 * (APM 15.20): vector, type, error-code valid, valid; error code in 63:32. */
#define SVM_EVTINJ_VEC_MASK   0xffU
#define SVM_EVTINJ_TYPE_SHIFT 8
#define SVM_EVTINJ_TYPE_MASK  (7U << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_INTR  (0U << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_NMI   (2U << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_EXEPT (3U << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_SOFT  (4U << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_VALID_ERR  (1U << 11)
#define SVM_EVTINJ_VALID      (1U << 31)

/* EXITINFO1 of VMEXIT_IOIO (APM 15.10.2). */
#define SVM_IOIO_TYPE_IN    (1U << 0)
#define SVM_IOIO_STR        (1U << 2)
#define SVM_IOIO_REP        (1U << 3)
#define SVM_IOIO_SZ8        (1U << 4)
#define SVM_IOIO_SZ16       (1U << 5)
#define SVM_IOIO_SZ32       (1U << 6)
#define SVM_IOIO_A16        (1U << 7)
#define SVM_IOIO_A32        (1U << 8)
#define SVM_IOIO_A64        (1U << 9)
#define SVM_IOIO_SEG_SHIFT  10 /* with DecodeAssists */
#define SVM_IOIO_SEG_MASK   (7U << SVM_IOIO_SEG_SHIFT)
#define SVM_IOIO_PORT_SHIFT 16

/* EXITINFO1 of VMEXIT_NPF: a #PF-style error code plus where it happened. */
#define SVM_NPF_P          (1ULL << 0)
#define SVM_NPF_WRITE      (1ULL << 1)
#define SVM_NPF_USER       (1ULL << 2)
#define SVM_NPF_RSVD       (1ULL << 3)
#define SVM_NPF_FETCH      (1ULL << 4)
#define SVM_NPF_FINAL_GPA  (1ULL << 32) /* the access's own address */
#define SVM_NPF_GUEST_WALK (1ULL << 33) /* a guest page-table access */

/* EXITINFO1 of VMEXIT_MSR: 0 RDMSR, 1 WRMSR. EXITINFO1 of a CR access with
 * DecodeAssists: bit 63 MOV, bits 3:0 the GPR. */
#define SVM_EXITINFO1_CR_MOV     (1ULL << 63)
#define SVM_EXITINFO1_CR_GPR_MSK 0xfULL

struct __attribute__((packed)) vmcb_control_area {
    uint32_t intercept_cr;         /* 0x000: 15:0 reads, 31:16 writes */
    uint32_t intercept_dr;         /* 0x004: 15:0 reads, 31:16 writes */
    uint32_t intercept_exceptions; /* 0x008: one bit per vector */
    uint32_t intercept_misc1;      /* 0x00c: SVM_INTERCEPT_INTR ... SHUTDOWN */
    uint32_t intercept_misc2;      /* 0x010: SVM_INTERCEPT_VMRUN ... */
    uint32_t intercept_misc3;      /* 0x014: SVM_INTERCEPT_INVLPGB ... */
    uint8_t reserved_018[0x03c - 0x018];
    uint16_t pause_filter_thresh; /* 0x03c */
    uint16_t pause_filter_count;  /* 0x03e */
    uint64_t iopm_base_pa;        /* 0x040 */
    uint64_t msrpm_base_pa;       /* 0x048 */
    uint64_t tsc_offset;          /* 0x050 */
    uint32_t guest_asid;          /* 0x058 */
    uint8_t tlb_control;          /* 0x05c */
    uint8_t reserved_05d[3];
    uint32_t v_intr;          /* 0x060: V_TPR, V_IRQ, ... */
    uint32_t v_intr_vector;   /* 0x064 */
    uint32_t interrupt_state; /* 0x068: interrupt shadow, guest IF mask */
    uint32_t reserved_06c;
    uint64_t exit_code;     /* 0x070: VMEXIT_* */
    uint64_t exit_info_1;   /* 0x078 */
    uint64_t exit_info_2;   /* 0x080 */
    uint64_t exit_int_info; /* 0x088: EXITINTINFO */
    uint64_t nested_ctl;    /* 0x090: NP_ENABLE, SEV */
    uint64_t avic_apic_bar; /* 0x098 */
    uint64_t ghcb_pa;       /* 0x0a0 */
    uint64_t event_inj;     /* 0x0a8: EVENTINJ */
    uint64_t nested_cr3;    /* 0x0b0: nCR3 */
    uint64_t virt_ext;      /* 0x0b8: LBR virtualization, ... */
    uint32_t vmcb_clean;    /* 0x0c0 */
    uint32_t reserved_0c4;
    uint64_t next_rip;          /* 0x0c8: nRIP (NRIPS) */
    uint8_t insn_len;           /* 0x0d0: bytes fetched (DecodeAssists) */
    uint8_t insn_bytes[15];     /* 0x0d1 */
    uint64_t avic_backing_page; /* 0x0e0 */
    uint64_t reserved_0e8;
    uint64_t avic_logical_id;  /* 0x0f0 */
    uint64_t avic_physical_id; /* 0x0f8 */
    uint64_t reserved_100;
    uint64_t vmsa_pa; /* 0x108 (SEV-ES) */
    uint8_t reserved_110[0x400 - 0x110];
};

/* A segment register in the state-save area. attrib is the descriptor's
 * access byte (bits 7:0: type, S, DPL, P) and its flags nibble (bits 11:8:
 * AVL, L, D/B, G): "compressed" against VMX's access-rights format. */
struct __attribute__((packed)) vmcb_seg {
    uint16_t selector;
    uint16_t attrib;
    uint32_t limit;
    uint64_t base;
};

#define VMCB_ATTR_TYPE_MASK 0x000fU
#define VMCB_ATTR_S         (1U << 4)
#define VMCB_ATTR_DPL_SHIFT 5
#define VMCB_ATTR_P         (1U << 7)
#define VMCB_ATTR_AVL       (1U << 8)
#define VMCB_ATTR_L         (1U << 9)
#define VMCB_ATTR_DB        (1U << 10)
#define VMCB_ATTR_G         (1U << 11)

/* --- State-save area (table B-2, offsets from 0x400) --------------------- */
struct __attribute__((packed)) vmcb_save_area {
    struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x000 - 0x05f */
    struct vmcb_seg gdtr, ldtr, idtr, tr;   /* 0x060 - 0x09f */
    uint8_t reserved_0a0[0x0cb - 0x0a0];
    uint8_t cpl; /* 0x0cb */
    uint32_t reserved_0cc;
    uint64_t efer; /* 0x0d0 */
    uint8_t reserved_0d8[0x148 - 0x0d8];
    uint64_t cr4;    /* 0x148 */
    uint64_t cr3;    /* 0x150 */
    uint64_t cr0;    /* 0x158 */
    uint64_t dr7;    /* 0x160 */
    uint64_t dr6;    /* 0x168 */
    uint64_t rflags; /* 0x170 */
    uint64_t rip;    /* 0x178 */
    uint8_t reserved_180[0x1d8 - 0x180];
    uint64_t rsp;            /* 0x1d8 */
    uint64_t s_cet;          /* 0x1e0 */
    uint64_t ssp;            /* 0x1e8 */
    uint64_t isst_addr;      /* 0x1f0 */
    uint64_t rax;            /* 0x1f8 */
    uint64_t star;           /* 0x200 */
    uint64_t lstar;          /* 0x208 */
    uint64_t cstar;          /* 0x210 */
    uint64_t sfmask;         /* 0x218 */
    uint64_t kernel_gs_base; /* 0x220 */
    uint64_t sysenter_cs;    /* 0x228 */
    uint64_t sysenter_esp;   /* 0x230 */
    uint64_t sysenter_eip;   /* 0x238 */
    uint64_t cr2;            /* 0x240 */
    uint8_t reserved_248[0x268 - 0x248];
    uint64_t g_pat;          /* 0x268: guest PAT (nested paging) */
    uint64_t dbgctl;         /* 0x270 */
    uint64_t br_from;        /* 0x278 */
    uint64_t br_to;          /* 0x280 */
    uint64_t last_excp_from; /* 0x288 */
    uint64_t last_excp_to;   /* 0x290 */
    uint8_t reserved_298[0x2e0 - 0x298];
    uint64_t spec_ctrl; /* 0x2e0: guest SPEC_CTRL (V_SPEC_CTRL) */
    uint8_t reserved_2e8[0xc00 - 0x2e8];
};

struct __attribute__((packed, aligned(4096))) vmcb {
    struct vmcb_control_area control;
    struct vmcb_save_area save;
};

#define VMCB_CTL_OFF(f)  __builtin_offsetof(struct vmcb_control_area, f)
#define VMCB_SAVE_OFF(f) __builtin_offsetof(struct vmcb_save_area, f)
_Static_assert(VMCB_CTL_OFF(intercept_misc1) == 0x00c, "intercept vector 3");
_Static_assert(VMCB_CTL_OFF(intercept_misc3) == 0x014, "intercept vector 5");
_Static_assert(VMCB_CTL_OFF(pause_filter_thresh) == 0x03c, "PAUSE filter threshold");
_Static_assert(VMCB_CTL_OFF(iopm_base_pa) == 0x040, "IOPM_BASE_PA");
_Static_assert(VMCB_CTL_OFF(msrpm_base_pa) == 0x048, "MSRPM_BASE_PA");
_Static_assert(VMCB_CTL_OFF(tsc_offset) == 0x050, "TSC_OFFSET");
_Static_assert(VMCB_CTL_OFF(guest_asid) == 0x058, "guest ASID");
_Static_assert(VMCB_CTL_OFF(tlb_control) == 0x05c, "TLB_CONTROL");
_Static_assert(VMCB_CTL_OFF(v_intr) == 0x060, "V_TPR/V_IRQ");
_Static_assert(VMCB_CTL_OFF(interrupt_state) == 0x068, "interrupt shadow");
_Static_assert(VMCB_CTL_OFF(exit_code) == 0x070, "EXITCODE");
_Static_assert(VMCB_CTL_OFF(exit_info_1) == 0x078, "EXITINFO1");
_Static_assert(VMCB_CTL_OFF(exit_info_2) == 0x080, "EXITINFO2");
_Static_assert(VMCB_CTL_OFF(exit_int_info) == 0x088, "EXITINTINFO");
_Static_assert(VMCB_CTL_OFF(nested_ctl) == 0x090, "NP_ENABLE");
_Static_assert(VMCB_CTL_OFF(event_inj) == 0x0a8, "EVENTINJ");
_Static_assert(VMCB_CTL_OFF(nested_cr3) == 0x0b0, "N_CR3");
_Static_assert(VMCB_CTL_OFF(virt_ext) == 0x0b8, "LBR virtualization");
_Static_assert(VMCB_CTL_OFF(vmcb_clean) == 0x0c0, "VMCB clean bits");
_Static_assert(VMCB_CTL_OFF(next_rip) == 0x0c8, "nRIP");
_Static_assert(VMCB_CTL_OFF(insn_len) == 0x0d0, "number of bytes fetched");
_Static_assert(VMCB_CTL_OFF(avic_backing_page) == 0x0e0, "AVIC backing page");
_Static_assert(VMCB_CTL_OFF(vmsa_pa) == 0x108, "VMSA pointer");
_Static_assert(sizeof(struct vmcb_control_area) == 0x400, "control area is 1 KiB");
_Static_assert(sizeof(struct vmcb_seg) == 16, "segment register");
_Static_assert(VMCB_SAVE_OFF(cs) == 0x010, "CS");
_Static_assert(VMCB_SAVE_OFF(gdtr) == 0x060, "GDTR");
_Static_assert(VMCB_SAVE_OFF(tr) == 0x090, "TR");
_Static_assert(VMCB_SAVE_OFF(cpl) == 0x0cb, "CPL");
_Static_assert(VMCB_SAVE_OFF(efer) == 0x0d0, "EFER");
_Static_assert(VMCB_SAVE_OFF(cr4) == 0x148, "CR4");
_Static_assert(VMCB_SAVE_OFF(cr0) == 0x158, "CR0");
_Static_assert(VMCB_SAVE_OFF(rflags) == 0x170, "RFLAGS");
_Static_assert(VMCB_SAVE_OFF(rip) == 0x178, "RIP");
_Static_assert(VMCB_SAVE_OFF(rsp) == 0x1d8, "RSP");
_Static_assert(VMCB_SAVE_OFF(rax) == 0x1f8, "RAX");
_Static_assert(VMCB_SAVE_OFF(star) == 0x200, "STAR");
_Static_assert(VMCB_SAVE_OFF(kernel_gs_base) == 0x220, "KernelGsBase");
_Static_assert(VMCB_SAVE_OFF(cr2) == 0x240, "CR2");
_Static_assert(VMCB_SAVE_OFF(g_pat) == 0x268, "G_PAT");
_Static_assert(VMCB_SAVE_OFF(dbgctl) == 0x270, "DBGCTL");
_Static_assert(VMCB_SAVE_OFF(last_excp_to) == 0x290, "LASTEXCPTO");
_Static_assert(VMCB_SAVE_OFF(spec_ctrl) == 0x2e0, "SPEC_CTRL");
_Static_assert(sizeof(struct vmcb) == 4096, "a VMCB is one page");

/* --- Exit codes (appendix C "SVM Intercept Exit Codes") ------------------ */
enum svm_exit_code {
    VMEXIT_CR0_READ = 0x000,  /* ... VMEXIT_CR15_READ = 0x00f */
    VMEXIT_CR0_WRITE = 0x010, /* ... VMEXIT_CR15_WRITE = 0x01f */
    VMEXIT_DR0_READ = 0x020,
    VMEXIT_DR0_WRITE = 0x030,
    VMEXIT_EXCP0 = 0x040, /* ... VMEXIT_EXCP31 = 0x05f: exception vector n */
    VMEXIT_INTR = 0x060,
    VMEXIT_NMI = 0x061,
    VMEXIT_SMI = 0x062,
    VMEXIT_INIT = 0x063,
    VMEXIT_VINTR = 0x064,
    VMEXIT_CR0_SEL_WRITE = 0x065,
    VMEXIT_IDTR_READ = 0x066,
    VMEXIT_GDTR_READ = 0x067,
    VMEXIT_LDTR_READ = 0x068,
    VMEXIT_TR_READ = 0x069,
    VMEXIT_IDTR_WRITE = 0x06a,
    VMEXIT_GDTR_WRITE = 0x06b,
    VMEXIT_LDTR_WRITE = 0x06c,
    VMEXIT_TR_WRITE = 0x06d,
    VMEXIT_RDTSC = 0x06e,
    VMEXIT_RDPMC = 0x06f,
    VMEXIT_PUSHF = 0x070,
    VMEXIT_POPF = 0x071,
    VMEXIT_CPUID = 0x072,
    VMEXIT_RSM = 0x073,
    VMEXIT_IRET = 0x074,
    VMEXIT_SWINT = 0x075,
    VMEXIT_INVD = 0x076,
    VMEXIT_PAUSE = 0x077,
    VMEXIT_HLT = 0x078,
    VMEXIT_INVLPG = 0x079,
    VMEXIT_INVLPGA = 0x07a,
    VMEXIT_IOIO = 0x07b,
    VMEXIT_MSR = 0x07c,
    VMEXIT_TASK_SWITCH = 0x07d,
    VMEXIT_FERR_FREEZE = 0x07e,
    VMEXIT_SHUTDOWN = 0x07f,
    VMEXIT_VMRUN = 0x080,
    VMEXIT_VMMCALL = 0x081,
    VMEXIT_VMLOAD = 0x082,
    VMEXIT_VMSAVE = 0x083,
    VMEXIT_STGI = 0x084,
    VMEXIT_CLGI = 0x085,
    VMEXIT_SKINIT = 0x086,
    VMEXIT_RDTSCP = 0x087,
    VMEXIT_ICEBP = 0x088,
    VMEXIT_WBINVD = 0x089,
    VMEXIT_MONITOR = 0x08a,
    VMEXIT_MWAIT = 0x08b,
    VMEXIT_MWAIT_CONDITIONAL = 0x08c,
    VMEXIT_XSETBV = 0x08d,
    VMEXIT_RDPRU = 0x08e,
    VMEXIT_EFER_WRITE_TRAP = 0x08f,
    VMEXIT_CR0_WRITE_TRAP = 0x090, /* ... VMEXIT_CR15_WRITE_TRAP = 0x09f */
    VMEXIT_INVLPGB = 0x0a0,
    VMEXIT_INVLPGB_ILLEGAL = 0x0a1,
    VMEXIT_INVPCID = 0x0a2,
    VMEXIT_MCOMMIT = 0x0a3,
    VMEXIT_TLBSYNC = 0x0a4,
    VMEXIT_NPF = 0x400,
    VMEXIT_AVIC_INCOMPLETE_IPI = 0x401,
    VMEXIT_AVIC_NOACCEL = 0x402,
    VMEXIT_VMGEXIT = 0x403,
};
/* EXITCODE is 64 bits; these two are negative. */
#define VMEXIT_INVALID ((uint64_t)-1) /* VMRUN's consistency checks failed */
#define VMEXIT_BUSY    ((uint64_t)-2) /* SEV-ES: VMSA busy */

/* EXITCODE as a sign-extended 32-bit value. Every code the APM defines fits
 * in 32 bits (the negative ones sign-extended); QEMU 7.2 writes only the
 * low half of -1 for VMEXIT_INVALID (0x00000000ffffffff), and KVM likewise
 * reads the low half alone. */
static inline uint64_t svm_exit_code(const struct vmcb *v)
{
    return (uint64_t)(int64_t)(int32_t)(uint32_t)v->control.exit_code;
}

/* The APM name of an exit code ("VMEXIT_CPUID", "VMEXIT_EXCP14", ...);
 * "VMEXIT_UNKNOWN" for a code the APM does not define. */
const char *svm_exit_name(uint64_t code);

#endif
