/* exitfuzz: seeded random exits from CPL 0 and CPL 3.
 *
 * Command line: `fuzz=SEED[:OPS[:EVERY]][,skip=CAT+CAT...][,trace]` (the
 * vm= option allows one guest word): OPS operations (0 = forever), a
 * progress line every EVERY operations, none of the categories named after
 * skip= (cpuid msr cr cr3mbz dr xsetbv insn port mmio hypercall exception
 * user);
 * `trace` prints each operation as it runs (to find the one that killed a
 * VM: rerun with the same seed).
 * The same seed gives the same sequence of operations.
 *
 * Operations that only stop or reset this VM by design (COM1, which is
 * this guest's own output, the reset ports, ACPI power-off, HC_STOP_SELF,
 * IA32_APIC_BASE, EFER, INIT and start-up IPIs to itself, accesses
 * outside the MMIO windows) are left out: they would end the run without
 * saying anything about the hypervisor. */
#include "tests/guests/exitfuzz/exitfuzz.h"

static uint64_t g_state;
bool g_trace;
unsigned long g_faults;
static unsigned long g_nmis, g_dbs;

uint64_t fz_rand(void)
{
    /* xorshift64* */
    g_state ^= g_state >> 12;
    g_state ^= g_state << 25;
    g_state ^= g_state >> 27;
    return g_state * 0x2545f4914f6cdd1dull;
}

uint64_t fz_value(void)
{
    switch (fz_below(6)) {
    case 0:
        return 0;
    case 1:
        return ~0ull;
    case 2:
        return 1ull << fz_below(64);
    case 3:
        return fz_below(256);
    case 4:
        return (uint32_t)fz_rand();
    default:
        return fz_rand();
    }
}

static void on_nmi(struct trap_frame64 *f)
{
    (void)f;
    g_nmis++;
}

/* Single-step and data/instruction breakpoints the fuzzer set: count,
 * stop stepping, and resume where FZ_TRY asked if it did. */
static void on_db(struct trap_frame64 *f)
{
    g_dbs++;
    f->rflags &= ~(1ull << 8);
    __asm__ volatile("mov %0, %%dr7" : : "r"(0x400ull));
    if (trap_resume_rip) {
        trap_last_vector = VEC_DB;
        f->rip = trap_resume_rip;
        trap_resume_rip = 0;
    }
}

static struct {
    const char *name;
    const char *(*op)(void);
    unsigned weight;
} g_ops[] = {
    {"cpuid", fz_op_cpuid, 10},
    {"msr", fz_op_msr, 16},
    {"cr", fz_op_cr, 7},
    {"cr3mbz", fz_op_cr3mbz, 1},
    {"dr", fz_op_dr, 5},
    {"xsetbv", fz_op_xsetbv, 3},
    {"insn", fz_op_insn, 8},
    {"port", fz_op_port, 16},
    {"mmio", fz_op_mmio, 16},
    {"hypercall", fz_op_hypercall, 8},
    {"exception", fz_op_exception, 6},
    {"user", fz_op_user, 4},
};
#define NR_OPS (sizeof(g_ops) / sizeof(g_ops[0]))

static const char *run_one(void)
{
    unsigned total = 0;
    for (unsigned i = 0; i < NR_OPS; i++)
        total += g_ops[i].weight;
    unsigned pick = (unsigned)fz_below(total);
    for (unsigned i = 0; i < NR_OPS; i++) {
        if (pick < g_ops[i].weight)
            return g_ops[i].op();
        pick -= g_ops[i].weight;
    }
    return "none";
}

/* skip=a+b+c: weight 0 for each category named. */
static void parse_skip(const char *s)
{
    while (*s && *s != ',') {
        size_t n = 0;
        while (s[n] && s[n] != '+' && s[n] != ',')
            n++;
        for (unsigned i = 0; i < NR_OPS; i++) {
            size_t k = 0;
            while (k < n && g_ops[i].name[k] == s[k])
                k++;
            if (k == n && g_ops[i].name[n] == '\0') {
                g_ops[i].weight = 0;
                printf("exitfuzz: skipping %s\n", g_ops[i].name);
            }
        }
        s += n;
        if (*s == '+')
            s++;
    }
}

/* "SEED[:OPS[:EVERY]]" */
static bool strncmp_prefix(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

static const char *parse_field(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    bool any = false;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint32_t)(*s++ - '0');
        any = true;
    }
    if (any)
        *out = v;
    return *s == ':' ? s + 1 : s;
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    char spec[96];
    uint32_t seed = 1, ops = 10000, every = 1000;
    (void)magic;
    (void)mbi;

    if (cmdline_get("fuzz", spec, sizeof(spec))) {
        const char *p = parse_field(spec, &seed);
        p = parse_field(p, &ops);
        p = parse_field(p, &every);
        while (*p == ',') {
            p++;
            if (strncmp_prefix(p, "skip="))
                parse_skip(p + 5);
            else if (strncmp_prefix(p, "trace"))
                g_trace = true;
            while (*p && *p != ',')
                p++;
        }
    }
    if (every == 0)
        every = 1000;
    g_state = 0x9e3779b97f4a7c15ull * ((uint64_t)seed + 1);
    for (int i = 0; i < 8; i++)
        fz_rand();

    __asm__ volatile("cli");
    set_trap64_handler(2, on_nmi);
    set_trap64_handler(VEC_DB, on_db);
    fz_user_init();
    printf("exitfuzz: seed %u, %u operations%s\n", seed, ops, ops ? "" : " (forever)");

    uint64_t tsc0 = rdtsc();
    for (uint32_t n = 1; ops == 0 || n <= ops; n++) {
        const char *what;
        if (g_trace)
            printf("exitfuzz: op %u\n", n);
        what = run_one();
        if (g_trace)
            printf("exitfuzz: op %u was %s\n", n, what);
        if (n % every == 0)
            printf("exitfuzz: %u operations, %lu faults, %lu nmis, %lu #db\n", n, g_faults, g_nmis,
                   g_dbs);
    }
    printf("exitfuzz: done %u operations, seed %u, %lu faults, %llu tsc\n", ops, seed, g_faults,
           (unsigned long long)(rdtsc() - tsc0));
    guest_exit(0);
}
