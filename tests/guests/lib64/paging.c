/* Changes to the identity map entry64.S builds: 2 MiB pages become 4 KiB
 * ones (from a small pool) where a range needs finer flags. */
#include "tests/guests/lib64/lib64.h"

#define PT_POOL 16
#define PDE_PS  (1ull << 7)
#define ADDR    0x000ffffffffff000ull

extern uint64_t lib64_pd[4 * 512];

static uint64_t g_pool[PT_POOL][512] __attribute__((aligned(4096)));
static unsigned g_pool_used;

static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* The 4 KiB entry mapping va, splitting its 2 MiB page first. */
static uint64_t *pte_4k(uint64_t va)
{
    uint64_t *pde = &lib64_pd[va >> 21];
    if (*pde & PDE_PS) {
        if (g_pool_used == PT_POOL)
            return NULL;
        uint64_t *pt = g_pool[g_pool_used++];
        uint64_t flags = *pde & ~(ADDR | PDE_PS) & ~(1ull << 12); /* PAT bit of a 2M page */
        uint64_t base = *pde & ADDR & ~0x1fffffull;
        for (unsigned i = 0; i < 512; i++)
            pt[i] = (base + i * 4096ull) | flags;
        /* The PDE keeps P|W|U: the 4 KiB entries decide. */
        *pde = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W | PTE_U;
        for (unsigned i = 0; i < 512; i++)
            invlpg((va & ~0x1fffffull) + i * 4096ull);
    }
    uint64_t *pt = (uint64_t *)(uintptr_t)(*pde & ADDR);
    return &pt[(va >> 12) & 511];
}

bool pt_set_flags(uint64_t va, uint64_t len, uint64_t set, uint64_t clear)
{
    uint64_t end = va + len;
    if (end < va || end > (4ull << 30))
        return false;
    va &= ~0xfffull;
    while (va < end) {
        uint64_t *pde = &lib64_pd[va >> 21];
        if ((*pde & PDE_PS) && !(va & 0x1fffff) && end - va >= (2ull << 20)) {
            *pde = (*pde | set) & ~clear;
            invlpg(va);
            va += 2ull << 20;
            continue;
        }
        uint64_t *pte = pte_4k(va);
        if (!pte)
            return false;
        *pte = (*pte | set) & ~clear;
        invlpg(va);
        va += 4096;
    }
    return true;
}
