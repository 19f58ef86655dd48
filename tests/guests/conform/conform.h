/* conform: checks the virtual CPU against what the Intel SDM defines, one
 * line per check ("conform: PASS name" or "conform: FAIL name: what it
 * saw"), then "conform: done N passed, M failed" (docs/test-guests.md). */
#ifndef CONFORM_H
#define CONFORM_H

#include "tests/guests/lib64/lib64.h"

#define RFLAGS_TF (1ull << 8)
#define RFLAGS_RF (1ull << 16)

/* What the last caught exception pushed (conform.c's handler). */
struct caught {
    int vector; /* -1: none */
    uint64_t error, rflags;
};
extern volatile struct caught g_caught;

/* Runs insn like TRY64, recording the caught exception in g_caught. */
#define TRY(insn, ...)                                                                             \
    ({                                                                                             \
        g_caught.vector = -1;                                                                      \
        TRY64(insn, __VA_ARGS__);                                                                  \
        g_caught.vector;                                                                           \
    })

void pass(const char *name);
void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PASS when got == want (vectors, -1 none), FAIL naming both. */
void expect_vector(const char *name, int got, int want);

static inline uint64_t rdmsr64(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline int try_wrmsr(uint32_t msr, uint64_t v)
{
    return TRY("movl %[m], %%ecx\n\twrmsr", [m] "r"(msr), "a"((uint32_t)v),
               "d"((uint32_t)(v >> 32)));
}
static inline int try_rdmsr(uint32_t msr, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    g_caught.vector = -1;
    __asm__ volatile("leaq 1f(%%rip), %%rcx\n\tmovq %%rcx, %[resume]\n\tmovl %[m], %%ecx\n\t"
                     "rdmsr\n1:\tmovq $0, %[resume]"
                     : [resume] "=m"(trap_resume_rip), "+a"(lo), "+d"(hi)
                     : [m] "r"(msr)
                     : "memory", "rcx");
    *v = ((uint64_t)hi << 32) | lo;
    return g_caught.vector;
}
static inline int try_write_cr0(uint64_t v)
{
    return TRY("mov %[v], %%cr0", [v] "r"(v));
}
static inline int try_write_cr4(uint64_t v)
{
    return TRY("mov %[v], %%cr4", [v] "r"(v));
}
static inline uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline void write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

void check_cr(void);
void check_lmsw(void);
void check_debug(void);
void check_msr(void);
void check_xsave(void);
void check_apic_window(void);

#endif
