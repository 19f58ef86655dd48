/* Tiny runtime shared by the Bulkhead test guests: 32-bit protected mode,
 * paging off, guest-physical == linear address. The port, CPU, hypercall,
 * util, serial and multiboot2 parts are also built for the 64-bit runtime
 * (tests/guests/lib64/, which adds its own descriptor tables); the 32-bit
 * descriptor part below is left out there. */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/bulkhead/hypercall.h"

#define MB2_BOOT_MAGIC 0x36d76289u

/* Provided by each guest. */
void guest_main(uint32_t magic, uint32_t mbi);

/* ---- port I/O and CPU helpers ---- */
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
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
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

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                         uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline unsigned long read_cr0(void)
{
    unsigned long v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline void write_cr0(unsigned long v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* ---- hypercalls (VMCALL at CPL 0; see include/bulkhead/hypercall.h) ---- */
/* Arguments go out register-wide (zero-extended in 64-bit mode, where the
 * hypervisor reads all 64 bits). */
static inline int32_t hypercall(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
    uintptr_t ret;
    __asm__ volatile("vmcall"
                     : "=a"(ret)
                     : "a"((uintptr_t)nr), "b"((uintptr_t)a0), "c"((uintptr_t)a1),
                       "d"((uintptr_t)a2), "S"((uintptr_t)a3)
                     : "memory");
    return (int32_t)ret;
}
static inline int32_t hc_version(void)
{
    return hypercall(HC_VERSION, 0, 0, 0, 0);
}
static inline int32_t hc_console_write(uint32_t gpa, uint32_t len)
{
    return hypercall(HC_CONSOLE_WRITE, gpa, len, 0, 0);
}
static inline int32_t hc_yield(void)
{
    return hypercall(HC_YIELD, 0, 0, 0, 0);
}
static inline int32_t hc_stop_self(uint32_t code)
{
    return hypercall(HC_STOP_SELF, code, 0, 0, 0);
}

/* ---- util.c ---- */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
/* 64-by-32 division without libgcc (there is no 32-bit libgcc here). */
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem);
/* Decimal or 0x-prefixed hex; returns false on junk or overflow. */
bool parse_u32(const char *s, uint32_t *out);
__attribute__((noreturn)) void halt_forever(void);
/* Stop the VM through HC_STOP_SELF; halts if the call returns. */
__attribute__((noreturn)) void guest_exit(uint32_t code);

/* ---- vectors.c ---- */
/* "#GP", "#UD", ... for printing; "int80" for the CPL3 gate. */
const char *vector_name(unsigned v);

/* ---- serial.c: 16550 at 0x3f8 (or port=0xNNN), transmit only ---- */
void serial_init(void); /* reads port= from the command line */
void serial_putc(char c);
void serial_puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/* ---- mb2.c: multiboot2 information ---- */
/* True when the entry magic was the multiboot2 one and the info parsed. */
bool mb2_valid(void);
/* The boot command line ("" when none). */
const char *cmdline(void);
/* Copies the value of the first "key=value" word into buf (NUL-terminated,
 * truncated to size). Returns false when the key is absent. */
bool cmdline_get(const char *key, char *buf, size_t size);
/* Value of key as a number, or def when absent or malformed. */
uint32_t cmdline_get_u32(const char *key, uint32_t def);
/* First byte past the RAM that starts at 1 MiB (from the basic-memory tag;
 * 4 MiB when there is none). */
uint32_t ram_end(void);

#ifndef __x86_64__
/* ---- desc.c: GDT/TSS/IDT for 32-bit protected mode ---- */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23
#define SEL_TSS   0x28

#define EFLAGS_TF (1u << 8)
#define EFLAGS_IF (1u << 9)
#define EFLAGS_AC (1u << 18)
#define CR0_AM    (1u << 18)

enum {
    VEC_DE = 0,
    VEC_DB = 1,
    VEC_BP = 3,
    VEC_UD = 6,
    VEC_DF = 8,
    VEC_GP = 13,
    VEC_PF = 14,
    VEC_AC = 17,
    VEC_SYSCALL = 0x80,
};

/* Layout pushed by lib/isr.S; user_esp/user_ss only valid from ring 3. */
struct trap_frame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t user_esp, user_ss;
};

typedef void (*trap_handler_t)(struct trap_frame *f);

/* Loads the TSS (ring-0 stack for traps from ring 3) and an IDT with
 * vectors 0-31 and a ring-3 callable gate at 0x80. */
void desc_init(void);
/* Per-vector handler; NULL restores the default (fatal report). */
void set_trap_handler(unsigned vector, trap_handler_t h);
/* Loads an IDT with limit 0: any exception then triple-faults. */
void load_empty_idt(void);

/* Expected-fault helper: set trap_resume_eip to a resume address before a
 * faulting instruction; the default handler then records the vector in
 * trap_last_vector and continues there instead of reporting a crash. */
extern volatile uint32_t trap_resume_eip;
extern volatile int trap_last_vector;

__attribute__((noreturn)) void enter_ring3(void (*fn)(void), void *stack_top, uint32_t eflags);
#endif /* !__x86_64__ */

#endif
