/* exitfuzz operations on devices: port I/O (single and string), MMIO in
 * the LAPIC and IOAPIC windows with every instruction form the decoder
 * knows, and hypercalls with random arguments. */
#include "tests/guests/exitfuzz/exitfuzz.h"

#define LAPIC_BASE  0xfee00000ull
#define IOAPIC_BASE 0xfec00000ull
#define WINDOW_SIZE 0x1000u

static void count_fault(int vec)
{
    if (vec >= 0)
        g_faults++;
}

/* Ports that only stop or reset this VM, or garble its own output. */
static bool port_allowed(uint16_t port, unsigned size)
{
    uint32_t end = (uint32_t)port + size;
    struct {
        uint16_t lo, hi;
    } deny[] = {
        {0x3f8, 0x400}, /* COM1: this guest's console */
        {0x92, 0x93},   /* fast reset */
        {0x64, 0x65},   /* keyboard controller reset */
        {0x604, 0x606}, /* ACPI PM1a_CNT: power-off */
        {0xcf9, 0xcfa}, /* reset control */
    };
    for (unsigned i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
        if (port < deny[i].hi && end > deny[i].lo)
            return false;
    return true;
}

static uint16_t pick_port(void)
{
    static const uint16_t known[] = {0x20,  0x21,  0x40,  0x41,  0x43,  0x61,  0x70,  0x71,
                                     0xa0,  0xa1,  0x4d0, 0x4d1, 0x600, 0x602, 0x608, 0xcf8,
                                     0xcfc, 0xcfe, 0x2f8, 0x80,  0xe9,  0x402, 0x510, 0x8900};
    switch (fz_below(3)) {
    case 0:
        return known[fz_below(sizeof(known) / sizeof(known[0]))];
    case 1:
        return (uint16_t)fz_below(0x1000);
    default:
        return (uint16_t)fz_rand();
    }
}

const char *fz_op_port(void)
{
    static uint8_t buf[64];
    struct fz_regs r = {.rax = fz_value()};
    unsigned size = 1u << fz_below(3);
    uint16_t port;
    do
        port = pick_port();
    while (!port_allowed(port, size) ||
           (fz_below(4) == 0 && !port_allowed((uint16_t)(port & 0xfff8), 8)));
    r.rdx = port;
    /* 0xCF8 gets a PCI configuration address now and then, so that the
     * data port reads something. */
    if (port == 0xcf8 && fz_below(2))
        r.rax = 0x80000000u | (uint32_t)(fz_below(256) << 8) | (uint32_t)(fz_below(64) << 2);
    r.rdi = r.rsi = (uint64_t)(uintptr_t)buf;
    r.rcx = fz_below(sizeof(buf) / 4 + 1);
    switch (fz_below(5) * 4 + (size == 1 ? 0 : size == 2 ? 1 : 2)) {
    case 0:
        count_fault(FZ_TRY("inb %%dx, %%al", &r));
        return "inb";
    case 1:
        count_fault(FZ_TRY("inw %%dx, %%ax", &r));
        return "inw";
    case 2:
        count_fault(FZ_TRY("inl %%dx, %%eax", &r));
        return "inl";
    case 4:
        count_fault(FZ_TRY("outb %%al, %%dx", &r));
        return "outb";
    case 5:
        count_fault(FZ_TRY("outw %%ax, %%dx", &r));
        return "outw";
    case 6:
        count_fault(FZ_TRY("outl %%eax, %%dx", &r));
        return "outl";
    case 8:
        count_fault(FZ_TRY("cld\n\trep insb", &r));
        return "rep-insb";
    case 9:
        count_fault(FZ_TRY("cld\n\trep insw", &r));
        return "rep-insw";
    case 10:
        count_fault(FZ_TRY("cld\n\trep insl", &r));
        return "rep-insl";
    case 12:
        count_fault(FZ_TRY("cld\n\trep outsb", &r));
        return "rep-outsb";
    case 13:
        count_fault(FZ_TRY("cld\n\trep outsw", &r));
        return "rep-outsw";
    case 14:
        count_fault(FZ_TRY("cld\n\trep outsl", &r));
        return "rep-outsl";
    case 16:
        r.rcx = 1;
        count_fault(FZ_TRY("insb", &r));
        return "insb";
    case 17:
        count_fault(FZ_TRY("outsw", &r));
        return "outsw";
    default:
        count_fault(FZ_TRY("std\n\tinsl\n\tcld", &r));
        return "insl-down";
    }
}

/* A value for a LAPIC or IOAPIC register that cannot send INIT, SIPI,
 * SMI or ExtINT (delivery modes that would stop this guest by design). */
static uint64_t tame(uint64_t v)
{
    uint64_t mode = (v >> 8) & 7;
    if (mode != 0 && mode != 1 && mode != 4)
        v &= ~(7ull << 8);
    return v;
}

/* One access at `addr` (inside a window) with a random instruction form. */
static const char *mmio_access(uint64_t addr, bool rmw_ok)
{
    struct fz_regs r = {.rdi = addr, .rax = tame(fz_value())};
    switch (fz_below(rmw_ok ? 18 : 12)) {
    case 0:
        count_fault(FZ_TRY("movb (%%rdi), %%al", &r));
        return "mmio-rb";
    case 1:
        count_fault(FZ_TRY("movw (%%rdi), %%ax", &r));
        return "mmio-rw";
    case 2:
    case 3:
        count_fault(FZ_TRY("movl (%%rdi), %%eax", &r));
        return "mmio-rl";
    case 4:
        count_fault(FZ_TRY("movq (%%rdi), %%rax", &r));
        return "mmio-rq";
    case 5:
        count_fault(FZ_TRY("movzbl (%%rdi), %%eax\n\tmovswq (%%rdi), %%rdx", &r));
        return "mmio-movzx";
    case 6:
        count_fault(FZ_TRY("movb %%al, (%%rdi)", &r));
        return "mmio-wb";
    case 7:
        count_fault(FZ_TRY("movw %%ax, (%%rdi)", &r));
        return "mmio-ww";
    case 8:
    case 9:
        count_fault(FZ_TRY("movl %%eax, (%%rdi)", &r));
        return "mmio-wl";
    case 10:
        count_fault(FZ_TRY("movq %%rax, (%%rdi)", &r));
        return "mmio-wq";
    case 11:
        count_fault(FZ_TRY("movl $0x5a5a0031, (%%rdi)\n\tcmpl (%%rdi), %%eax\n\t"
                           "testl %%eax, (%%rdi)",
                           &r));
        return "mmio-imm-cmp-test";
    case 12:
        count_fault(FZ_TRY("addl %%eax, (%%rdi)", &r));
        return "mmio-add";
    case 13:
        count_fault(FZ_TRY("orl %%eax, (%%rdi)", &r));
        return "mmio-or";
    case 14:
        count_fault(FZ_TRY("andl %%eax, (%%rdi)", &r));
        return "mmio-and";
    case 15:
        count_fault(FZ_TRY("xorl %%eax, (%%rdi)", &r));
        return "mmio-xor";
    case 16:
        count_fault(FZ_TRY("subl %%eax, (%%rdi)", &r));
        return "mmio-sub";
    default:
        count_fault(FZ_TRY("addl (%%rdi), %%eax\n\torq (%%rdi), %%rdx", &r));
        return "mmio-read-alu";
    }
}

const char *fz_op_mmio(void)
{
    if (fz_below(3)) {
        /* LAPIC: registers at 16-byte strides (the whole window), sometimes
         * misaligned but never reaching into the next register, so that
         * the ICR is written only with a plain, tamed MOV. */
        uint32_t off = (uint32_t)fz_below(WINDOW_SIZE >> 4) << 4;
        if (fz_below(8) == 0)
            off += (uint32_t)fz_below(9);
        bool icr = off >= 0x300 && off < 0x320;
        if (icr) {
            struct fz_regs r = {.rdi = LAPIC_BASE + 0x300, .rax = tame(fz_rand())};
            r.rax &= ~(3ull << 18); /* no shorthand: to itself or by destination */
            count_fault(FZ_TRY("movl %%eax, (%%rdi)", &r));
            return "lapic-icr";
        }
        return mmio_access(LAPIC_BASE + off, true);
    }
    /* IOAPIC: select a register, then touch the window. */
    struct fz_regs r = {.rdi = IOAPIC_BASE, .rax = fz_below(4) ? fz_below(0x40) : fz_value()};
    uint32_t sel = (uint32_t)r.rax;
    count_fault(FZ_TRY("movl %%eax, (%%rdi)", &r));
    if (fz_below(2)) {
        r = (struct fz_regs){.rdi = IOAPIC_BASE + 0x10, .rax = fz_value()};
        if ((sel & 0xff) >= 0x10 && !(sel & 1))
            r.rax = tame(r.rax);
        count_fault(FZ_TRY("movl %%eax, (%%rdi)", &r));
        return "ioapic-write";
    }
    uint32_t off = fz_below(4) ? 0x10 : (uint32_t)fz_below(WINDOW_SIZE - 8);
    return mmio_access(IOAPIC_BASE + off, false);
}

const char *fz_op_hypercall(void)
{
    static const char probe[] = "exitfuzz: console-write probe\n";
    struct fz_regs r = {0};
    do
        r.rax = fz_below(8) ? fz_below(HC_COUNT + 4) : fz_value();
    while (r.rax == HC_STOP_SELF);
    r.rbx = fz_value();
    r.rcx = fz_value();
    r.rdx = fz_value();
    r.rsi = fz_value();
    if (r.rax == HC_CONSOLE_WRITE) {
        /* Garbage from guest memory would garble the output: either the
         * probe line, or a buffer the hypervisor must refuse. */
        static const uint64_t bad[] = {0xfee00000, 0xffffffff, 0xa0000, 0x100000000ull, ~0ull};
        if (fz_below(16) == 0) {
            r.rbx = (uint64_t)(uintptr_t)probe;
            r.rcx = sizeof(probe) - 1;
        } else {
            r.rbx = bad[fz_below(sizeof(bad) / sizeof(bad[0]))];
            r.rcx = fz_below(2) ? 1 : fz_value();
            if (r.rcx == 0)
                r.rcx = 4097;
        }
    }
    count_fault(FZ_TRY("vmcall", &r));
    return "hypercall";
}
