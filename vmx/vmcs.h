/* VMCS field encodings and control bits, named as in the Intel SDM
 * (Vol. 3D appendix B; Linux/KVM use the same names). */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#include <stdbool.h>
#include <stdint.h>

enum vmcs_field {
    VIRTUAL_PROCESSOR_ID = 0x0000,
    GUEST_ES_SELECTOR = 0x0800,
    GUEST_CS_SELECTOR = 0x0802,
    GUEST_SS_SELECTOR = 0x0804,
    GUEST_DS_SELECTOR = 0x0806,
    GUEST_FS_SELECTOR = 0x0808,
    GUEST_GS_SELECTOR = 0x080a,
    GUEST_LDTR_SELECTOR = 0x080c,
    GUEST_TR_SELECTOR = 0x080e,
    GUEST_INTR_STATUS = 0x0810, /* RVI (bits 7:0), SVI (bits 15:8) */
    HOST_ES_SELECTOR = 0x0c00,
    HOST_CS_SELECTOR = 0x0c02,
    HOST_SS_SELECTOR = 0x0c04,
    HOST_DS_SELECTOR = 0x0c06,
    HOST_FS_SELECTOR = 0x0c08,
    HOST_GS_SELECTOR = 0x0c0a,
    HOST_TR_SELECTOR = 0x0c0c,
    IO_BITMAP_A = 0x2000,
    IO_BITMAP_B = 0x2002,
    MSR_BITMAP = 0x2004,
    VM_EXIT_MSR_STORE_ADDR = 0x2006,
    VM_EXIT_MSR_LOAD_ADDR = 0x2008,
    VM_ENTRY_MSR_LOAD_ADDR = 0x200a,
    TSC_OFFSET = 0x2010,
    VIRTUAL_APIC_PAGE_ADDR = 0x2012,
    APIC_ACCESS_ADDR = 0x2014,
    EPT_POINTER = 0x201a,
    EOI_EXIT_BITMAP0 = 0x201c, /* vectors 0-63; 1, 2, 3 follow 2 apart */
    EOI_EXIT_BITMAP1 = 0x201e,
    EOI_EXIT_BITMAP2 = 0x2020,
    EOI_EXIT_BITMAP3 = 0x2022,
    GUEST_PHYSICAL_ADDRESS = 0x2400,
    VMCS_LINK_POINTER = 0x2800,
    GUEST_IA32_DEBUGCTL = 0x2802,
    GUEST_IA32_PAT = 0x2804,
    GUEST_IA32_EFER = 0x2806,
    GUEST_PDPTR0 = 0x280a,
    GUEST_PDPTR1 = 0x280c,
    GUEST_PDPTR2 = 0x280e,
    GUEST_PDPTR3 = 0x2810,
    HOST_IA32_PAT = 0x2c00,
    HOST_IA32_EFER = 0x2c02,
    PIN_BASED_VM_EXEC_CONTROL = 0x4000,
    CPU_BASED_VM_EXEC_CONTROL = 0x4002,
    EXCEPTION_BITMAP = 0x4004,
    PAGE_FAULT_ERROR_CODE_MASK = 0x4006,
    PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
    CR3_TARGET_COUNT = 0x400a,
    VM_EXIT_CONTROLS = 0x400c,
    VM_EXIT_MSR_STORE_COUNT = 0x400e,
    VM_EXIT_MSR_LOAD_COUNT = 0x4010,
    VM_ENTRY_CONTROLS = 0x4012,
    VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
    VM_ENTRY_INTR_INFO_FIELD = 0x4016,
    VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
    VM_ENTRY_INSTRUCTION_LEN = 0x401a,
    TPR_THRESHOLD = 0x401c,
    SECONDARY_VM_EXEC_CONTROL = 0x401e,
    PLE_GAP = 0x4020,
    PLE_WINDOW = 0x4022,
    VM_INSTRUCTION_ERROR = 0x4400,
    VM_EXIT_REASON = 0x4402,
    VM_EXIT_INTR_INFO = 0x4404,
    VM_EXIT_INTR_ERROR_CODE = 0x4406,
    IDT_VECTORING_INFO_FIELD = 0x4408,
    IDT_VECTORING_ERROR_CODE = 0x440a,
    VM_EXIT_INSTRUCTION_LEN = 0x440c,
    VMX_INSTRUCTION_INFO = 0x440e,
    GUEST_ES_LIMIT = 0x4800,
    GUEST_CS_LIMIT = 0x4802,
    GUEST_SS_LIMIT = 0x4804,
    GUEST_DS_LIMIT = 0x4806,
    GUEST_FS_LIMIT = 0x4808,
    GUEST_GS_LIMIT = 0x480a,
    GUEST_LDTR_LIMIT = 0x480c,
    GUEST_TR_LIMIT = 0x480e,
    GUEST_GDTR_LIMIT = 0x4810,
    GUEST_IDTR_LIMIT = 0x4812,
    GUEST_ES_AR_BYTES = 0x4814,
    GUEST_CS_AR_BYTES = 0x4816,
    GUEST_SS_AR_BYTES = 0x4818,
    GUEST_DS_AR_BYTES = 0x481a,
    GUEST_FS_AR_BYTES = 0x481c,
    GUEST_GS_AR_BYTES = 0x481e,
    GUEST_LDTR_AR_BYTES = 0x4820,
    GUEST_TR_AR_BYTES = 0x4822,
    GUEST_INTERRUPTIBILITY_INFO = 0x4824,
    GUEST_ACTIVITY_STATE = 0x4826,
    GUEST_SYSENTER_CS = 0x482a,
    VMX_PREEMPTION_TIMER_VALUE = 0x482e,
    HOST_IA32_SYSENTER_CS = 0x4c00,
    CR0_GUEST_HOST_MASK = 0x6000,
    CR4_GUEST_HOST_MASK = 0x6002,
    CR0_READ_SHADOW = 0x6004,
    CR4_READ_SHADOW = 0x6006,
    EXIT_QUALIFICATION = 0x6400,
    GUEST_LINEAR_ADDRESS = 0x640a,
    GUEST_CR0 = 0x6800,
    GUEST_CR3 = 0x6802,
    GUEST_CR4 = 0x6804,
    GUEST_ES_BASE = 0x6806,
    GUEST_CS_BASE = 0x6808,
    GUEST_SS_BASE = 0x680a,
    GUEST_DS_BASE = 0x680c,
    GUEST_FS_BASE = 0x680e,
    GUEST_GS_BASE = 0x6810,
    GUEST_LDTR_BASE = 0x6812,
    GUEST_TR_BASE = 0x6814,
    GUEST_GDTR_BASE = 0x6816,
    GUEST_IDTR_BASE = 0x6818,
    GUEST_DR7 = 0x681a,
    GUEST_RSP = 0x681c,
    GUEST_RIP = 0x681e,
    GUEST_RFLAGS = 0x6820,
    GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
    GUEST_SYSENTER_ESP = 0x6824,
    GUEST_SYSENTER_EIP = 0x6826,
    HOST_CR0 = 0x6c00,
    HOST_CR3 = 0x6c02,
    HOST_CR4 = 0x6c04,
    HOST_FS_BASE = 0x6c06,
    HOST_GS_BASE = 0x6c08,
    HOST_TR_BASE = 0x6c0a,
    HOST_GDTR_BASE = 0x6c0c,
    HOST_IDTR_BASE = 0x6c0e,
    HOST_IA32_SYSENTER_ESP = 0x6c10,
    HOST_IA32_SYSENTER_EIP = 0x6c12,
    HOST_RSP = 0x6c14,
    HOST_RIP = 0x6c16,
};

/* Pin-based VM-execution controls. */
#define PIN_BASED_EXT_INTR_MASK        (1U << 0)
#define PIN_BASED_NMI_EXITING          (1U << 3)
#define PIN_BASED_VIRTUAL_NMIS         (1U << 5)
#define PIN_BASED_VMX_PREEMPTION_TIMER (1U << 6)
#define PIN_BASED_POSTED_INTR          (1U << 7)

/* Primary processor-based VM-execution controls. */
#define CPU_BASED_INTR_WINDOW_EXITING         (1U << 2)
#define CPU_BASED_USE_TSC_OFFSETTING          (1U << 3)
#define CPU_BASED_HLT_EXITING                 (1U << 7)
#define CPU_BASED_INVLPG_EXITING              (1U << 9)
#define CPU_BASED_MWAIT_EXITING               (1U << 10)
#define CPU_BASED_RDPMC_EXITING               (1U << 11)
#define CPU_BASED_RDTSC_EXITING               (1U << 12)
#define CPU_BASED_CR3_LOAD_EXITING            (1U << 15)
#define CPU_BASED_CR3_STORE_EXITING           (1U << 16)
#define CPU_BASED_CR8_LOAD_EXITING            (1U << 19)
#define CPU_BASED_CR8_STORE_EXITING           (1U << 20)
#define CPU_BASED_TPR_SHADOW                  (1U << 21)
#define CPU_BASED_NMI_WINDOW_EXITING          (1U << 22)
#define CPU_BASED_MOV_DR_EXITING              (1U << 23)
#define CPU_BASED_UNCOND_IO_EXITING           (1U << 24)
#define CPU_BASED_USE_IO_BITMAPS              (1U << 25)
#define CPU_BASED_MONITOR_TRAP_FLAG           (1U << 27)
#define CPU_BASED_USE_MSR_BITMAPS             (1U << 28)
#define CPU_BASED_MONITOR_EXITING             (1U << 29)
#define CPU_BASED_PAUSE_EXITING               (1U << 30)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS (1U << 31)

/* Secondary processor-based VM-execution controls. */
#define SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES (1U << 0)
#define SECONDARY_EXEC_ENABLE_EPT               (1U << 1)
#define SECONDARY_EXEC_DESC_TABLE_EXITING       (1U << 2)
#define SECONDARY_EXEC_ENABLE_RDTSCP            (1U << 3)
#define SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE   (1U << 4)
#define SECONDARY_EXEC_ENABLE_VPID              (1U << 5)
#define SECONDARY_EXEC_WBINVD_EXITING           (1U << 6)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST       (1U << 7)
#define SECONDARY_EXEC_APIC_REGISTER_VIRT       (1U << 8)
#define SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY    (1U << 9)
#define SECONDARY_EXEC_PAUSE_LOOP_EXITING       (1U << 10)
#define SECONDARY_EXEC_RDRAND_EXITING           (1U << 11)
#define SECONDARY_EXEC_ENABLE_INVPCID           (1U << 12)
#define SECONDARY_EXEC_ENABLE_VMFUNC            (1U << 13)
#define SECONDARY_EXEC_SHADOW_VMCS              (1U << 14)
#define SECONDARY_EXEC_ENCLS_EXITING            (1U << 15)
#define SECONDARY_EXEC_RDSEED_EXITING           (1U << 16)
#define SECONDARY_EXEC_ENABLE_PML               (1U << 17)
#define SECONDARY_EXEC_XSAVES                   (1U << 20)

/* VM-exit controls. */
#define VM_EXIT_SAVE_DEBUG_CONTROLS        (1U << 2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE       (1U << 9)
#define VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL (1U << 12)
#define VM_EXIT_ACK_INTR_ON_EXIT           (1U << 15)
#define VM_EXIT_SAVE_IA32_PAT              (1U << 18)
#define VM_EXIT_LOAD_IA32_PAT              (1U << 19)
#define VM_EXIT_SAVE_IA32_EFER             (1U << 20)
#define VM_EXIT_LOAD_IA32_EFER             (1U << 21)
#define VM_EXIT_SAVE_VMX_PREEMPTION_TIMER  (1U << 22)

/* VM-entry controls. */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS (1U << 2)
#define VM_ENTRY_IA32E_MODE          (1U << 9)
#define VM_ENTRY_SMM                 (1U << 10)
#define VM_ENTRY_LOAD_IA32_PAT       (1U << 14)
#define VM_ENTRY_LOAD_IA32_EFER      (1U << 15)

/* Basic exit reasons. */
enum vmx_exit_reason {
    EXIT_REASON_EXCEPTION_NMI = 0,
    EXIT_REASON_EXTERNAL_INTERRUPT = 1,
    EXIT_REASON_TRIPLE_FAULT = 2,
    EXIT_REASON_INIT_SIGNAL = 3,
    EXIT_REASON_SIPI_SIGNAL = 4,
    EXIT_REASON_IO_SMI = 5,
    EXIT_REASON_OTHER_SMI = 6,
    EXIT_REASON_INTERRUPT_WINDOW = 7,
    EXIT_REASON_NMI_WINDOW = 8,
    EXIT_REASON_TASK_SWITCH = 9,
    EXIT_REASON_CPUID = 10,
    EXIT_REASON_GETSEC = 11,
    EXIT_REASON_HLT = 12,
    EXIT_REASON_INVD = 13,
    EXIT_REASON_INVLPG = 14,
    EXIT_REASON_RDPMC = 15,
    EXIT_REASON_RDTSC = 16,
    EXIT_REASON_RSM = 17,
    EXIT_REASON_VMCALL = 18,
    EXIT_REASON_VMCLEAR = 19,
    EXIT_REASON_VMLAUNCH = 20,
    EXIT_REASON_VMPTRLD = 21,
    EXIT_REASON_VMPTRST = 22,
    EXIT_REASON_VMREAD = 23,
    EXIT_REASON_VMRESUME = 24,
    EXIT_REASON_VMWRITE = 25,
    EXIT_REASON_VMOFF = 26,
    EXIT_REASON_VMON = 27,
    EXIT_REASON_CR_ACCESS = 28,
    EXIT_REASON_DR_ACCESS = 29,
    EXIT_REASON_IO_INSTRUCTION = 30,
    EXIT_REASON_MSR_READ = 31,
    EXIT_REASON_MSR_WRITE = 32,
    EXIT_REASON_INVALID_STATE = 33,
    EXIT_REASON_MSR_LOAD_FAIL = 34,
    EXIT_REASON_MWAIT_INSTRUCTION = 36,
    EXIT_REASON_MONITOR_TRAP_FLAG = 37,
    EXIT_REASON_MONITOR_INSTRUCTION = 39,
    EXIT_REASON_PAUSE_INSTRUCTION = 40,
    EXIT_REASON_MCE_DURING_VMENTRY = 41,
    EXIT_REASON_TPR_BELOW_THRESHOLD = 43,
    EXIT_REASON_APIC_ACCESS = 44,
    EXIT_REASON_EOI_INDUCED = 45,
    EXIT_REASON_GDTR_IDTR = 46,
    EXIT_REASON_LDTR_TR = 47,
    EXIT_REASON_EPT_VIOLATION = 48,
    EXIT_REASON_EPT_MISCONFIG = 49,
    EXIT_REASON_INVEPT = 50,
    EXIT_REASON_RDTSCP = 51,
    EXIT_REASON_PREEMPTION_TIMER = 52,
    EXIT_REASON_INVVPID = 53,
    EXIT_REASON_WBINVD = 54,
    EXIT_REASON_XSETBV = 55,
    EXIT_REASON_APIC_WRITE = 56,
    EXIT_REASON_RDRAND = 57,
    EXIT_REASON_INVPCID = 58,
    EXIT_REASON_VMFUNC = 59,
    EXIT_REASON_ENCLS = 60,
    EXIT_REASON_RDSEED = 61,
    EXIT_REASON_PML_FULL = 62,
    EXIT_REASON_XSAVES = 63,
    EXIT_REASON_XRSTORS = 64,
    EXIT_REASON_UMWAIT = 67,
    EXIT_REASON_TPAUSE = 68,
    VMX_NR_EXIT_REASONS = 70,
};

#define VMX_EXIT_REASON_FAILED_ENTRY (1U << 31)

/* VM-entry/exit interruption-information fields. */
#define INTR_INFO_VECTOR_MASK       0xffU
#define INTR_INFO_TYPE_SHIFT        8
#define INTR_INFO_DELIVER_CODE      (1U << 11)
#define INTR_INFO_NMI_UNBLOCKING    (1U << 12)
#define INTR_INFO_VALID             (1U << 31)
#define INTR_TYPE_EXT_INTR          (0U << 8)
#define INTR_TYPE_NMI               (2U << 8)
#define INTR_TYPE_HARD_EXCEPTION    (3U << 8)
#define INTR_TYPE_SOFT_INTR         (4U << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5U << 8)
#define INTR_TYPE_SOFT_EXCEPTION    (6U << 8)
#define INTR_TYPE_MASK              (7U << 8)

/* Guest interruptibility state. */
#define GUEST_INTR_STATE_STI    (1U << 0)
#define GUEST_INTR_STATE_MOV_SS (1U << 1)
#define GUEST_INTR_STATE_SMI    (1U << 2)
#define GUEST_INTR_STATE_NMI    (1U << 3)

#define GUEST_ACTIVITY_ACTIVE    0
#define GUEST_ACTIVITY_HLT       1
#define GUEST_ACTIVITY_WAIT_SIPI 3

/* VMX instructions. VMfail sets CF (invalid) or ZF (valid, error in
 * VM_INSTRUCTION_ERROR); these return false on either. */
static inline bool vmx_on(uint64_t phys)
{
    uint8_t fail;
    __asm__ volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
    return !fail;
}

static inline void vmx_off(void)
{
    __asm__ volatile("vmxoff" ::: "cc", "memory");
}

static inline bool vmcs_clear(uint64_t phys)
{
    uint8_t fail;
    __asm__ volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
    return !fail;
}

static inline bool vmcs_load(uint64_t phys)
{
    uint8_t fail;
    __asm__ volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(phys) : "cc", "memory");
    return !fail;
}

static inline uint64_t vmcs_read(enum vmcs_field f)
{
    uint64_t v;
    __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"((uint64_t)f) : "cc");
    return v;
}

static inline bool vmcs_write(enum vmcs_field f, uint64_t v)
{
    uint8_t fail;
    __asm__ volatile("vmwrite %2, %1; setbe %0"
                     : "=qm"(fail)
                     : "r"((uint64_t)f), "rm"(v)
                     : "cc", "memory");
    return !fail;
}

#endif
