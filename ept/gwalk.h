/* The guest page walker: translates a guest linear address to
 * guest-physical through the guest's own page tables exactly as the CPU
 * would (Intel SDM Vol. 3A, chapter 4 "Paging"), for the hypervisor's
 * emulated accesses (INS/OUTS buffers, MMIO instruction fetch, ...).
 *
 * Pure logic over two callbacks that reach guest-physical memory, so it
 * runs the same in the kernel and in host unit tests and fuzzers. It sits
 * next to the EPT code because both vendor backends and the VM layer use
 * it and it knows nothing of either.
 *
 * Covered: paging off, 32-bit (with PSE and PSE-36), PAE, 4-level and
 * 5-level (CR4.LA57) paging; read, write and fetch accesses from any CPL;
 * U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC,
 * reserved bits (above MAXPHYADDR, large-page alignment, PS where it is
 * not allowed, XD without NXE, PAE PDPTEs), canonical addresses; and the
 * accessed/dirty bits set as the CPU sets them. Not covered: protection
 * keys (CR4.PKE/PKS) and implicit supervisor accesses (descriptor tables):
 * no caller needs them. */
#ifndef EPT_GWALK_H
#define EPT_GWALK_H

#include <stdbool.h>
#include <stdint.h>

enum gwalk_access { GWALK_READ, GWALK_WRITE, GWALK_FETCH };

/* #PF error code bits (SDM 4.7). */
#define PF_ERR_P    (1U << 0) /* 0: not present; 1: protection or reserved bit */
#define PF_ERR_W    (1U << 1) /* the access was a write */
#define PF_ERR_U    (1U << 2) /* the access was a user-mode access (CPL 3) */
#define PF_ERR_RSVD (1U << 3) /* a reserved bit was set in a paging entry */
#define PF_ERR_I    (1U << 4) /* instruction fetch (only with SMEP, or PAE+NXE) */

/* Control bits the walker reads, as in the architectural registers. */
#define GWALK_CR0_WP    (1ULL << 16)
#define GWALK_CR0_PG    (1ULL << 31)
#define GWALK_CR4_PSE   (1ULL << 4)
#define GWALK_CR4_PAE   (1ULL << 5)
#define GWALK_CR4_LA57  (1ULL << 12)
#define GWALK_CR4_SMEP  (1ULL << 20)
#define GWALK_CR4_SMAP  (1ULL << 21)
#define GWALK_EFER_NXE  (1ULL << 11)
#define GWALK_EFER_LMA  (1ULL << 10)
#define GWALK_RFLAGS_AC (1ULL << 18)

/* Paging-entry bits. */
#define GPTE_P  (1ULL << 0)
#define GPTE_RW (1ULL << 1)
#define GPTE_US (1ULL << 2)
#define GPTE_A  (1ULL << 5)
#define GPTE_D  (1ULL << 6)
#define GPTE_PS (1ULL << 7)
#define GPTE_XD (1ULL << 63)

struct gwalk_mem {
    /* Reads len (4 or 8) bytes of guest-physical memory; 0 or -1. */
    int (*read)(void *ctx, uint64_t gpa, void *buf, unsigned len);
    /* Atomically replaces the len-byte entry at gpa with new_val if it
     * still holds old_val: 0 done, 1 it changed meanwhile, -1 cannot
     * write there. NULL: accessed/dirty bits are not set. */
    int (*cmpxchg)(void *ctx, uint64_t gpa, unsigned len, uint64_t old_val, uint64_t new_val);
    void *ctx;
};

/* The guest state a translation depends on. */
struct gwalk_regs {
    uint64_t cr0, cr3, cr4, efer, rflags;
    unsigned cpl;
    /* PAE paging (not long mode) walks the four PDPTE registers the CPU
     * loaded with CR3, not memory; NULL means read them at CR3. */
    const uint64_t *pdptes;
    unsigned maxphyaddr; /* physical-address width (CPUID 0x80000008), 32-52 */
    bool gbpages;        /* 1 GiB pages allowed (CPUID 0x80000001 EDX[26]) */
};

enum gwalk_status {
    GWALK_OK,
    GWALK_PAGE_FAULT, /* inject #PF(error) with CR2 = the linear address */
    GWALK_GP,         /* non-canonical address: #GP(0) (or #SS for stack accesses) */
    GWALK_BAD_TABLE,  /* a paging entry lies outside guest memory: the VM is broken */
    GWALK_RETRY,      /* an entry changed under the walk too often: re-execute */
};

struct gwalk_result {
    uint64_t gpa;
    uint64_t page_size; /* of the translation (4 KiB, 2/4 MiB, 1 GiB; 4 GiB with paging off) */
    uint32_t error;     /* #PF error code for GWALK_PAGE_FAULT */
    bool writable;      /* the whole translation allows writes at this CPL */
};

/* Translates la for one access of kind acc. Accessed flags are set on
 * every entry used and the dirty flag on the leaf for a write, only when
 * the access is allowed, as hardware does. */
enum gwalk_status gwalk_translate(const struct gwalk_regs *r, const struct gwalk_mem *m,
                                  uint64_t la, enum gwalk_access acc, struct gwalk_result *out);

/* The #PF error code bit I/D is reported only in these modes (SDM 4.7). */
bool gwalk_reports_fetch(const struct gwalk_regs *r);

#endif
