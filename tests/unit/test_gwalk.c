/* Guest page walker tests: every paging mode, each permission rule of SDM
 * 4.6, reserved bits, the #PF error codes, and the accessed/dirty bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/gwalk.h"

/* Fake guest-physical memory: page tables live in its first 64 KiB. */
#define MEM_SIZE 0x10000
static uint8_t mem[MEM_SIZE];
static int cmpxchg_conflicts; /* report "changed meanwhile" this many times */
static unsigned cmpxchg_calls;

static int mem_read(void *ctx, uint64_t gpa, void *buf, unsigned len)
{
    if (gpa >= MEM_SIZE || MEM_SIZE - gpa < len)
        return -1;
    memcpy(buf, mem + gpa, len);
    return 0;
}

static int mem_cmpxchg(void *ctx, uint64_t gpa, unsigned len, uint64_t old_val, uint64_t new_val)
{
    uint64_t cur = 0;
    cmpxchg_calls++;
    if (gpa >= MEM_SIZE || MEM_SIZE - gpa < len)
        return -1;
    if (cmpxchg_conflicts) {
        cmpxchg_conflicts--;
        return 1;
    }
    memcpy(&cur, mem + gpa, len);
    if (cur != old_val)
        return 1;
    memcpy(mem + gpa, &new_val, len);
    return 0;
}

static const struct gwalk_mem gm = {mem_read, mem_cmpxchg, NULL};

static void put32(uint64_t gpa, uint32_t v)
{
    memcpy(mem + gpa, &v, 4);
}
static void put64(uint64_t gpa, uint64_t v)
{
    memcpy(mem + gpa, &v, 8);
}
static uint32_t get32(uint64_t gpa)
{
    uint32_t v;
    memcpy(&v, mem + gpa, 4);
    return v;
}
static uint64_t get64(uint64_t gpa)
{
    uint64_t v;
    memcpy(&v, mem + gpa, 8);
    return v;
}

static int setup(void **state)
{
    memset(mem, 0, sizeof(mem));
    cmpxchg_conflicts = 0;
    cmpxchg_calls = 0;
    return 0;
}

#define P   GPTE_P
#define RW  GPTE_RW
#define US  GPTE_US
#define PS  GPTE_PS
#define XD  GPTE_XD
#define CR0 (GWALK_CR0_PG | 1)

static enum gwalk_status tr(const struct gwalk_regs *r, uint64_t la, enum gwalk_access acc,
                            struct gwalk_result *out)
{
    return gwalk_translate(r, &gm, la, acc, out);
}

/* ---- paging off ---- */

static void test_paging_off(void **state)
{
    struct gwalk_regs r = {.cr0 = 1, .maxphyaddr = 36};
    struct gwalk_result res;
    assert_int_equal(tr(&r, 0x123456789ULL, GWALK_WRITE, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x23456789);
    assert_true(res.writable);
    r.cpl = 3;
    assert_int_equal(tr(&r, 0x1000, GWALK_FETCH, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x1000);
}

/* ---- 32-bit paging ---- */

/* PD at 0x1000, PT at 0x2000; la 0x00400000 + n*4K -> PT entry n. */
static struct gwalk_regs regs32(unsigned cpl, bool wp)
{
    return (struct gwalk_regs){
        .cr0 = CR0 | (wp ? GWALK_CR0_WP : 0), .cr3 = 0x1000, .cpl = cpl, .maxphyaddr = 36};
}

static void map32(uint32_t pde_flags, unsigned n, uint32_t pte)
{
    put32(0x1000 + 1 * 4, 0x2000 | pde_flags);
    put32(0x2000 + n * 4, pte);
}

static void test_32bit_translate_and_accessed(void **state)
{
    struct gwalk_regs r = regs32(0, false);
    struct gwalk_result res;
    map32(P | RW | US, 3, 0x00abc000 | P | RW | US);
    assert_int_equal(tr(&r, 0x00403123, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x00abc123);
    assert_int_equal(res.page_size, 4096);
    /* A on both levels, no D for a read. */
    assert_true(get32(0x1004) & GPTE_A);
    assert_true(get32(0x200c) & GPTE_A);
    assert_false(get32(0x200c) & GPTE_D);
    assert_false(get32(0x1004) & GPTE_D);
    assert_int_equal(tr(&r, 0x00403123, GWALK_WRITE, &res), GWALK_OK);
    assert_true(get32(0x200c) & GPTE_D);
    assert_false(get32(0x1004) & GPTE_D); /* D only on the leaf */
    /* Linear addresses are 32-bit outside long mode. */
    assert_int_equal(tr(&r, 0xf00403123ULL, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x00abc123);
}

static void test_32bit_not_present(void **state)
{
    struct gwalk_regs r = regs32(3, false);
    struct gwalk_result res;
    assert_int_equal(tr(&r, 0x00403000, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_W | PF_ERR_U); /* PDE not present */
    map32(P | RW | US, 3, 0);
    r.cpl = 0;
    assert_int_equal(tr(&r, 0x00403000, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, 0);
    /* Fetch: no I/D bit without SMEP or PAE+NXE. */
    assert_int_equal(tr(&r, 0x00403000, GWALK_FETCH, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, 0);
}

static void test_32bit_user_cannot_touch_supervisor_page(void **state)
{
    struct gwalk_regs r = regs32(3, true);
    struct gwalk_result res;
    map32(P | RW | US, 3, 0x00abc000 | P | RW); /* supervisor-only leaf */
    assert_int_equal(tr(&r, 0x00403010, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    assert_int_equal(tr(&r, 0x00403010, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_U);
    /* A fault sets no accessed flag. */
    assert_false(get32(0x200c) & GPTE_A);
    assert_false(get32(0x1004) & GPTE_A);
    /* U/S clear at the directory level is as strong as at the leaf. */
    map32(P | RW, 4, 0x00abd000 | P | RW | US);
    assert_int_equal(tr(&r, 0x00404000, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_U);
    r.cpl = 0;
    assert_int_equal(tr(&r, 0x00404000, GWALK_READ, &res), GWALK_OK);
}

static void test_32bit_read_only_and_wp(void **state)
{
    struct gwalk_regs r = regs32(3, false);
    struct gwalk_result res;
    map32(P | RW | US, 3, 0x00abc000 | P | US); /* read-only user page */
    assert_int_equal(tr(&r, 0x00403000, GWALK_READ, &res), GWALK_OK);
    assert_false(res.writable);
    /* CPL 3 never writes a read-only page, whatever CR0.WP. */
    assert_int_equal(tr(&r, 0x00403000, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_W | PF_ERR_U);
    /* The supervisor writes it with WP=0 ... */
    r.cpl = 0;
    assert_int_equal(tr(&r, 0x00403000, GWALK_WRITE, &res), GWALK_OK);
    assert_true(res.writable);
    /* ... and not with WP=1. */
    r.cr0 |= GWALK_CR0_WP;
    assert_int_equal(tr(&r, 0x00403000, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_W);
    /* R/W clear in the directory also makes it read-only. */
    map32(P | US, 3, 0x00abc000 | P | RW | US);
    assert_int_equal(tr(&r, 0x00403000, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
}

static void test_32bit_pse_pages(void **state)
{
    struct gwalk_regs r = regs32(0, false);
    struct gwalk_result res;
    /* 4 MiB page at 0x0c00000 with PSE-36 bits 35:32 = 0x5. */
    put32(0x1000 + 2 * 4, 0x00c00000 | (0x5 << 13) | P | RW | PS);
    /* Without CR4.PSE the PS bit is ignored: the entry points to a table
     * (here outside guest memory). */
    assert_int_equal(tr(&r, 0x00812345, GWALK_READ, &res), GWALK_BAD_TABLE);
    r.cr4 = GWALK_CR4_PSE;
    assert_int_equal(tr(&r, 0x00912345, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x500d12345ULL);
    assert_int_equal(res.page_size, 4 << 20);
    assert_int_equal(tr(&r, 0x00912345, GWALK_WRITE, &res), GWALK_OK);
    assert_true(get32(0x1008) & GPTE_D);
    /* Physical bits at or above MAXPHYADDR (36) are reserved: bit 17. */
    put32(0x1000 + 2 * 4, 0x00c00000 | (1 << 17) | P | RW | PS);
    assert_int_equal(tr(&r, 0x00912345, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    /* Bit 21 is always reserved in a 4 MiB PDE. */
    r.maxphyaddr = 40;
    put32(0x1000 + 2 * 4, 0x00c00000 | (1 << 21) | P | RW | PS);
    assert_int_equal(tr(&r, 0x00912345, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
}

/* ---- PAE ---- */

/* PDPTE registers -> PD at 0x3000 -> PT at 0x4000. */
static uint64_t pdptes[4];

static struct gwalk_regs regs_pae(unsigned cpl, bool nxe)
{
    memset(pdptes, 0, sizeof(pdptes));
    pdptes[0] = 0x3000 | P;
    return (struct gwalk_regs){.cr0 = CR0 | GWALK_CR0_WP,
                               .cr3 = 0x5000,
                               .cr4 = GWALK_CR4_PAE,
                               .efer = nxe ? GWALK_EFER_NXE : 0,
                               .cpl = cpl,
                               .pdptes = pdptes,
                               .maxphyaddr = 36};
}

static void test_pae_translate_and_xd(void **state)
{
    struct gwalk_regs r = regs_pae(0, true);
    struct gwalk_result res;
    put64(0x3000 + 1 * 8, 0x4000 | P | RW);
    put64(0x4000 + 2 * 8, 0x12345000ULL | P | RW | XD);
    assert_int_equal(tr(&r, 0x00202abc, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x12345abc);
    /* XD with NXE: fetch faults, with I/D reported (PAE and NXE). */
    assert_int_equal(tr(&r, 0x00202abc, GWALK_FETCH, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_I);
    /* XD without NXE is a reserved bit. */
    r.efer = 0;
    assert_int_equal(tr(&r, 0x00202abc, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    /* The PDPTE registers are used, not memory at CR3. */
    put64(0x4000 + 2 * 8, 0x12345000ULL | P | RW);
    pdptes[0] = 0;
    assert_int_equal(tr(&r, 0x00202abc, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, 0);
    /* Without them, the PDPTEs are read at CR3. */
    r.pdptes = NULL;
    put64(0x5000, 0x3000 | P);
    assert_int_equal(tr(&r, 0x00202abc, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x12345abc);
}

static void test_pae_reserved_bits(void **state)
{
    struct gwalk_regs r = regs_pae(0, true);
    struct gwalk_result res;
    /* PDPTE reserved bits 2:1 (no R/W or U/S at that level). */
    pdptes[0] = 0x3000 | P | RW;
    assert_int_equal(tr(&r, 0x00200000, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    pdptes[0] = 0x3000 | P;
    /* 2 MiB page: bits 20:13 reserved. */
    put64(0x3000 + 1 * 8, 0x00600000ULL | (1 << 13) | P | RW | PS);
    assert_int_equal(tr(&r, 0x00212345, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD | PF_ERR_W);
    put64(0x3000 + 1 * 8, 0x00600000ULL | P | RW | PS);
    assert_int_equal(tr(&r, 0x00212345, GWALK_WRITE, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x00612345);
    assert_int_equal(res.page_size, 2 << 20);
    /* Physical address bits at or above MAXPHYADDR. */
    put64(0x3000 + 1 * 8, (1ULL << 40) | 0x00600000ULL | P | RW | PS);
    assert_int_equal(tr(&r, 0x00212345, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    /* In PAE paging bits 62:52 are reserved too (in 4-level they are not). */
    put64(0x3000 + 1 * 8, (1ULL << 55) | 0x00600000ULL | P | RW | PS);
    assert_int_equal(tr(&r, 0x00212345, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    /* PDPTE bit 5: reserved in the PDPTE registers (VMX), but the accessed
     * bit QEMU TCG sets when the CPU walks them from memory (SVM). */
    put64(0x3000 + 1 * 8, 0x00600000ULL | P | RW | PS);
    pdptes[0] = 0x3000 | P | (1 << 5);
    assert_int_equal(tr(&r, 0x00212345, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    r.pdptes = NULL;
    put64(0x5000, 0x3000 | P | (1 << 5));
    assert_int_equal(tr(&r, 0x00212345, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x00612345);
    put64(0x5000, 0x3000 | P | (1 << 6)); /* bits 8:6 stay reserved */
    assert_int_equal(tr(&r, 0x00212345, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
}

/* ---- 4-level and 5-level ---- */

/* PML5 0x6000 -> PML4 0x7000 -> PDPT 0x8000 -> PD 0x9000 -> PT 0xa000. */
static struct gwalk_regs regs64(unsigned cpl, bool la57)
{
    return (struct gwalk_regs){.cr0 = CR0 | GWALK_CR0_WP,
                               .cr3 = la57 ? 0x6000 : 0x7000,
                               .cr4 = GWALK_CR4_PAE | (la57 ? GWALK_CR4_LA57 : 0),
                               .efer = GWALK_EFER_LMA | GWALK_EFER_NXE,
                               .cpl = cpl,
                               .maxphyaddr = 46,
                               .gbpages = true};
}

static void map64(uint64_t flags)
{
    put64(0x7000, 0x8000 | flags);
    put64(0x8000, 0x9000 | flags);
    put64(0x9000, 0xa000 | flags);
    put64(0xa000 + 5 * 8, 0x7654321000ULL | flags);
}

static void test_4level_translate_user_and_canonical(void **state)
{
    struct gwalk_regs r = regs64(3, false);
    struct gwalk_result res;
    map64(P | RW | US);
    assert_int_equal(tr(&r, 0x5008, GWALK_WRITE, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x7654321008ULL);
    for (uint64_t t = 0x7000; t <= 0x9000; t += 0x1000)
        assert_true(get64(t) & GPTE_A);
    assert_true(get64(0xa028) & GPTE_D);
    assert_false(get64(0x9000) & GPTE_D);
    /* Bits 62:52 are ignored in 4-level paging (not reserved). */
    put64(0xa000 + 5 * 8, 0x7654321000ULL | (1ULL << 55) | P | RW | US);
    assert_int_equal(tr(&r, 0x5008, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x7654321008ULL);
    /* Non-canonical: #GP, not #PF. */
    assert_int_equal(tr(&r, 0x0000800000000000ULL, GWALK_READ, &res), GWALK_GP);
    assert_int_equal(tr(&r, 0xffff800000000000ULL, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_U); /* canonical, not present */
}

static void test_4level_large_pages_and_reserved_ps(void **state)
{
    struct gwalk_regs r = regs64(0, false);
    struct gwalk_result res;
    /* 1 GiB page at 0x40000000 (la 0 + PDPT index 0). */
    put64(0x7000, 0x8000 | P | RW);
    put64(0x8000, 0x40000000ULL | P | RW | PS);
    assert_int_equal(tr(&r, 0x12345678, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x52345678);
    assert_int_equal(res.page_size, 1ULL << 30);
    /* Not allowed without 1 GiB page support: reserved. */
    r.gbpages = false;
    assert_int_equal(tr(&r, 0x12345678, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    r.gbpages = true;
    /* 1 GiB page: bits 29:13 reserved. */
    put64(0x8000, 0x40000000ULL | (1 << 20) | P | RW | PS);
    assert_int_equal(tr(&r, 0x12345678, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    /* PS in a PML4 entry is reserved. */
    put64(0x7000, 0x8000 | P | RW | PS);
    assert_int_equal(tr(&r, 0x12345678, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
    /* A table outside guest memory is not a #PF: the VM is broken. */
    put64(0x7000, 0x40000000ULL | P | RW);
    assert_int_equal(tr(&r, 0x12345678, GWALK_READ, &res), GWALK_BAD_TABLE);
}

static void test_smep_smap(void **state)
{
    struct gwalk_regs r = regs64(0, false);
    struct gwalk_result res;
    map64(P | RW | US);
    /* Without SMEP/SMAP the supervisor may use user pages. */
    assert_int_equal(tr(&r, 0x5000, GWALK_FETCH, &res), GWALK_OK);
    assert_int_equal(tr(&r, 0x5000, GWALK_WRITE, &res), GWALK_OK);
    r.cr4 |= GWALK_CR4_SMEP;
    assert_int_equal(tr(&r, 0x5000, GWALK_FETCH, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_I);
    assert_int_equal(tr(&r, 0x5000, GWALK_READ, &res), GWALK_OK);
    r.cr4 |= GWALK_CR4_SMAP;
    assert_int_equal(tr(&r, 0x5000, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P);
    assert_int_equal(tr(&r, 0x5000, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_W);
    /* RFLAGS.AC lifts SMAP for explicit accesses ... */
    r.rflags = GWALK_RFLAGS_AC;
    assert_int_equal(tr(&r, 0x5000, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(tr(&r, 0x5000, GWALK_WRITE, &res), GWALK_OK);
    /* ... but with WP a read-only user page stays read-only. */
    put64(0xa000 + 5 * 8, 0x7654321000ULL | P | US);
    assert_int_equal(tr(&r, 0x5000, GWALK_WRITE, &res), GWALK_PAGE_FAULT);
    /* CPL 3 is not subject to SMEP/SMAP. */
    r.cpl = 3;
    r.rflags = 0;
    assert_int_equal(tr(&r, 0x5000, GWALK_FETCH, &res), GWALK_OK);
    assert_int_equal(tr(&r, 0x5000, GWALK_READ, &res), GWALK_OK);
    /* XD anywhere on the path forbids fetches. */
    put64(0x8000, 0x9000 | P | RW | US | XD);
    assert_int_equal(tr(&r, 0x5000, GWALK_FETCH, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_U | PF_ERR_I);
}

static void test_5level(void **state)
{
    struct gwalk_regs r = regs64(0, true);
    struct gwalk_result res;
    map64(P | RW);
    /* la bit 48 set: PML5 index 1; canonical under LA57, not under 4-level. */
    uint64_t la = (1ULL << 48) | 0x5010;
    put64(0x6000 + 1 * 8, 0x7000 | P | RW);
    assert_int_equal(tr(&r, la, GWALK_READ, &res), GWALK_OK);
    assert_int_equal(res.gpa, 0x7654321010ULL);
    assert_true(get64(0x6008) & GPTE_A);
    assert_int_equal(tr(&r, 1ULL << 57, GWALK_READ, &res), GWALK_GP);
    struct gwalk_regs r4 = regs64(0, false);
    assert_int_equal(tr(&r4, la, GWALK_READ, &res), GWALK_GP);
    /* PS in a PML5 entry is reserved. */
    put64(0x6000 + 1 * 8, 0x7000 | P | RW | PS);
    assert_int_equal(tr(&r, la, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
}

static void test_accessed_dirty_races(void **state)
{
    struct gwalk_regs r = regs64(0, false);
    struct gwalk_result res;
    map64(P | RW);
    /* An entry that changes under the walk: walked again, then fine. */
    cmpxchg_conflicts = 1;
    assert_int_equal(tr(&r, 0x5000, GWALK_WRITE, &res), GWALK_OK);
    assert_true(get64(0xa028) & GPTE_D);
    /* One that never settles: the instruction is re-executed. */
    memset(mem, 0, sizeof(mem));
    map64(P | RW);
    cmpxchg_conflicts = 1000;
    assert_int_equal(tr(&r, 0x5000, GWALK_READ, &res), GWALK_RETRY);
    /* Already set: nothing written. */
    cmpxchg_conflicts = 0;
    map64(P | RW | GPTE_A | GPTE_D);
    cmpxchg_calls = 0;
    assert_int_equal(tr(&r, 0x5000, GWALK_WRITE, &res), GWALK_OK);
    assert_int_equal(cmpxchg_calls, 0);
}

static void test_maxphyaddr_clamped(void **state)
{
    struct gwalk_regs r = regs64(0, false);
    struct gwalk_result res;
    map64(P | RW);
    r.maxphyaddr = 200; /* nonsense from a caller: treated as 52 */
    assert_int_equal(tr(&r, 0x5000, GWALK_READ, &res), GWALK_OK);
    r.maxphyaddr = 0; /* treated as 32: the leaf's 0x76_5432_1000 is beyond */
    assert_int_equal(tr(&r, 0x5000, GWALK_READ, &res), GWALK_PAGE_FAULT);
    assert_int_equal(res.error, PF_ERR_P | PF_ERR_RSVD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_paging_off, setup),
        cmocka_unit_test_setup(test_32bit_translate_and_accessed, setup),
        cmocka_unit_test_setup(test_32bit_not_present, setup),
        cmocka_unit_test_setup(test_32bit_user_cannot_touch_supervisor_page, setup),
        cmocka_unit_test_setup(test_32bit_read_only_and_wp, setup),
        cmocka_unit_test_setup(test_32bit_pse_pages, setup),
        cmocka_unit_test_setup(test_pae_translate_and_xd, setup),
        cmocka_unit_test_setup(test_pae_reserved_bits, setup),
        cmocka_unit_test_setup(test_4level_translate_user_and_canonical, setup),
        cmocka_unit_test_setup(test_4level_large_pages_and_reserved_ps, setup),
        cmocka_unit_test_setup(test_smep_smap, setup),
        cmocka_unit_test_setup(test_5level, setup),
        cmocka_unit_test_setup(test_accessed_dirty_races, setup),
        cmocka_unit_test_setup(test_maxphyaddr_clamped, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
