/* LMSW with a memory operand in 32-bit protected mode (the 64-bit forms
 * and page faults are in tests/guests/conform/conform_lmsw.c): 32-bit
 * SIB with a segment override, the 16-bit addressing forms (0x67) through
 * a segment base, and the segmentation checks the emulation must make
 * (vcpu/x86_operand.c): a limit, an expand-down segment, a null segment,
 * each #GP(0) with CR0 unchanged. Runs with paging off. */
#include "tests/guests/conform32/conform32.h"

#define CR0_TS      (1u << 3)
#define SEL_FS_TEST 0x30

/* The GDT of entry.S plus one descriptor for FS. */
static uint64_t g_gdt[7] __attribute__((aligned(8)));
static uint8_t g_area[0x2000] __attribute__((aligned(16)));

static uint64_t data_desc(uint32_t base, uint32_t limit, uint8_t access)
{
    /* Byte granular, D/B = 1. */
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | (0x4ull << 52) |
           ((uint64_t)(base >> 24) << 56);
}

/* FS as a data segment with this base, limit and access byte. */
static void load_fs(uint32_t base, uint32_t limit, uint8_t access)
{
    g_gdt[SEL_FS_TEST / 8] = data_desc(base, limit, access);
    __asm__ volatile("movw %w0, %%fs" : : "r"(SEL_FS_TEST) : "memory");
}

static void expect_loaded(const char *name, int vec, uint32_t before)
{
    uint32_t cr0 = (uint32_t)read_cr0();
    write_cr0(before);
    if (vec != -1 || cr0 != (before | CR0_TS))
        fail(name, "exception %d, CR0 0x%x, expected 0x%x", vec, cr0, before | CR0_TS);
    else
        pass(name);
}

static void expect_gp(const char *name, int vec, uint32_t before)
{
    uint32_t cr0 = (uint32_t)read_cr0();
    write_cr0(before);
    if (vec != VEC_GP || g_error != 0 || cr0 != before)
        fail(name, "exception %d error 0x%x, CR0 0x%x; expected #GP(0), CR0 0x%x", vec, g_error,
             cr0, before);
    else
        pass(name);
}

void check_lmsw32(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) gdtr = {sizeof(g_gdt) - 1, (uint32_t)g_gdt};
    extern uint64_t guest_gdt[];
    extern char guest_gdt_desc[];
    for (unsigned i = 0; i < 6; i++)
        g_gdt[i] = guest_gdt[i];
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");

    __asm__ volatile("clts" ::: "memory");
    uint32_t before = (uint32_t)read_cr0();
    uint16_t src = (uint16_t)(before | CR0_TS);
    uint32_t a = (uint32_t)g_area;
    *(volatile uint16_t *)(g_area + 0x10) = src;

    expect_loaded("lmsw32_mem_base", TRY("lmsw (%[p])", [p] "r"(a + 0x10)), before);
    expect_loaded("lmsw32_mem_es_sib",
                  TRY("lmsw %%es:-4(%[b],%[i],2)", [b] "r"(a + 0x14 - 0x20), [i] "r"(0x10)),
                  before);
    /* 16-bit addressing (0x67): BX + SI and BP + DI through FS's base
     * (BP would use SS without the override). */
    load_fs(a & ~0xffffu, 0xffff, 0x93);
    uint16_t lo = (uint16_t)(a + 0x10);
    expect_loaded("lmsw32_mem_addr16_bx_si",
                  TRY("lmsw %%fs:(%%bx,%%si)", "b"(lo - 0x100u), "S"(0x100u)), before);
    expect_loaded("lmsw32_mem_addr16_bp_di",
                  TRY("pushl %%ebp\n\tmovl %[b], %%ebp\n\tlmsw %%fs:8(%%bp,%%di)\n\tpopl %%ebp",
                      [b] "r"(lo - 0x208u), "D"(0x200u)),
                  before);
    /* Limit 0xfff: the word at 0xffe fits, at 0xfff it does not. */
    *(volatile uint16_t *)(g_area + 0xffe) = src;
    load_fs(a, 0xfff, 0x93);
    expect_loaded("lmsw32_mem_within_limit", TRY("lmsw %%fs:0xffe", "r"(0)), before);
    expect_gp("lmsw32_mem_beyond_limit_gp", TRY("lmsw %%fs:0xfff", "r"(0)), before);
    /* Expand-down, limit 0xfff: offsets above it are the valid ones. */
    *(volatile uint16_t *)(g_area + 0x1000) = src;
    load_fs(a, 0xfff, 0x97);
    expect_loaded("lmsw32_mem_expand_down", TRY("lmsw %%fs:0x1000", "r"(0)), before);
    expect_gp("lmsw32_mem_expand_down_below_gp", TRY("lmsw %%fs:0x800", "r"(0)), before);
    /* A null selector in FS: #GP(0). */
    __asm__ volatile("movw %w0, %%fs" : : "r"(0) : "memory");
    expect_gp("lmsw32_mem_null_segment_gp", TRY("lmsw %%fs:(%[p])", [p] "r"(a + 0x10)), before);

    __asm__ volatile("movw %w0, %%fs\n\tlgdt %1"
                     :
                     : "r"(SEL_KDATA), "m"(*guest_gdt_desc)
                     : "memory");
}
