/* conform32's check helpers, shared by its files. */
#ifndef CONFORM32_H
#define CONFORM32_H

#include "tests/guests/lib/guest.h"

extern volatile int g_vector;     /* the last caught exception, -1 none */
extern volatile uint32_t g_error; /* and its error code */

/* Runs one instruction; a fault resumes after it. The vector, or -1. */
#define TRY(insn, ...)                                                                             \
    ({                                                                                             \
        g_vector = -1;                                                                             \
        __asm__ volatile("movl $1f, %[resume]\n\t" insn "\n1:\tmovl $0, %[resume]"                 \
                         : [resume] "=m"(trap_resume_eip)                                          \
                         : __VA_ARGS__                                                             \
                         : "memory");                                                              \
        g_vector;                                                                                  \
    })

void pass(const char *name);
void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PASS when got == want (vectors, -1 none). */
void expect(const char *name, int got, int want);

void check_lmsw32(void);

#endif
