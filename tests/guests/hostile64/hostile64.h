/* hostile64: the 64-bit hostile guest (attacks that need long mode, SIMD
 * state or several vCPUs). One attack per boot, chosen by attack=NAME. */
#ifndef HOSTILE64_H
#define HOSTILE64_H

#include "tests/guests/lib64/lib64.h"

/* The running attack's name, for BREACH lines. */
extern const char *g_attack;

/* Prints "hostile: BREACH <attack>: <what>": something it must not see. */
void breach(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* attack_fpu.c */
void attack_fill(void);
void attack_xmm_leak(void);
void attack_xcr0_shrink(void);
/* attack_cr8.c */
void attack_cr8(void);
/* attack_cpl3.c */
void attack_cpl3_pf(void);
/* attack_cpl3.c */
void attack_cpl3_pf(void);
/* attack_pkru.c */
void attack_pkru_leak(void);
/* attack_spec.c */
void attack_spec_ctrl(void);
/* attack_vdev.c */
void attack_vdev_race(void);

#endif
