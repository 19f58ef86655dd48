/* Debug exceptions and RFLAGS.RF (SDM vol. 3 17.2.3, 17.2.4, 17.3.1.1,
 * 6.15): #DB merges into DR6 (bits the CPU does not set stay), its
 * delivery clears DR7.GD (also a single step's), MOV DR with DR7.GD = 1
 * is a #DB with DR6.BD,
 * and a fault's pushed RFLAGS has RF = 1 also when the hypervisor
 * injected it; a trap's has RF = 0. */
#include "tests/guests/conform/conform.h"

#define DR6_FIXED1 0xffff0ff0ull /* bits 4-11 and 16-31 read as 1 (no RTM) */
#define DR6_BD     (1ull << 13)
#define DR6_BS     (1ull << 14)
#define DR7_FIXED1 0x400ull
#define DR7_GD     (1ull << 13)

static inline uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}
static inline void write_dr6(uint64_t v)
{
    __asm__ volatile("mov %0, %%dr6" : : "r"(v));
}
static inline uint64_t read_dr7(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr7, %0" : "=r"(v));
    return v;
}

/* Executes one NOP with RFLAGS.TF set: a single-step #DB after it. */
static int single_step(void)
{
    return TRY("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\tnop", "i"(0));
}

void check_debug(void)
{
    write_dr6(0);
    uint64_t dr6 = read_dr6();
    if (dr6 == DR6_FIXED1)
        pass("dr6_fixed_bits");
    else
        fail("dr6_fixed_bits", "DR6 reads 0x%llx after writing 0, expected 0x%llx",
             (unsigned long long)dr6, (unsigned long long)DR6_FIXED1);

    /* A bit set before the #DB (BD here) must survive it: the CPU only
     * sets the bits of the new condition (BS). */
    write_dr6(DR6_FIXED1 | DR6_BD);
    int vec = single_step();
    dr6 = read_dr6();
    if (vec != VEC_DB)
        fail("db_single_step_merges_dr6", "single step gave exception %d, not #DB", vec);
    else if ((dr6 & (DR6_BS | DR6_BD)) != (DR6_BS | DR6_BD) || (dr6 & DR6_FIXED1) != DR6_FIXED1)
        fail("db_single_step_merges_dr6", "DR6 0x%llx after a single step over DR6 = 0x%llx",
             (unsigned long long)dr6, (unsigned long long)(DR6_FIXED1 | DR6_BD));
    else
        pass("db_single_step_merges_dr6");
    if (vec == VEC_DB && (g_caught.rflags & RFLAGS_RF))
        fail("db_trap_pushes_rf_clear", "the single-step #DB pushed RFLAGS 0x%llx",
             (unsigned long long)g_caught.rflags);
    else if (vec == VEC_DB)
        pass("db_trap_pushes_rf_clear");
    write_dr6(0);

    /* An injected fault (WRMSR to an MSR the vCPU lacks: the hypervisor
     * raises the #GP) pushes RF = 1, as a fault the CPU raises itself. */
    vec = try_wrmsr(0x1234, 0);
    if (vec != VEC_GP)
        fail("injected_gp_pushes_rf", "WRMSR 0x1234 gave exception %d, not #GP", vec);
    else if (!(g_caught.rflags & RFLAGS_RF))
        fail("injected_gp_pushes_rf", "pushed RFLAGS 0x%llx without RF",
             (unsigned long long)g_caught.rflags);
    else
        pass("injected_gp_pushes_rf");
    vec = TRY("ud2", "i"(0));
    if (vec != VEC_UD || !(g_caught.rflags & RFLAGS_RF))
        fail("native_ud_pushes_rf", "ud2 gave exception %d, pushed RFLAGS 0x%llx", vec,
             (unsigned long long)g_caught.rflags);
    else
        pass("native_ud_pushes_rf");

    /* Entering the #DB handler clears GD whatever caused the #DB: here a
     * single step (the hypervisor intercepts it and must clear GD itself;
     * QEMU TCG under SVM, which has no general detection, shows a GD left
     * set as a readable DR7 that still has it). */
    write_dr6(0);
    __asm__ volatile("mov %0, %%dr7" : : "r"(DR7_FIXED1 | DR7_GD));
    vec = single_step();
    uint64_t dr7 = 0;
    int vec2 = TRY("mov %%dr7, %%rcx\n\tmov %%rcx, %[out]", [out] "m"(dr7));
    if (vec != VEC_DB)
        fail("db_single_step_clears_gd", "single step with DR7.GD gave exception %d, not #DB", vec);
    else if (vec2 >= 0)
        fail("db_single_step_clears_gd", "MOV from DR7 after the #DB gave exception %d", vec2);
    else if (dr7 & DR7_GD)
        fail("db_single_step_clears_gd", "DR7 0x%llx after the #DB", (unsigned long long)dr7);
    else
        pass("db_single_step_clears_gd");
    TRY("mov %[v], %%dr7", [v] "r"(DR7_FIXED1)); /* a fault here also clears GD */
    __asm__ volatile("mov %0, %%dr7" : : "r"(DR7_FIXED1));

    /* DR7.GD: the next MOV DR is a #DB (fault) with DR6.BD, and entering
     * the handler clears GD so the handler can use the debug registers. */
    write_dr6(0);
    __asm__ volatile("mov %0, %%dr7" : : "r"(DR7_FIXED1 | DR7_GD));
    vec = TRY("mov %%dr0, %%rcx", "i"(0));
    if (vec != VEC_DB) {
        fail("mov_dr_with_gd_db", "MOV from DR0 with DR7.GD = 1 gave exception %d", vec);
    } else {
        pass("mov_dr_with_gd_db");
    }
    dr7 = 0;
    vec = TRY("mov %%dr7, %%rcx\n\tmov %%rcx, %[out]", [out] "m"(dr7));
    if (vec >= 0) {
        fail("db_delivery_clears_gd", "MOV from DR7 after the #DB gave exception %d (GD still set)",
             vec);
        fail("gd_db_sets_dr6_bd", "DR6 not readable (GD still set)");
        return; /* every further MOV DR would fault as well */
    }
    if (dr7 & DR7_GD)
        fail("db_delivery_clears_gd", "DR7 0x%llx", (unsigned long long)dr7);
    else
        pass("db_delivery_clears_gd");
    dr6 = read_dr6();
    if (dr6 & DR6_BD)
        pass("gd_db_sets_dr6_bd");
    else
        fail("gd_db_sets_dr6_bd", "DR6 0x%llx", (unsigned long long)dr6);
    write_dr6(0);
    __asm__ volatile("mov %0, %%dr7" : : "r"(DR7_FIXED1));
}
