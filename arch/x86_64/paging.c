#include "arch/x86_64/paging.h"

#include "arch/x86_64/cpu.h"
#include "boot/mb2info.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "mm/pmm.h"

#define PTE_P         (1ULL << 0)
#define PTE_W         (1ULL << 1)
#define PTE_PWT       (1ULL << 3)
#define PTE_PCD       (1ULL << 4)
#define PTE_PS        (1ULL << 7)
#define PTE_G         (1ULL << 8)
#define PTE_NX        (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

#define SIZE_2M (2ULL << 20)
#define SIZE_1G (1ULL << 30)

extern char __image_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[],
    __data_start[], __image_end[], bsp_stack_guard[];

static uint64_t *pml4;
static uint64_t nx_bit;
static spinlock_t paging_lock = SPINLOCK_INIT;
static char protections[40];

static uint64_t *alloc_table(void)
{
    uint64_t p = pmm_alloc(1, 1, "page tables");
    if (!p)
        return NULL;
    memset((void *)p, 0, PAGE_SIZE);
    return (uint64_t *)p;
}

static uint64_t leaf_bits(unsigned flags)
{
    uint64_t b = PTE_P | PTE_G;
    if (flags & PG_W)
        b |= PTE_W;
    if (!(flags & PG_X))
        b |= nx_bit;
    if (flags & PG_UC)
        b |= PTE_PCD | PTE_PWT;
    return b;
}

/* Returns the entry mapping va at `level` (3 = PDPT entry, 2 = PD, 1 = PT),
 * creating tables and splitting larger pages on the way. */
static uint64_t *walk(uint64_t va, int level)
{
    uint64_t *table = pml4;
    for (int l = 4; l > level; l--) {
        unsigned idx = (va >> (12 + 9 * (l - 1))) & 511;
        uint64_t *e = &table[idx];
        if (!(*e & PTE_P)) {
            uint64_t *t = alloc_table();
            if (!t)
                return NULL;
            *e = (uint64_t)t | PTE_P | PTE_W;
        } else if (*e & PTE_PS) {
            /* Split a large page into 512 pages of the next size down. */
            uint64_t *t = alloc_table();
            if (!t)
                return NULL;
            uint64_t base = *e & PTE_ADDR_MASK & ~((1ULL << (12 + 9 * (l - 1))) - 1);
            uint64_t attrs = *e & ~PTE_ADDR_MASK & ~(l - 1 == 1 ? PTE_PS : 0);
            uint64_t step = 1ULL << (12 + 9 * (l - 2));
            for (int i = 0; i < 512; i++)
                t[i] = (base + i * step) | attrs;
            *e = (uint64_t)t | PTE_P | PTE_W;
        }
        table = (uint64_t *)(*e & PTE_ADDR_MASK);
    }
    return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

static int map_range(uint64_t va, uint64_t size, unsigned flags, bool present)
{
    uint64_t end = va + size;
    if ((flags & PG_W) && (flags & PG_X))
        return -1;
    while (va < end) {
        uint64_t *e;
        if (!(va & (SIZE_2M - 1)) && end - va >= SIZE_2M) {
            e = walk(va, 2);
            if (!e)
                return -1;
            *e = present ? (va | leaf_bits(flags) | PTE_PS) : 0;
            va += SIZE_2M;
        } else {
            e = walk(va, 1);
            if (!e)
                return -1;
            *e = present ? (va | leaf_bits(flags)) : 0;
            va += PAGE_SIZE;
        }
    }
    return 0;
}

static void flush_all(void)
{
    /* Toggling PGE flushes global entries too. */
    uint64_t cr4 = read_cr4();
    write_cr4(cr4 & ~CR4_PGE);
    write_cr4(cr4 | CR4_PGE);
}

int paging_set(uint64_t va, uint64_t size, unsigned flags)
{
    va &= ~(PAGE_SIZE - 1);
    size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    spin_lock(&paging_lock);
    int r = map_range(va, size, flags, true);
    spin_unlock(&paging_lock);
    flush_all();
    return r;
}

int paging_unmap(uint64_t va, uint64_t size)
{
    spin_lock(&paging_lock);
    int r = map_range(va & ~(PAGE_SIZE - 1), (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), 0, false);
    spin_unlock(&paging_lock);
    flush_all();
    return r;
}

int paging_map_mmio(uint64_t phys, uint64_t size)
{
    uint64_t start = phys & ~(PAGE_SIZE - 1);
    uint64_t end = (phys + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (end <= start || end > (1ULL << 46))
        return -1;
    return paging_set(start, end - start, PG_W | PG_UC);
}

uint64_t paging_root(void)
{
    return (uint64_t)pml4;
}

bool paging_has_nx(void)
{
    return nx_bit != 0;
}

const char *paging_protections(void)
{
    return protections;
}

static bool chunk_is_ram(const struct mem_region *map, unsigned n, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < n; i++) {
        const struct mem_region *r = &map[i];
        bool ram = r->type == MEM_USABLE || r->type == MEM_ACPI_RECLAIM;
        if (ram && r->base <= start && r->base + r->len >= end)
            return true;
    }
    return false;
}

static void add_protection(const char *name)
{
    size_t len = strlen(protections);
    if (len + strlen(name) + 2 >= sizeof(protections))
        return;
    if (len)
        protections[len++] = ' ';
    str_copy(protections + len, name, sizeof(protections) - len);
}

void paging_init(const struct mem_region *map, unsigned n)
{
    uint64_t top = 4 * SIZE_1G;
    for (unsigned i = 0; i < n; i++)
        if (map[i].base + map[i].len > top)
            top = map[i].base + map[i].len;
    top = (top + SIZE_1G - 1) & ~(SIZE_1G - 1);

    struct cpuid_regs ext = cpuid(0x80000001);
    if ((ext.edx & (1U << 20)) && (rdmsr(MSR_IA32_EFER) & EFER_NXE))
        nx_bit = PTE_NX;

    pml4 = alloc_table();
    if (!pml4)
        return;
    /* Physical memory: RAM write-back, the rest uncached; nothing executable. */
    for (uint64_t a = 0; a < top; a += SIZE_2M) {
        unsigned flags = PG_W;
        if (!chunk_is_ram(map, n, a, a + SIZE_2M))
            flags |= PG_UC;
        if (map_range(a, SIZE_2M, flags, true))
            return;
    }
    /* The image: text R-X, rodata R, data and bss RW. */
    map_range((uint64_t)__text_start, (uint64_t)(__text_end - __text_start), PG_X, true);
    map_range((uint64_t)__image_start, (uint64_t)(__text_start - __image_start), 0, true);
    map_range((uint64_t)__rodata_start, (uint64_t)(__rodata_end - __rodata_start), 0, true);
    map_range((uint64_t)bsp_stack_guard, PAGE_SIZE, 0, false);
    /* Page 0 stays unmapped so a NULL dereference faults. */
    map_range(0, PAGE_SIZE, 0, false);

    write_cr3((uint64_t)pml4);
    write_cr0(read_cr0() | CR0_WP);

    struct cpuid_regs l0 = cpuid(0);
    struct cpuid_regs l7 = {0, 0, 0, 0};
    if (l0.eax >= 7)
        cpuid_count(7, 0, &l7);
    uint64_t cr4 = read_cr4() | CR4_PGE;
    if (nx_bit)
        add_protection("nx");
    add_protection("wp");
    if (l7.ebx & (1U << 7)) {
        cr4 |= CR4_SMEP;
        add_protection("smep");
    }
    if (l7.ebx & (1U << 20)) {
        cr4 |= CR4_SMAP;
        add_protection("smap");
    }
    if (l7.ecx & (1U << 2)) {
        cr4 |= CR4_UMIP;
        add_protection("umip");
    }
    write_cr4(cr4);
    flush_all();
}

void paging_init_ap(void)
{
    write_cr0(read_cr0() | CR0_WP);
    uint64_t cr4 = read_cr4() | CR4_PGE;
    struct cpuid_regs l0 = cpuid(0);
    struct cpuid_regs l7 = {0, 0, 0, 0};
    if (l0.eax >= 7)
        cpuid_count(7, 0, &l7);
    if (l7.ebx & (1U << 7))
        cr4 |= CR4_SMEP;
    if (l7.ebx & (1U << 20))
        cr4 |= CR4_SMAP;
    if (l7.ecx & (1U << 2))
        cr4 |= CR4_UMIP;
    write_cr4(cr4);
}
