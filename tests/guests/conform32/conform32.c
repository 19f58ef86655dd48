/* conform32: the SDM's control-register rules where 32-bit protected mode
 * differs from 64-bit mode (the 64-bit guest is tests/guests/conform):
 * PCIDE outside IA-32e mode, EFER.LME with 32-bit paging on, paging on
 * with LME but without PAE, paging off (allowed here), PAE paging and its
 * PDPTE checks, and RF on an injected fault's pushed EFLAGS. Same output as conform: one `conform:
 * PASS name` or `conform: FAIL name: ...` per check, then `conform: done
 * N passed, M failed`; stops itself with code 0 when nothing failed. */
#include "tests/guests/conform32/conform32.h"

#define CR0_PE    (1u << 0)
#define CR0_PG    (1u << 31)
#define CR4_PSE   (1u << 4)
#define CR4_PAE   (1u << 5)
#define CR4_PCIDE (1u << 17)
#define EFER      0xc0000080u
#define EFER_LME  (1u << 8)
#define EFLAGS_RF (1u << 16)

static unsigned g_passed, g_failed;
volatile int g_vector = -1;
volatile uint32_t g_error;
static volatile uint32_t g_eflags;
/* 4 MiB pages identity-mapping 4 GiB (CR4.PSE). */
static uint32_t g_pd[1024] __attribute__((aligned(4096)));
/* PAE: one PDPT, its first directory of 2 MiB pages (the first GiB). */
static uint64_t g_pdpt[4] __attribute__((aligned(32)));
static uint64_t g_pae_pd[512] __attribute__((aligned(4096)));

static void on_trap(struct trap_frame *f)
{
    g_vector = (int)f->vector;
    g_error = f->error;
    g_eflags = f->eflags;
    if (!trap_resume_eip) {
        printf("conform: unexpected exception %u %s at eip 0x%x\n", f->vector,
               vector_name(f->vector), f->eip);
        printf("conform: done %u passed, %u failed\n", g_passed, g_failed + 1);
        guest_exit(3);
    }
    f->eip = trap_resume_eip;
    trap_resume_eip = 0;
}

static int try_cr0(uint32_t v)
{
    return TRY("mov %[v], %%cr0", [v] "r"(v));
}
static int try_cr4(uint32_t v)
{
    return TRY("mov %[v], %%cr4", [v] "r"(v));
}
static int try_wrmsr(uint32_t msr, uint64_t v)
{
    return TRY("wrmsr", "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static uint32_t read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static uint64_t rdmsr64(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

void pass(const char *name)
{
    g_passed++;
    printf("conform: PASS %s\n", name);
}

void expect(const char *name, int got, int want)
{
    if (got == want) {
        pass(name);
    } else {
        g_failed++;
        printf("conform: FAIL %s: exception %d, expected %d\n", name, got, want);
    }
}

void fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    g_failed++;
    printf("conform: FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    (void)mbi;
    desc_init();
    for (unsigned v = 0; v < 32; v++)
        if (v != 2 && v != 8)
            set_trap_handler(v, on_trap);
    printf("conform: start (32-bit protected mode)\n");

    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    bool pcid = c & (1u << 17);
    uint32_t cr0 = (uint32_t)read_cr0(), cr4 = read_cr4();
    uint64_t efer = rdmsr64(EFER);

    /* An injected fault pushes RF also in 32-bit mode. */
    int vec = try_wrmsr(0x1234, 0);
    if (vec == VEC_GP && (g_eflags & EFLAGS_RF)) {
        pass("injected_gp_pushes_rf_32");
    } else {
        g_failed++;
        printf("conform: FAIL injected_gp_pushes_rf_32: exception %d, EFLAGS 0x%x\n", vec,
               g_eflags);
    }
    if (pcid)
        expect("cr4_pcide_outside_long_mode_gp", try_cr4(cr4 | CR4_PCIDE), VEC_GP);
    expect("cr0_pg_without_pe_gp_32", try_cr0((cr0 | CR0_PG) & ~CR0_PE), VEC_GP);
    /* LME may change while paging is off. */
    expect("efer_lme_with_paging_off", try_wrmsr(EFER, efer | EFER_LME), -1);
    expect("efer_lme_clear_with_paging_off", try_wrmsr(EFER, efer), -1);

    /* 32-bit paging (4 MiB pages): on and off are allowed outside IA-32e
     * mode; EFER.LME may not change while it is on. */
    for (uint32_t i = 0; i < 1024; i++)
        g_pd[i] = (i << 22) | 0x83; /* present, writable, 4 MiB */
    __asm__ volatile("mov %0, %%cr3" : : "r"(g_pd) : "memory");
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PSE) : "memory");
    expect("cr0_paging32_on", try_cr0(cr0 | CR0_PG), -1);
    expect("efer_lme_change_with_paging32_gp", try_wrmsr(EFER, efer | EFER_LME), VEC_GP);
    expect("cr0_paging32_off", try_cr0(cr0), -1);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");

    check_lmsw32();

    /* PAE paging loads the PDPTEs: fine when they are, #GP when a present
     * one has a reserved bit (last: a failed VM entry when let through). */
    for (uint32_t i = 0; i < 512; i++)
        g_pae_pd[i] = ((uint64_t)i << 21) | 0x83;
    g_pdpt[0] = (uint32_t)g_pae_pd | 1;
    __asm__ volatile("mov %0, %%cr3" : : "r"(g_pdpt) : "memory");
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PAE) : "memory");
    expect("cr0_pae_paging_on", try_cr0(cr0 | CR0_PG), -1);
    expect("cr0_pae_paging_off", try_cr0(cr0), -1);
    g_pdpt[0] |= 2; /* bit 1: reserved in a PDPTE */
    expect("cr0_pae_paging_bad_pdpte_gp", try_cr0(cr0 | CR0_PG), VEC_GP);
    if (read_cr0() & CR0_PG)
        try_cr0(cr0);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");

    /* Last (a failed VM entry when let through): paging on with LME but
     * without PAE. */
    if (try_wrmsr(EFER, efer | EFER_LME) == -1) {
        expect("cr0_pg_with_lme_without_pae_gp", try_cr0(cr0 | CR0_PG), VEC_GP);
        try_wrmsr(EFER, efer);
    } else {
        g_failed++;
        printf("conform: FAIL cr0_pg_with_lme_without_pae_gp: cannot set EFER.LME\n");
    }
    printf("conform: done %u passed, %u failed\n", g_passed, g_failed);
    guest_exit(g_failed ? 1 : 0);
}
