/* exitfuzz operations on the CPU itself: CPUID, MSRs, control and debug
 * registers, XSETBV, instructions a hypervisor must intercept, exceptions. */
#include "tests/guests/exitfuzz/exitfuzz.h"

static void count_fault(int vec)
{
    if (vec >= 0)
        g_faults++;
}

const char *fz_op_cpuid(void)
{
    static const uint32_t bases[] = {0, 0x40000000, 0x80000000};
    struct fz_regs r = {0};
    if (fz_below(8) == 0)
        r.rax = (uint32_t)fz_rand();
    else
        r.rax = bases[fz_below(3)] + (uint32_t)fz_below(0x24);
    r.rcx = fz_below(4) ? fz_below(8) : (uint32_t)fz_rand();
    count_fault(FZ_TRY("cpuid", &r));
    return "cpuid";
}

/* Writes that only break this guest by design (see exitfuzz.c). */
static bool msr_write_allowed(uint32_t msr)
{
    switch (msr) {
    case 0x1b:       /* IA32_APIC_BASE: would move or disable the LAPIC window */
    case 0x1a0:      /* IA32_MISC_ENABLE: XD disable breaks the NX page tables */
    case 0x277:      /* IA32_PAT */
    case 0x830:      /* x2APIC ICR: INIT to itself */
    case 0xc0000080: /* EFER */
        return false;
    default:
        return true;
    }
}

const char *fz_op_msr(void)
{
    struct fz_regs r = {0};
    uint32_t msr;
    switch (fz_below(10)) {
    case 0 ... 4:
        msr = (uint32_t)fz_below(0x2000);
        break;
    case 5 ... 8:
        msr = 0xc0000000u + (uint32_t)fz_below(0x2000);
        break;
    default:
        msr = (uint32_t)fz_rand();
        break;
    }
    r.rcx = msr;
    int vec = FZ_TRY("rdmsr", &r);
    count_fault(vec);
    if (fz_below(2) || !msr_write_allowed(msr))
        return "rdmsr";
    uint64_t val = vec < 0 ? ((r.rdx << 32) | (uint32_t)r.rax) : 0;
    switch (fz_below(3)) {
    case 0: /* write back what was read */
        break;
    case 1:
        val ^= 1ull << fz_below(64);
        break;
    default:
        val = fz_value();
        break;
    }
    r = (struct fz_regs){.rcx = msr, .rax = (uint32_t)val, .rdx = val >> 32};
    count_fault(FZ_TRY("wrmsr", &r));
    return "wrmsr";
}

static uint64_t read_cr0_64(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

const char *fz_op_cr(void)
{
    struct fz_regs r = {0};
    switch (fz_below(6)) {
    case 0: { /* CR0: flip one bit (PG and PE included: must be #GP in long mode) */
        uint64_t old = read_cr0_64();
        r.rax = old ^ (1ull << fz_below(fz_below(4) ? 32 : 64));
        if (g_trace)
            printf("exitfuzz: cr0 0x%llx -> 0x%llx\n", (unsigned long long)old,
                   (unsigned long long)r.rax);
        count_fault(FZ_TRY("mov %%rax, %%cr0", &r));
        r.rax = old;
        count_fault(FZ_TRY("mov %%rax, %%cr0", &r));
        return "cr0";
    }
    case 1: { /* CR4: flip one bit, then restore */
        uint64_t old = read_cr4();
        r.rax = old ^ (1ull << fz_below(fz_below(4) ? 25 : 64));
        if (g_trace)
            printf("exitfuzz: cr4 0x%llx -> 0x%llx\n", (unsigned long long)old,
                   (unsigned long long)r.rax);
        count_fault(FZ_TRY("mov %%rax, %%cr4", &r));
        r.rax = old;
        count_fault(FZ_TRY("mov %%rax, %%cr4", &r));
        return "cr4";
    }
    case 2: { /* CR3: the same tables, with random PWT/PCD */
        uint64_t old = read_cr3();
        r.rax = old | fz_below(2) << 3 | fz_below(2) << 4;
        count_fault(FZ_TRY("mov %%rax, %%cr3", &r));
        r.rax = old;
        count_fault(FZ_TRY("mov %%rax, %%cr3", &r));
        return "cr3";
    }
    case 3: /* CR8: any value, reserved bits too, then 0 */
        r.rax = fz_below(2) ? fz_below(16) : fz_value();
        if (g_trace)
            printf("exitfuzz: cr8 <- 0x%llx\n", (unsigned long long)r.rax);
        count_fault(FZ_TRY("mov %%rax, %%cr8\n\tmov %%cr8, %%rbx", &r));
        r.rax = 0;
        count_fault(FZ_TRY("mov %%rax, %%cr8", &r));
        return "cr8";
    case 4: /* CLTS, LMSW, SMSW */
        r.rax = read_cr0_64() & 0xffff;
        r.rbx = r.rax ^ (1u << fz_below(4));
        if (g_trace)
            printf("exitfuzz: clts, lmsw 0x%llx\n", (unsigned long long)r.rbx);
        count_fault(FZ_TRY("clts\n\tlmsw %%bx\n\tsmsw %%rdx\n\tlmsw %%ax", &r));
        return "clts-lmsw";
    default: /* reads */
        count_fault(FZ_TRY("mov %%cr0, %%rax\n\tmov %%cr2, %%rbx\n\tmov %%cr3, %%rdx\n\t"
                           "mov %%cr4, %%rsi\n\tmov %%cr8, %%rdi",
                           &r));
        return "cr-read";
    }
}

/* MOV CR3 with a bit above MAXPHYADDR (52-63): #GP on a real CPU. A
 * category of its own because QEMU TCG lets it through under SVM (see
 * test_exitfuzz.py). */
const char *fz_op_cr3mbz(void)
{
    uint64_t old = read_cr3();
    struct fz_regs r = {.rax = old | 1ull << (52 + fz_below(12))};
    if (g_trace)
        printf("exitfuzz: cr3 <- 0x%llx\n", (unsigned long long)r.rax);
    count_fault(FZ_TRY("mov %%rax, %%cr3", &r));
    r.rax = old;
    count_fault(FZ_TRY("mov %%rax, %%cr3", &r));
    return "cr3mbz";
}

const char *fz_op_dr(void)
{
    struct fz_regs r = {.rax = fz_value(), .rbx = 0x400};
    switch (fz_below(5)) {
    case 0:
        count_fault(FZ_TRY("mov %%rax, %%dr0\n\tmov %%dr0, %%rdx", &r));
        break;
    case 1:
        count_fault(FZ_TRY("mov %%rax, %%dr3\n\tmov %%dr3, %%rdx", &r));
        break;
    case 2:
        count_fault(FZ_TRY("mov %%rax, %%dr6\n\tmov %%dr6, %%rdx", &r));
        break;
    case 3: /* DR7, breakpoints on random addresses, GD included */
        r.rax &= fz_below(2) ? 0xffffffffull : ~0ull;
        count_fault(FZ_TRY("mov %%rax, %%dr7\n\tmov %%dr7, %%rdx\n\tmov %%rbx, %%dr7", &r));
        break;
    default:
        count_fault(FZ_TRY("mov %%dr6, %%rax\n\tmov %%dr7, %%rdx", &r));
        break;
    }
    r.rbx = 0x400;
    count_fault(FZ_TRY("mov %%rbx, %%dr7", &r));
    return "dr";
}

const char *fz_op_xsetbv(void)
{
    if (!cpu_has_xsave())
        return "xsetbv-none";
    uint64_t old = xgetbv0();
    struct fz_regs r = {0};
    uint64_t v = fz_below(4) ? (1 | fz_below(0x400)) : fz_value();
    r.rcx = fz_below(8) ? 0 : fz_below(4);
    r.rax = (uint32_t)v;
    r.rdx = v >> 32;
    count_fault(FZ_TRY("xsetbv\n\txgetbv", &r));
    count_fault(try_xsetbv0(old));
    return "xsetbv";
}

/* Instructions a VMM intercepts or must refuse. MWAIT and HLT are left
 * out: with interrupts off they would wait forever. */
const char *fz_op_insn(void)
{
    struct fz_regs r = {.rax = fz_value(), .rcx = fz_value(), .rdx = fz_value()};
    static uint64_t mem[4] __attribute__((aligned(64)));
    r.rbx = (uint64_t)(uintptr_t)mem;
    switch (fz_below(14)) {
    case 0:
        count_fault(FZ_TRY("invd", &r));
        return "invd";
    case 1:
        count_fault(FZ_TRY("wbinvd", &r));
        return "wbinvd";
    case 2:
        count_fault(FZ_TRY("getsec", &r));
        return "getsec";
    case 3:
        count_fault(FZ_TRY("rdpmc", &r));
        return "rdpmc";
    case 4:
        count_fault(FZ_TRY("rdtscp\n\trdtsc", &r));
        return "rdtsc";
    case 5:
        count_fault(FZ_TRY("invlpg (%%rbx)\n\tinvlpg (%%rax)", &r));
        return "invlpg";
    case 6:
        count_fault(FZ_TRY("invpcid (%%rbx), %%rax", &r));
        return "invpcid";
    case 7:
        count_fault(FZ_TRY("vmxon (%%rbx)", &r));
        return "vmxon";
    case 8:
        count_fault(FZ_TRY("vmptrld (%%rbx)\n\tvmlaunch\n\tvmresume\n\tvmxoff", &r));
        return "vmx";
    case 9:
        count_fault(
            FZ_TRY("vmread %%rax, %%rdx\n\tvmwrite %%rdx, %%rax\n\tinvept (%%rbx), %%rax", &r));
        return "vmx-rw";
    case 10:
        r.rax = (uint64_t)(uintptr_t)mem;
        count_fault(FZ_TRY("vmload\n\tvmsave\n\tvmrun", &r));
        return "svm";
    case 11:
        count_fault(FZ_TRY("clgi\n\tstgi\n\tskinit\n\tinvlpga", &r));
        return "svm-gi";
    case 12:
        r.rax = (uint64_t)(uintptr_t)mem;
        r.rcx = 0;
        r.rdx = 0;
        count_fault(FZ_TRY("monitor\n\tpause\n\trdrand %%rsi", &r));
        return "monitor";
    default:
        count_fault(FZ_TRY("vmfunc\n\tvmmcall", &r));
        return "vmfunc";
    }
}

const char *fz_op_exception(void)
{
    struct fz_regs r = {.rax = fz_value(), .rbx = 0, .rdx = 0};
    switch (fz_below(8)) {
    case 0:
        count_fault(FZ_TRY("int3", &r));
        return "int3";
    case 1:
        count_fault(FZ_TRY("ud2", &r));
        return "ud2";
    case 2:
        count_fault(FZ_TRY("divq %%rbx", &r));
        return "de";
    case 3:
        count_fault(FZ_TRY(".byte 0xf1", &r)); /* ICEBP / INT1 */
        return "icebp";
    case 4: /* non-canonical access: #GP */
        r.rsi = 0x8000000000000000ull | (fz_rand() & 0x7ffffffffff0ull);
        count_fault(FZ_TRY("movq (%%rsi), %%rax", &r));
        return "noncanonical";
    case 5: /* beyond the identity map: #PF */
        r.rsi = 0x100000000ull + (fz_rand() & 0xfffffff0ull);
        count_fault(FZ_TRY("movq (%%rsi), %%rax", &r));
        return "pf";
    case 6: /* single step one instruction */
        count_fault(FZ_TRY("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\tnop\n\tnop", &r));
        return "single-step";
    default:
        count_fault(FZ_TRY("int $3\n\tint $6", &r));
        return "int-n";
    }
}
