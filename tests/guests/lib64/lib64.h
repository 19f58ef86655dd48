/* The 64-bit test-guest runtime (tests/guests/lib64/): long mode on
 * identity page tables for the first 4 GiB (2 MiB pages, split to 4 KiB
 * on demand so U/S, R/W and NX can be set per page), a GDT with 64-bit
 * kernel and CPL3 segments, a TSS, an IDT reporting exceptions, an entry
 * to CPL3, and application processors started by INIT-SIPI-SIPI through
 * the guest's local APIC. Serial, hypercalls, printf, the command line
 * and guest_main() come from tests/guests/lib (built a second time, 64-bit). */
#ifndef LIB64_H
#define LIB64_H

#include "tests/guests/lib/guest.h"

/* ---- selectors (entry64.S) ---- */
#define SEL_CODE32 0x08 /* entry and AP start-up only */
#define SEL_KDATA  0x10
#define SEL_KCODE  0x18
#define SEL_UDATA  0x23
#define SEL_UCODE  0x2b
#define SEL_TSS    0x30

#define RFLAGS_IF (1u << 9)

enum {
    VEC_DE = 0,
    VEC_DB = 1,
    VEC_BP = 3,
    VEC_UD = 6,
    VEC_NM = 7,
    VEC_DF = 8,
    VEC_GP = 13,
    VEC_PF = 14,
    VEC_AC = 17,
    VEC_XM = 19,
    VEC_USER_GATE = 0x80, /* `int $0x80` from CPL3 lands here */
};

/* Pushed by isr64.S. rsp/ss are always valid in 64-bit mode. */
struct trap_frame64 {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*trap64_handler_t)(struct trap_frame64 *f);

/* Per-vector handler; NULL restores the default (report and stop with
 * code 3, or resume as TRY64 asks). */
void set_trap64_handler(unsigned vector, trap64_handler_t h);

/* Expected faults: TRY64("insn", inputs...) runs one instruction; a fault
 * resumes after it. Evaluates to the vector, or -1. RCX is free for the
 * instruction. One CPU at a time (the state is global). */
extern volatile uint64_t trap_resume_rip;
extern volatile int trap_last_vector;
#define TRY64(insn, ...)                                                                           \
    ({                                                                                             \
        trap_last_vector = -1;                                                                     \
        __asm__ volatile("leaq 1f(%%rip), %%rcx\n\tmovq %%rcx, %[resume]\n\t" insn                 \
                         "\n1:\tmovq $0, %[resume]"                                                \
                         : [resume] "=m"(trap_resume_rip)                                          \
                         : __VA_ARGS__                                                             \
                         : "memory", "rcx");                                                       \
        trap_last_vector;                                                                          \
    })

/* ---- CPU helpers ---- */
static inline uint64_t read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static inline void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}
static inline uint64_t read_cr8(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr8, %0" : "=r"(v));
    return v;
}
static inline void write_cr8(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}
static inline uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
/* XSETBV(0) that may fault: the vector, or -1. */
static inline int try_xsetbv0(uint64_t v)
{
    return TRY64("xorl %%ecx, %%ecx\n\txsetbv", "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ---- desc64.c ---- */
/* Called by entry64.S: GDT/TSS/IDT, SSE (CR4.OSFXSR) and XSAVE
 * (CR4.OSXSAVE) when the CPU has them, then guest_lib_start(). */
void lib64_start(uint32_t magic, uint32_t mbi);
/* XSAVE is usable (CPUID.1:ECX.XSAVE, CR4.OSXSAVE set by lib64_start). */
bool cpu_has_xsave(void);
/* Ring 3 at fn with the given stack and RFLAGS; CS 0x2b, SS 0x23. fn
 * comes back to ring 0 with `int $0x80` (set a VEC_USER_GATE handler). */
__attribute__((noreturn)) void enter_user(void (*fn)(void), void *stack_top, uint64_t rflags);

/* ---- paging.c: the identity map ---- */
#define PTE_P  (1ull << 0)
#define PTE_W  (1ull << 1)
#define PTE_U  (1ull << 2)
#define PTE_NX (1ull << 63)
/* Sets and clears flag bits on every 4 KiB page of [va, va + len),
 * splitting 2 MiB pages where the range does not cover them whole, and
 * flushes the TLB. Everything starts supervisor, writable, executable.
 * Returns false when the split-table pool (16 tables) is used up or the
 * range leaves the first 4 GiB. */
bool pt_set_flags(uint64_t va, uint64_t len, uint64_t set, uint64_t clear);

/* ---- smp.c: application processors ---- */
#define LIB64_MAX_CPUS 8
/* Starts APs 1..n-1 one at a time (INIT, then SIPI until the AP reports;
 * each runs fn(cpu) on its own 16 KiB stack, then halts). Returns how many
 * APs came up; needs a VM with a local APIC (the `platform` key). */
unsigned smp_start_aps(unsigned n, void (*fn)(unsigned cpu));
/* The same with INIT, SIPI, SIPI back to back and no delay between them
 * (waits up to a second for each AP). */
unsigned smp_start_aps_back_to_back(unsigned n, void (*fn)(unsigned cpu));
/* INIT-SIPI-SIPI back to back to AP i, running or not (after one of the
 * above): it starts over on its stack and runs fn(i) again. xAPIC mode
 * only (the ICR through MMIO). */
bool smp_restart_ap_back_to_back(unsigned i);
/* This CPU's index (0 = BSP), from the local APIC ID. */
unsigned smp_cpu_id(void);
/* Writes the xAPIC ICR (MMIO): destination apic_id, low word low. */
#define SMP_ICR_INIT 0x4500 /* INIT, level assert */
void smp_send_ipi(unsigned apic_id, uint32_t low);

#endif
