/* exitfuzz: a seeded, reproducible 64-bit guest that throws random
 * exit-causing operations at the hypervisor (docs/test-guests.md). */
#ifndef EXITFUZZ_H
#define EXITFUZZ_H

#include "tests/guests/lib64/lib64.h"

/* Registers handed to and taken back from one fuzzed instruction. */
struct fz_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi;
};

/* Runs `insn` with RAX..RDI loaded from *r and stores them back; a fault
 * resumes after it (the registers are then left as loaded). Evaluates to
 * the vector taken, or -1. RCX is loaded after the resume address is
 * published, so the instruction may use it (RDMSR, REP INS). */
#define FZ_TRY(insn, r)                                                                            \
    ({                                                                                             \
        register struct fz_regs *fz_p_ __asm__("r12") = (r);                                       \
        trap_last_vector = -1;                                                                     \
        __asm__ volatile("leaq 1f(%%rip), %%rcx\n\t"                                               \
                         "movq %%rcx, trap_resume_rip(%%rip)\n\t"                                  \
                         "movq 0(%0), %%rax\n\tmovq 8(%0), %%rbx\n\tmovq 16(%0), %%rcx\n\t"        \
                         "movq 24(%0), %%rdx\n\tmovq 32(%0), %%rsi\n\tmovq 40(%0), %%rdi\n\t" insn \
                         "\n\tmovq %%rax, 0(%0)\n\tmovq %%rbx, 8(%0)\n\tmovq %%rcx, 16(%0)\n\t"    \
                         "movq %%rdx, 24(%0)\n\tmovq %%rsi, 32(%0)\n\tmovq %%rdi, 40(%0)\n"        \
                         "1:\tmovq $0, trap_resume_rip(%%rip)"                                     \
                         :                                                                         \
                         : "r"(fz_p_)                                                              \
                         : "memory", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "cc");              \
        trap_last_vector;                                                                          \
    })

/* ---- exitfuzz.c ---- */
uint64_t fz_rand(void);
static inline uint64_t fz_below(uint64_t n)
{
    return n ? fz_rand() % n : 0;
}
/* 0, all ones, a power of two, a small value, or 64 random bits. */
uint64_t fz_value(void);
extern bool g_trace;
extern unsigned long g_faults;

/* ---- one operation of each category; each returns a short name ---- */
const char *fz_op_cpuid(void);
const char *fz_op_msr(void);
const char *fz_op_cr(void);
const char *fz_op_cr3mbz(void);
const char *fz_op_dr(void);
const char *fz_op_xsetbv(void);
const char *fz_op_insn(void);
const char *fz_op_exception(void);
const char *fz_op_port(void);
const char *fz_op_mmio(void);
const char *fz_op_hypercall(void);
/* A batch of `n` unprivileged operations at CPL 3 (ops_user.c). */
const char *fz_op_user(void);
void fz_user_init(void);

#endif
