/* LMSW with a memory operand (SDM vol. 2 "LMSW"): under SVM every CR0
 * write exits, and without DecodeAssists (QEMU TCG) the hypervisor
 * decodes the instruction and reads the operand itself (vcpu/exit_lmsw.c).
 * Each addressing form must load bits 3:0 of the word at its address; an
 * operand that cannot be read must give the guest the fault the CPU gives
 * (#PF with CR2, #GP(0), #SS(0)), with CR0 unchanged. Under VMX LMSW that
 * only changes TS/MP/EM does not exit: the same checks then show the CPU's
 * own behaviour, which is what the emulation must match. */
#include "tests/guests/conform/conform.h"

#define CR0_PE      (1ull << 0)
#define CR0_MPEMTS  0xeull
#define CR0_TS      (1ull << 3)
#define VEC_SS      12
#define MSR_FS_BASE 0xc0000100u

/* The operand the RIP-relative form names by symbol. */
volatile uint16_t conform_lmsw_word;
static volatile uint16_t g_word __attribute__((aligned(16)));
/* Two pages of their own: the second is made not present. */
static uint8_t g_pages[2 * 4096] __attribute__((aligned(4096)));

/* Runs pre, insn, then post, also when insn faults (the fault resumes at
 * post): for forms that borrow RBP, R13 or R14. */
#define TRY_WRAPPED(pre, insn, post, ...)                                                          \
    ({                                                                                             \
        g_caught.vector = -1;                                                                      \
        trap_last_vector = -1;                                                                     \
        __asm__ volatile("leaq 1f(%%rip), %%rcx\n\tmovq %%rcx, %[resume]\n\t" pre "\n\t" insn      \
                         "\n1:\t" post "\n\tmovq $0, %[resume]"                                    \
                         : [resume] "=m"(trap_resume_rip)                                          \
                         : __VA_ARGS__                                                             \
                         : "memory", "rcx", "rdx", "r13", "r14");                                  \
        g_caught.vector;                                                                           \
    })

static uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void clts(void)
{
    __asm__ volatile("clts" ::: "memory");
}

/* After a form that loaded TS from a word holding CR0 | TS. */
static void expect_loaded(const char *name, int vec, uint64_t before)
{
    uint64_t cr0 = read_cr0();
    write_cr0(before);
    if (vec != -1 || cr0 != (before | CR0_TS))
        fail(name, "exception %d, CR0 0x%llx, expected 0x%llx", vec, (unsigned long long)cr0,
             (unsigned long long)(before | CR0_TS));
    else
        pass(name);
}

/* After a form whose operand cannot be read: the fault, CR0 unchanged. */
static void expect_fault(const char *name, int vec, int want, uint64_t error, uint64_t before)
{
    uint64_t cr0 = read_cr0();
    write_cr0(before);
    if (vec != want || g_caught.error != error || cr0 != before)
        fail(name,
             "exception %d error 0x%llx, CR0 0x%llx; expected %d (%s) error 0x%llx, CR0 0x%llx",
             vec, (unsigned long long)g_caught.error, (unsigned long long)cr0, want,
             vector_name((unsigned)want), (unsigned long long)error, (unsigned long long)before);
    else
        pass(name);
}

static void check_forms(uint64_t before)
{
    uint16_t src = (uint16_t)(before | CR0_TS);
    volatile uint16_t *w = &g_word;
    *w = src;
    conform_lmsw_word = src;
    uint64_t p = (uint64_t)(uintptr_t)w;

    expect_loaded("lmsw_mem_base", TRY("lmsw (%[p])", [p] "r"(p)), before);
    expect_loaded("lmsw_mem_rip_relative", TRY("lmsw conform_lmsw_word(%%rip)", "r"(0)), before);
    expect_loaded("lmsw_mem_sib", TRY("lmsw 6(%[b],%[i],4)", [b] "r"(p - 6 - 12), [i] "r"(3ull)),
                  before);
    /* REX.B and REX.X: R13 base, R14 index. */
    expect_loaded("lmsw_mem_rex_sib",
                  TRY_WRAPPED("movq %[b], %%r13\n\tmovq %[i], %%r14", "lmsw 0x10(%%r13,%%r14,2)",
                              "", [b] "r"(p - 0x10 - 0x40), [i] "r"(0x20ull)),
                  before);
    /* RBP base: SS by default. */
    expect_loaded("lmsw_mem_rbp_base",
                  TRY_WRAPPED("movq %%rbp, %%rdx\n\tmovq %[b], %%rbp", "lmsw 0x20(%%rbp)",
                              "movq %%rdx, %%rbp", [b] "r"(p - 0x20)),
                  before);
    /* RSP base, on the guest's own stack. */
    expect_loaded("lmsw_mem_rsp_base",
                  TRY_WRAPPED("subq $16, %%rsp\n\tmovw %w[v], 8(%%rsp)", "lmsw 8(%%rsp)",
                              "addq $16, %%rsp", [v] "r"((uint64_t)src)),
                  before);
    /* 0x67: a 32-bit address, bits 63:32 of the register ignored. */
    expect_loaded("lmsw_mem_addr32", TRY("lmsw (%k[p])", [p] "r"(p | 0xdead00000000ull)), before);
    /* FS override: FS.base added in 64-bit mode. */
    uint64_t fs = rdmsr64(MSR_FS_BASE);
    try_wrmsr(MSR_FS_BASE, p - 0x100);
    int vec = TRY("lmsw %%fs:0x100", "r"(0));
    try_wrmsr(MSR_FS_BASE, fs);
    expect_loaded("lmsw_mem_fs_override", vec, before);
}

static void check_rules(uint64_t before)
{
    /* Bits 15:4 of the source are ignored; PE cannot be cleared. */
    g_word = 0xfff0;
    int vec = TRY("lmsw (%[p])", [p] "r"(&g_word));
    uint64_t cr0 = read_cr0();
    write_cr0(before);
    if (vec == -1 && cr0 == (before & ~CR0_MPEMTS) && (cr0 & CR0_PE))
        pass("lmsw_mem_keeps_pe_and_high_bits");
    else
        fail("lmsw_mem_keeps_pe_and_high_bits", "exception %d, CR0 0x%llx from 0x%llx", vec,
             (unsigned long long)cr0, (unsigned long long)before);
    /* MP, EM and TS are set together. */
    g_word = (uint16_t)(CR0_PE | CR0_MPEMTS);
    vec = TRY("lmsw (%[p])", [p] "r"(&g_word));
    cr0 = read_cr0();
    write_cr0(before);
    if (vec == -1 && cr0 == (before | CR0_MPEMTS))
        pass("lmsw_mem_sets_mp_em_ts");
    else
        fail("lmsw_mem_sets_mp_em_ts", "exception %d, CR0 0x%llx from 0x%llx", vec,
             (unsigned long long)cr0, (unsigned long long)before);
}

static void check_faults(uint64_t before)
{
    uint64_t page0 = (uint64_t)(uintptr_t)g_pages, page1 = page0 + 4096;
    *(volatile uint16_t *)(page0 + 0x10) = (uint16_t)(before | CR0_TS);
    /* LMSW only reads: a read-only page is fine. */
    if (!pt_set_flags(page0, 4096, 0, PTE_W) || !pt_set_flags(page1, 4096, 0, PTE_P)) {
        fail("lmsw_mem_unmapped_pf", "cannot change the guest's page tables");
        return;
    }
    expect_loaded("lmsw_mem_read_only_page", TRY("lmsw (%[p])", [p] "r"(page0 + 0x10)), before);
    /* Not present: #PF, error 0 (read, supervisor), CR2 the address. */
    int vec = TRY("lmsw (%[p])", [p] "r"(page1 + 0x10));
    uint64_t cr2 = read_cr2();
    expect_fault("lmsw_mem_unmapped_pf", vec, VEC_PF, 0, before);
    if (vec == VEC_PF && cr2 != page1 + 0x10)
        fail("lmsw_mem_unmapped_pf_cr2", "CR2 0x%llx, expected 0x%llx", (unsigned long long)cr2,
             (unsigned long long)(page1 + 0x10));
    else if (vec == VEC_PF)
        pass("lmsw_mem_unmapped_pf_cr2");
    /* A word across into the missing page: its second byte faults. */
    vec = TRY("lmsw (%[p])", [p] "r"(page1 - 1));
    cr2 = read_cr2();
    expect_fault("lmsw_mem_page_straddle_pf", vec, VEC_PF, 0, before);
    if (vec == VEC_PF && cr2 != page1)
        fail("lmsw_mem_page_straddle_pf_cr2", "CR2 0x%llx, expected 0x%llx",
             (unsigned long long)cr2, (unsigned long long)page1);
    else if (vec == VEC_PF)
        pass("lmsw_mem_page_straddle_pf_cr2");
    pt_set_flags(page0, 2 * 4096, PTE_P | PTE_W, 0);
    /* Non-canonical: #GP(0), and #SS(0) through RBP (SS). */
    uint64_t nc = 0x0000800000000010ull;
    expect_fault("lmsw_mem_noncanonical_gp", TRY("lmsw (%[p])", [p] "r"(nc)), VEC_GP, 0, before);
    expect_fault("lmsw_mem_noncanonical_rbp_ss",
                 TRY_WRAPPED("movq %%rbp, %%rdx\n\tmovq %[b], %%rbp", "lmsw (%%rbp)",
                             "movq %%rdx, %%rbp", [b] "r"(nc)),
                 VEC_SS, 0, before);
}

void check_lmsw(void)
{
    clts();
    uint64_t before = read_cr0();
    check_forms(before);
    check_rules(before);
    check_faults(before);
}
