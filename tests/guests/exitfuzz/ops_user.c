/* exitfuzz at CPL 3: a batch of unprivileged and privileged instructions
 * from ring 3, where the privileged ones must fault (#GP, #UD, #PF) inside
 * the guest and never reach a device model or a hypercall. The image is
 * user-accessible only for the batch, so that SMEP and SMAP flips at CPL 0
 * stay harmless. */
#include "tests/guests/exitfuzz/exitfuzz.h"

extern char __image_start[], __image_end[];
void fz_user_call(void (*fn)(void), void *stack_top);
void fz_user_resume(void);
extern uint64_t fz_user_saved_rsp;

static uint8_t g_user_stack[8192] __attribute__((aligned(16)));
static unsigned g_batch;

/* g_faults lives in the image, which ring 3 may write during a batch. */
#define U_TRY(insn, r)                                                                             \
    do {                                                                                           \
        if (FZ_TRY(insn, r) >= 0)                                                                  \
            g_faults++;                                                                            \
    } while (0)

static void user_batch(void)
{
    struct fz_regs r;
    for (unsigned i = 0; i < g_batch; i++) {
        r = (struct fz_regs){.rax = fz_value(), .rcx = fz_below(4), .rdx = fz_below(0x10000)};
        switch (fz_below(16)) {
        case 0:
            r.rax = fz_below(0x20);
            U_TRY("cpuid", &r);
            break;
        case 1:
            U_TRY("rdtsc\n\trdtscp", &r);
            break;
        case 2:
            U_TRY("inb %%dx, %%al", &r);
            break;
        case 3:
            U_TRY("outl %%eax, %%dx", &r);
            break;
        case 4:
            U_TRY("rdmsr", &r);
            break;
        case 5:
            U_TRY("wrmsr", &r);
            break;
        case 6:
            U_TRY("mov %%rax, %%cr0", &r);
            break;
        case 7:
            U_TRY("mov %%rax, %%cr8", &r);
            break;
        case 8:
            U_TRY("hlt", &r);
            break;
        case 9:
            r.rax = fz_below(HC_COUNT);
            U_TRY("vmcall", &r);
            break;
        case 10:
            U_TRY("int3\n\tud2", &r);
            break;
        case 11:
            U_TRY("cli\n\tsti", &r);
            break;
        case 12:
            r.rsi = 0xfee00000ull + (fz_below(0x100) << 4);
            U_TRY("movl (%%rsi), %%eax", &r);
            break;
        case 13:
            U_TRY("xsetbv", &r);
            break;
        case 14:
            U_TRY("mov %%rax, %%dr7\n\tclts\n\twbinvd", &r);
            break;
        default:
            U_TRY(".byte 0xf1\n\tinvlpg (%%rax)", &r);
            break;
        }
    }
    __asm__ volatile("int $0x80");
    for (;;)
        ;
}

/* `int $0x80` from ring 3: back to fz_user_call's caller at CPL 0. */
static void on_user_gate(struct trap_frame64 *f)
{
    f->rip = (uint64_t)(uintptr_t)fz_user_resume;
    f->cs = SEL_KCODE;
    f->ss = SEL_KDATA;
    f->rsp = fz_user_saved_rsp;
    f->rflags = 2;
}

void fz_user_init(void)
{
    set_trap64_handler(VEC_USER_GATE, on_user_gate);
}

const char *fz_op_user(void)
{
    uint64_t start = (uint64_t)(uintptr_t)__image_start, end = (uint64_t)(uintptr_t)__image_end;
    g_batch = 1 + (unsigned)fz_below(16);
    if (!pt_set_flags(start, end - start, PTE_U, 0))
        return "user-no-pages";
    fz_user_call(user_batch, g_user_stack + sizeof(g_user_stack));
    pt_set_flags(start, end - start, 0, PTE_U);
    return "user-batch";
}
