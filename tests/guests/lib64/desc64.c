/* GDT (from entry64.S), 64-bit TSS and IDT, exception dispatch, and the
 * start of the 64-bit runtime. */
#include "tests/guests/lib64/lib64.h"

struct tss64 {
    uint32_t r0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t r1;
    uint64_t ist[7];
    uint64_t r2;
    uint16_t r3, iomap_base;
} __attribute__((packed));

struct idt_gate64 {
    uint16_t off_lo, sel;
    uint8_t ist, type_attr;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

struct desc_ptr64 {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern uint64_t lib64_gdt[];
extern const uint64_t lib64_isr_table[32];
void lib64_isr128(void);

static struct tss64 g_tss __attribute__((aligned(16)));
static struct idt_gate64 g_idt[256] __attribute__((aligned(16)));
/* Stack for traps taken at CPL 3 (TSS.RSP0). */
static uint8_t g_trap_stack[8192] __attribute__((aligned(16)));
static trap64_handler_t g_handlers[256];
static bool g_has_xsave;

volatile uint64_t trap_resume_rip;
volatile int trap_last_vector = -1;

static void set_gate(unsigned vec, uint64_t handler, unsigned dpl)
{
    g_idt[vec] = (struct idt_gate64){
        .off_lo = (uint16_t)handler,
        .sel = SEL_KCODE,
        .ist = 0,
        .type_attr = (uint8_t)(0x80 | (dpl << 5) | 0xe), /* 64-bit interrupt gate */
        .off_mid = (uint16_t)(handler >> 16),
        .off_hi = (uint32_t)(handler >> 32),
        .zero = 0,
    };
}

/* The IDT is shared; each CPU loads it (APs too, from lib64_ap_main). */
void lib64_load_idt(void);
void lib64_load_idt(void)
{
    struct desc_ptr64 idtr = {sizeof(g_idt) - 1, (uint64_t)(uintptr_t)g_idt};
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

static void desc64_init(void)
{
    uint64_t base = (uint64_t)(uintptr_t)&g_tss, limit = sizeof(g_tss) - 1;
    memset(&g_tss, 0, sizeof(g_tss));
    g_tss.rsp0 = (uint64_t)(uintptr_t)(g_trap_stack + sizeof(g_trap_stack));
    g_tss.iomap_base = sizeof(g_tss); /* no I/O bitmap: ring 3 gets no ports */
    /* Present, DPL 0, type 9 (available 64-bit TSS); the upper half holds
     * base bits 63:32. */
    lib64_gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    lib64_gdt[SEL_TSS / 8 + 1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, lib64_isr_table[v], 0);
    set_gate(VEC_USER_GATE, (uint64_t)(uintptr_t)lib64_isr128, 3);
    lib64_load_idt();
}

/* SSE for the compiler-free SIMD code of the tests, XSAVE when present. */
void lib64_fpu_init(void);
void lib64_fpu_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    write_cr0((read_cr0() & ~(1ul << 2)) | (1ul << 1)); /* EM off, MP on */
    uint64_t cr4 = read_cr4() | (1u << 9) | (1u << 10); /* OSFXSR, OSXMMEXCPT */
    if (c & (1u << 26))
        cr4 |= 1u << 18; /* OSXSAVE */
    write_cr4(cr4);
    g_has_xsave = (c & (1u << 26)) != 0;
}

bool cpu_has_xsave(void)
{
    return g_has_xsave;
}

void set_trap64_handler(unsigned vector, trap64_handler_t h)
{
    if (vector < 256)
        g_handlers[vector] = h;
}

void lib64_trap(struct trap_frame64 *f);
void lib64_trap(struct trap_frame64 *f)
{
    static int in_fatal;
    unsigned vec = (unsigned)(f->vector & 0xff);

    if (g_handlers[vec]) {
        g_handlers[vec](f);
        return;
    }
    if (trap_resume_rip) {
        trap_last_vector = (int)vec;
        f->rip = trap_resume_rip;
        trap_resume_rip = 0;
        return;
    }
    if (in_fatal++)
        halt_forever();
    printf("guest: unexpected exception %u %s at rip 0x%llx cs 0x%llx error 0x%llx\n", vec,
           vector_name(vec), (unsigned long long)f->rip, (unsigned long long)f->cs,
           (unsigned long long)f->error);
    guest_exit(0x100 + vec);
}

void guest_lib_start(uint32_t magic, uint32_t mbi);

void lib64_start(uint32_t magic, uint32_t mbi)
{
    desc64_init();
    lib64_fpu_init();
    guest_lib_start(magic, mbi);
}
