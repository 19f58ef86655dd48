/* Thin wrappers over x86-64 instructions that C cannot express. */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define CR0_PE (1UL << 0)
#define CR0_MP (1UL << 1)
#define CR0_EM (1UL << 2)
#define CR0_TS (1UL << 3)
#define CR0_ET (1UL << 4)
#define CR0_NE (1UL << 5)
#define CR0_WP (1UL << 16)
#define CR0_AM (1UL << 18)
#define CR0_NW (1UL << 29)
#define CR0_CD (1UL << 30)
#define CR0_PG (1UL << 31)

#define CR4_VME        (1UL << 0)
#define CR4_PVI        (1UL << 1)
#define CR4_TSD        (1UL << 2)
#define CR4_DE         (1UL << 3)
#define CR4_PSE        (1UL << 4)
#define CR4_PAE        (1UL << 5)
#define CR4_MCE        (1UL << 6)
#define CR4_PGE        (1UL << 7)
#define CR4_PCE        (1UL << 8)
#define CR4_OSFXSR     (1UL << 9)
#define CR4_OSXMMEXCPT (1UL << 10)
#define CR4_UMIP       (1UL << 11)
#define CR4_VMXE       (1UL << 13)
#define CR4_SMXE       (1UL << 14)
#define CR4_FSGSBASE   (1UL << 16)
#define CR4_PCIDE      (1UL << 17)
#define CR4_OSXSAVE    (1UL << 18)
#define CR4_SMEP       (1UL << 20)
#define CR4_SMAP       (1UL << 21)
#define CR4_PKE        (1UL << 22)

#define RFLAGS_CF (1UL << 0)
#define RFLAGS_ZF (1UL << 6)
#define RFLAGS_TF (1UL << 8)
#define RFLAGS_IF (1UL << 9)
#define RFLAGS_DF (1UL << 10)
#define RFLAGS_AC (1UL << 18)

#define MSR_IA32_APIC_BASE       0x1b
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_TSC_ADJUST      0x3b
#define MSR_IA32_SPEC_CTRL       0x48
#define MSR_IA32_PRED_CMD        0x49
#define MSR_IA32_BIOS_UPDT_TRIG  0x79
#define MSR_IA32_ARCH_CAPS       0x10a
#define MSR_IA32_FLUSH_CMD       0x10b
#define MSR_IA32_SYSENTER_CS     0x174
#define MSR_IA32_SYSENTER_ESP    0x175
#define MSR_IA32_SYSENTER_EIP    0x176
#define MSR_IA32_MISC_ENABLE     0x1a0
#define MSR_IA32_PAT             0x277
#define MSR_IA32_TSC_DEADLINE    0x6e0
#define MSR_X2APIC_BASE          0x800
#define MSR_X2APIC_EOI           0x80b /* MSR_X2APIC_BASE + LAPIC_EOI / 16 */
#define MSR_IA32_EFER            0xc0000080
#define MSR_IA32_STAR            0xc0000081
#define MSR_IA32_LSTAR           0xc0000082
#define MSR_IA32_CSTAR           0xc0000083
#define MSR_IA32_FMASK           0xc0000084
#define MSR_IA32_FS_BASE         0xc0000100
#define MSR_IA32_GS_BASE         0xc0000101
#define MSR_IA32_KERNEL_GS_BASE  0xc0000102
#define MSR_IA32_TSC_AUX         0xc0000103

#define EFER_SCE (1UL << 0)
#define EFER_LME (1UL << 8)
#define EFER_LMA (1UL << 10)
#define EFER_NXE (1UL << 11)

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline void cpuid_count(uint32_t leaf, uint32_t sub, struct cpuid_regs *r)
{
    __asm__ volatile("cpuid"
                     : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
                     : "a"(leaf), "c"(sub));
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    struct cpuid_regs r;
    cpuid_count(leaf, 0, &r);
    return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The exception-fixup table (section .ex_table, see arch/x86_64/exceptions.c)
 * lets these resume at label 2 with err=1 instead of panicking on #GP. */
#define EX_TABLE_ENTRY(fault, fixup)                                                               \
    ".pushsection .ex_table,\"a\"\n .balign 8\n .quad " #fault ", " #fixup "\n .popsection\n"

static inline bool rdmsr_safe(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    int err = 0;
    __asm__ volatile("1: rdmsr\n"
                     "2:\n" EX_TABLE_ENTRY(1b, 3f) ".pushsection .text.fixup,\"ax\"\n"
                                                   "3: movl $1, %2\n"
                                                   " jmp 2b\n"
                                                   " .popsection\n"
                     : "+a"(lo), "+d"(hi), "+r"(err)
                     : "c"(msr));
    *val = ((uint64_t)hi << 32) | lo;
    return err == 0;
}

static inline bool wrmsr_safe(uint32_t msr, uint64_t v)
{
    int err = 0;
    __asm__ volatile("1: wrmsr\n"
                     "2:\n" EX_TABLE_ENTRY(1b, 3f) ".pushsection .text.fixup,\"ax\"\n"
                                                   "3: movl $1, %0\n"
                                                   " jmp 2b\n"
                                                   " .popsection\n"
                     : "+r"(err)
                     : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "memory");
    return err == 0;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#define DEFINE_CR_ACCESS(n)                                                                        \
    static inline uint64_t read_cr##n(void)                                                        \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }                                                                                              \
    static inline void write_cr##n(uint64_t v)                                                     \
    {                                                                                              \
        __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");                                   \
    }
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(2)
DEFINE_CR_ACCESS(3)
DEFINE_CR_ACCESS(4)
#undef DEFINE_CR_ACCESS

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}
static inline void irq_disable(void)
{
    __asm__ volatile("cli" ::: "memory");
}
static inline void irq_enable(void)
{
    __asm__ volatile("sti" ::: "memory");
}
static inline bool irq_enabled(void)
{
    return read_rflags() & RFLAGS_IF;
}
/* sti and hlt back to back: an interrupt arriving between them still wakes us. */
static inline void irq_enable_and_halt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}
static inline void halt(void)
{
    __asm__ volatile("hlt" ::: "memory");
}
static inline unsigned long irq_save(void)
{
    unsigned long f = read_rflags();
    irq_disable();
    return f;
}
static inline void irq_restore(unsigned long flags)
{
    if (flags & RFLAGS_IF)
        irq_enable();
}
static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}
/* SMAP: brackets the rare root-mode accesses to user-flagged pages. */
static inline void stac(void)
{
    __asm__ volatile("stac" ::: "memory");
}
static inline void clac(void)
{
    __asm__ volatile("clac" ::: "memory");
}
static inline uint64_t xgetbv(uint32_t idx)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
    return ((uint64_t)hi << 32) | lo;
}
static inline void xsetbv(uint32_t idx, uint64_t v)
{
    __asm__ volatile("xsetbv" ::"c"(idx), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void io_delay(void)
{
    outb(0x80, 0);
}

#endif
