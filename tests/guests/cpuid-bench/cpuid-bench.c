/* cpuid-bench: average TSC cycles per CPUID (leaf 0) and per VMCALL
 * (HC_VERSION) round trip, over iters= iterations. Both exit
 * unconditionally, so this is the VM exit + entry cost plus the handler.
 * First it checks what the hypervisor's cached CPUID leaves return (the
 * same on every call, the signature, OSXSAVE following CR4) and exits with
 * code 1 if anything is wrong. */
#include "tests/guests/lib/guest.h"

#define DEFAULT_ITERS 1000000u

struct regs {
    uint32_t a, b, c, d;
};

static struct regs leaf(uint32_t l, uint32_t sub)
{
    struct regs r;
    cpuid(l, sub, &r.a, &r.b, &r.c, &r.d);
    return r;
}

static bool same(struct regs x, struct regs y)
{
    return x.a == y.a && x.b == y.b && x.c == y.c && x.d == y.d;
}

static uint32_t cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void set_cr4(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr4" ::"r"(v));
}

#define CR4_OSXSAVE (1u << 18)

/* Returns the number of failed checks (each printed). */
static unsigned check_cpuid(void)
{
    static const uint32_t leaves[][2] = {
        {0, 0},          {1, 0},          {2, 0},          {4, 0},          {4, 1},
        {7, 0},          {0xb, 0},        {0xb, 1},        {0xd, 0},        {0xd, 1},
        {0x15, 0},       {0x16, 0},       {0x17, 0},       {0x80000000, 0}, {0x80000001, 0},
        {0x80000004, 0}, {0x80000008, 0}, {0x80000009, 0}, {0x40000000, 0}, {0x40000010, 0},
        {0x40000011, 0},
    };
    unsigned bad = 0;
    for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        struct regs x = leaf(leaves[i][0], leaves[i][1]);
        struct regs y = leaf(leaves[i][0], leaves[i][1]);
        if (!same(x, y)) {
            printf("cpuid-bench: leaf 0x%x.%u changed between calls\n", leaves[i][0], leaves[i][1]);
            bad++;
        }
    }
    struct regs hv = leaf(0x40000000, 0);
    if (hv.a != 0x40000010 || hv.b != 0x6b6c7542 || hv.c != 0x64616568 || hv.d != 0x5648) {
        printf("cpuid-bench: leaf 0x40000000 is not Bulkhead's\n");
        bad++;
    }
    if (leaf(0, 0).a != 0x16 || !(leaf(1, 0).c & (1u << 31)) || (leaf(1, 0).c & (1u << 5))) {
        printf("cpuid-bench: leaves 0/1 are not the whitelisted ones\n");
        bad++;
    }
    /* OSXSAVE (leaf 1 ECX bit 27) follows CR4.OSXSAVE, which guests set
     * without an exit. */
    if (leaf(1, 0).c & (1u << 26)) {
        uint32_t old = cr4();
        for (unsigned on = 0; on < 2; on++) {
            set_cr4(on ? old | CR4_OSXSAVE : old & ~CR4_OSXSAVE);
            if (!(leaf(1, 0).c & (1u << 27)) != !on) {
                printf("cpuid-bench: OSXSAVE does not follow CR4 (%u)\n", on);
                bad++;
            }
        }
        set_cr4(old);
    }
    return bad;
}

static uint64_t bench_cpuid(uint32_t n)
{
    uint32_t a, b, c, d;
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        cpuid(0, 0, &a, &b, &c, &d);
    return rdtsc() - t0;
}

static uint64_t bench_vmcall(uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        (void)hc_version();
    return rdtsc() - t0;
}

/* VMMCALL, AMD's hypercall instruction (VMCALL is #UD there, taken as the
 * hypercall through the #UD intercept: a longer round trip). */
static uint64_t bench_vmmcall(uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ret;
        __asm__ volatile("vmmcall"
                         : "=a"(ret)
                         : "a"(HC_VERSION), "b"(0), "c"(0), "d"(0), "S"(0)
                         : "memory");
    }
    return rdtsc() - t0;
}

/* The same loop with an instruction that does not exit: what the loop
 * itself costs, for a figure of the exit alone (make bench, docs/svm.md). */
static uint64_t bench_bare(uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        __asm__ volatile("xor %%eax, %%eax" ::: "eax", "memory");
    return rdtsc() - t0;
}

static bool amd_cpu(void)
{
    struct regs r = leaf(0, 0);
    return r.b == 0x68747541 && r.d == 0x69746e65 && r.c == 0x444d4163; /* AuthenticAMD */
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    (void)mbi;
    uint32_t n = cmdline_get_u32("iters", DEFAULT_ITERS);
    if (n == 0)
        n = 1;
    if (check_cpuid())
        guest_exit(1);

    printf("cpuid-bench: cpuid %llu cycles/exit over %u iterations\n",
           udiv64(bench_cpuid(n), n, NULL), n);
    printf("cpuid-bench: vmcall %llu cycles/exit over %u iterations\n",
           udiv64(bench_vmcall(n), n, NULL), n);
    if (amd_cpu())
        printf("cpuid-bench: vmmcall %llu cycles/exit over %u iterations\n",
               udiv64(bench_vmmcall(n), n, NULL), n);
    printf("cpuid-bench: bare %llu cycles/iteration over %u iterations\n",
           udiv64(bench_bare(n), n, NULL), n);
    guest_exit(0);
}
