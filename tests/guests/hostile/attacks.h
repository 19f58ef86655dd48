/* Attacks of the hostile guest that live in their own files (attack_*.c);
 * hostile.c only lists them in its table. Each prints
 * "hostile: survived NAME" itself (attack_survived) when it gets to the end. */
#ifndef HOSTILE_ATTACKS_H
#define HOSTILE_ATTACKS_H

/* Prints "hostile: survived NAME" for the running attack and stops with 0. */
__attribute__((noreturn)) void attack_survived(void);

void attack_ins_ro(void);      /* attack_ins.c */
void attack_reset_loop(void);  /* attack_reset.c */
void attack_stop_random(void); /* attack_chaos.c */
void attack_icebp(void);       /* attack_icebp.c */
void attack_tsc_write(void);   /* attack_tsc.c */
void attack_idt_mmio(void);    /* attack_idt_mmio.c */

#endif
