/* GDT (from entry.S), TSS and IDT for 32-bit protected mode, and the C
 * side of exception dispatch. */
#include "tests/guests/lib/guest.h"

struct tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap_base;
} __attribute__((packed));

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t zero, type_attr;
    uint16_t off_hi;
} __attribute__((packed));

struct desc_ptr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

extern uint64_t guest_gdt[];
extern uint32_t isr_table[32];
extern uint32_t isr_syscall;

static struct tss32 g_tss __attribute__((aligned(16)));
static struct idt_gate g_idt[256] __attribute__((aligned(16)));
/* Stack for traps taken at CPL 3 (the TSS ring-0 stack). */
static uint8_t g_trap_stack[8192] __attribute__((aligned(16)));
static trap_handler_t g_handlers[256];

volatile uint32_t trap_resume_eip;
volatile int trap_last_vector = -1;

static void set_gate(unsigned vec, uint32_t handler, unsigned dpl)
{
    g_idt[vec].off_lo = (uint16_t)handler;
    g_idt[vec].sel = SEL_KCODE;
    g_idt[vec].zero = 0;
    g_idt[vec].type_attr = (uint8_t)(0x80 | (dpl << 5) | 0xe); /* 32-bit interrupt gate */
    g_idt[vec].off_hi = (uint16_t)(handler >> 16);
}

void desc_init(void)
{
    static bool done;
    if (done)
        return; /* LTR on the now-busy TSS would #GP */
    done = true;

    uint32_t base = (uint32_t)(uintptr_t)&g_tss, limit = sizeof(g_tss) - 1;

    memset(&g_tss, 0, sizeof(g_tss));
    g_tss.ss0 = SEL_KDATA;
    g_tss.esp0 = (uint32_t)(uintptr_t)(g_trap_stack + sizeof(g_trap_stack));
    g_tss.iomap_base = sizeof(g_tss); /* no I/O bitmap: ring 3 gets no ports */
    /* Present, DPL 0, type 9 (available 32-bit TSS), byte granular. */
    guest_gdt[SEL_TSS / 8] = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
                             (0x89ull << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
                             ((uint64_t)(base >> 24) << 56);
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");

    for (unsigned v = 0; v < 32; v++)
        set_gate(v, isr_table[v], 0);
    set_gate(VEC_SYSCALL, isr_syscall, 3);
    struct desc_ptr idtr = {sizeof(g_idt) - 1, (uint32_t)(uintptr_t)g_idt};
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void load_empty_idt(void)
{
    struct desc_ptr idtr = {0, 0};
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void set_trap_handler(unsigned vector, trap_handler_t h)
{
    if (vector < 256)
        g_handlers[vector] = h;
}

void guest_trap(struct trap_frame *f);

void guest_trap(struct trap_frame *f)
{
    static int in_fatal;

    if (g_handlers[f->vector & 0xff]) {
        g_handlers[f->vector & 0xff](f);
        return;
    }
    if (trap_resume_eip) {
        trap_last_vector = (int)f->vector;
        f->eip = trap_resume_eip;
        trap_resume_eip = 0;
        return;
    }
    if (in_fatal++)
        halt_forever();
    printf("guest: unexpected exception %u %s at eip 0x%x cs 0x%x error 0x%x\n", f->vector,
           vector_name(f->vector), f->eip, f->cs, f->error);
    guest_exit(0x100 + f->vector);
}
