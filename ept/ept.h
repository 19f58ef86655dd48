/* Four-level second-level page tables: Intel's extended page tables (SDM
 * Vol. 3C, "The Extended Page Table Mechanism") or AMD's nested page tables
 * (APM vol. 2, 15.25 "Nested Paging", the x86 long-mode format): build, map,
 * unmap, protect, walk, and the bounds-checked guest-memory accessors every
 * hypervisor access to guest RAM goes through. One builder serves both: the
 * entry format is a parameter (struct ept_format); callers speak EPT_R/W/X
 * permissions and EPT_MT_* memory types in either format.
 *
 * Table memory is reached only through struct ept_ops, so the same code runs
 * in the kernel (identity map) and in host unit tests (a fake page pool).
 *
 * Locking is the caller's: one struct ept is changed by one CPU at a time
 * (the VM's memory lock), and guest accessors must not race with unmap.
 * Entries are published with single 64-bit stores, so a guest running on the
 * tables sees either the old or the new translation; after unmap/protect the
 * caller issues INVEPT on every CPU that ran the tables, then ept_reclaim(). */
#ifndef EPT_EPT_H
#define EPT_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_PAGE_SIZE 0x1000ULL
#define EPT_2M        0x200000ULL
#define EPT_1G        0x40000000ULL

/* Permission bits as in the entry (bits 2:0). */
#define EPT_R   1u
#define EPT_W   2u
#define EPT_X   4u
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
/* Optional flag for ept_map/ept_protect: ignore the guest PAT (entry bit 6). */
#define EPT_IPAT 0x40u

/* Entry bits (leaf and non-leaf). */
#define EPTE_MT_SHIFT  3
#define EPTE_MT_MASK   (7ULL << EPTE_MT_SHIFT)
#define EPTE_IPAT      (1ULL << 6)
#define EPTE_LARGE     (1ULL << 7)
#define EPTE_ACCESSED  (1ULL << 8)
#define EPTE_DIRTY     (1ULL << 9)
#define EPTE_ADDR_MASK 0x000ffffffffff000ULL

/* EPTP bits. */
#define EPTP_MT_WB      6ULL
#define EPTP_WALK_LEN_4 (3ULL << 3)
#define EPTP_AD_ENABLE  (1ULL << 6)

/* NPT entry bits (the x86 long-mode page-table format). Under nested paging
 * every guest access is a user access, so US is set in every entry. */
#define NPTE_P      (1ULL << 0)
#define NPTE_RW     (1ULL << 1)
#define NPTE_US     (1ULL << 2)
#define NPTE_PWT    (1ULL << 3)
#define NPTE_PCD    (1ULL << 4)
#define NPTE_A      (1ULL << 5)
#define NPTE_D      (1ULL << 6)
#define NPTE_PS     (1ULL << 7)
#define NPTE_PAT_4K (1ULL << 7)  /* PAT index bit 2 in a 4 KiB leaf */
#define NPTE_PAT_LG (1ULL << 12) /* ... and in a 2 MiB / 1 GiB leaf */
#define NPTE_NX     (1ULL << 63)

/* How one format spells an entry. The address field (bits 51:12) and the
 * large-page bit (7) are common to both. */
struct ept_format {
    const char *name;
    uint64_t present; /* an entry is present when any of these bits is set */
    uint64_t r, w, x; /* bits granting read, write, execute (0: not expressible) */
    uint64_t nx;      /* bit denying execute (NPT); 0 for EPT */
    uint64_t ipat;    /* "ignore guest PAT" (EPT); 0: EPT_IPAT refused */
    uint64_t table;   /* bits of a non-leaf entry: everything granted, leaves decide */
    uint64_t leaf;    /* bits set in every leaf (NPT: US) */
    uint64_t accessed, dirty;
    /* Memory type: bits of a 4 KiB leaf per EPT_MT_* value; types not in
     * mt_valid are refused (EPT_ERR_INVAL). pat_4k/pat_large: where PAT
     * index bit 2 sits (NPT), moved between levels on a split. */
    uint64_t mt_bits[8];
    uint64_t mt_mask;
    unsigned mt_valid; /* bit n: EPT_MT value n allowed */
    uint64_t pat_4k, pat_large;
};

extern const struct ept_format ept_format_ept; /* Intel EPT */
extern const struct ept_format ept_format_npt; /* AMD nested paging */

/* Memory types allowed in a leaf (2, 3 and 7 are reserved: misconfiguration). */
enum ept_mtype { EPT_MT_UC = 0, EPT_MT_WC = 1, EPT_MT_WT = 4, EPT_MT_WP = 5, EPT_MT_WB = 6 };

/* Error codes (negative). EPT_ERR_FAULT is -1 so translate/read/write keep
 * the simple "-1 when not mapped" contract. */
#define EPT_OK          0
#define EPT_ERR_FAULT   (-1) /* gpa not mapped, or access not permitted */
#define EPT_ERR_INVAL   (-2) /* bad argument: alignment, size 0, memory type */
#define EPT_ERR_EXIST   (-3) /* part of the range is already mapped */
#define EPT_ERR_NOMEM   (-4) /* no page for a table */
#define EPT_ERR_PERM    (-5) /* permission combination is a misconfiguration */
#define EPT_ERR_RANGE   (-6) /* beyond the guest/host physical width, or wraps */
#define EPT_ERR_NOENT   (-7) /* ept_protect over a hole */
#define EPT_ERR_CORRUPT (-8) /* table contents broke an invariant */
#define EPT_ERR_HW      (-9) /* INVEPT/INVVPID reported failure */

struct ept_ops {
    /* Returns the physical address of a zeroed 4 KiB page, 0 on failure. */
    uint64_t (*alloc_page)(void *ctx);
    void (*free_page)(void *ctx, uint64_t phys);
    /* Returns NULL for a physical address it cannot reach. For guest memory
     * (ept_read/write_guest) the mapping must be contiguous to the end of
     * the leaf holding phys (up to 1 GiB), as the identity map is. */
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    void *ctx;
};

struct ept {
    uint64_t pml4_phys;
    const struct ept_ops *ops;
    const struct ept_format *fmt;
    bool allow_2m, allow_1g;
    bool allow_xonly;        /* IA32_VMX_EPT_VPID_CAP[0]: execute-only pages */
    bool ad_enabled;         /* informational: set by the caller when the EPTP enables A/D */
    unsigned nr_table_pages; /* live table pages, PML4 included */
    uint64_t gpa_limit;      /* guest-physical addresses must be below this */
    uint64_t hpa_limit;      /* host-physical addresses must be below this (MAXPHYADDR) */
    uint64_t reclaim_head;   /* tables unlinked but not yet freed (list through word 0) */
    unsigned nr_reclaim;
};

int ept_init(struct ept *e, const struct ept_ops *ops, bool allow_2m, bool allow_1g);
/* As ept_init, in the given format (ept_format_ept or ept_format_npt).
 * NPT: every mapping must include EPT_R (a present entry is readable),
 * EPT_IPAT is refused, and the memory types are those the reset value of
 * the host PAT offers (WB, WT, UC): the tables select them with PWT/PCD. */
int ept_init_format(struct ept *e, const struct ept_ops *ops, const struct ept_format *fmt,
                    bool allow_2m, bool allow_1g);
/* Narrows the address widths (defaults 48 guest, 52 host bits). */
int ept_set_limits(struct ept *e, unsigned gpa_bits, unsigned hpa_bits);
/* EPTP for the VMCS: WB paging structures, walk length 4, optional A/D. */
uint64_t ept_eptp(const struct ept *e, bool enable_ad);
/* nCR3 for the VMCB (NPT format): the PML4, write-back (PWT = PCD = 0). */
uint64_t ept_ncr3(const struct ept *e);

/* gpa, hpa and size 4 KiB aligned, size > 0. perms: EPT_R/W/X (+EPT_IPAT);
 * W without R is refused, X alone only when allow_xonly (never for NPT). The whole range must
 * be unmapped (EPT_ERR_EXIST otherwise); on any failure nothing changes. */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms,
            enum ept_mtype mt);
/* Removes every mapping in the range (holes are fine), splitting large pages
 * that straddle its ends. Only a split can fail (EPT_ERR_NOMEM); then no
 * translation has changed. Emptied tables go to the reclaim list. */
int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size);
/* Sets perms (EPT_IPAT included: it replaces the old bit) on every page of a
 * fully mapped range (EPT_ERR_NOENT on a hole, checked before anything
 * changes); memory types and A/D bits are kept. */
int ept_protect(struct ept *e, uint64_t gpa, uint64_t size, unsigned perms);
/* Removes the 4 KiB leaf at gpa (none there: nothing to do) and keeps its
 * tables, so that mapping the page again (ept_map) needs no allocation and
 * nothing goes to the reclaim list: for a page that comes and goes while
 * the VM runs (the APIC-access page). EPT_ERR_INVAL when a large page
 * covers gpa. INVEPT is the caller's, as after ept_unmap. */
int ept_page_clear(struct ept *e, uint64_t gpa);
/* Frees tables unlinked by ept_unmap. Call only after INVEPT on every CPU
 * that used these tables, or the CPU may still walk the freed pages. */
void ept_reclaim(struct ept *e);
/* Frees every table page; the tables must not be in use by any CPU. */
void ept_destroy(struct ept *e);

/* Returns 0 and fills the optional outputs, or EPT_ERR_FAULT if not mapped. */
int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, unsigned *perms,
                  uint64_t *page_size);
typedef void (*ept_leaf_fn)(uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms, unsigned mt,
                            void *arg);
/* Visits every leaf in ascending gpa order. perms includes EPT_IPAT when set. */
void ept_for_each_leaf(const struct ept *e, ept_leaf_fn fn, void *arg);

/* Copy from/to guest-physical memory. 0, or -1 if any byte of [gpa, gpa+len)
 * is unmapped or lacks R (read) / W (write), or the range wraps. The whole
 * range is checked before the first byte moves. */
int ept_read_guest(const struct ept *e, uint64_t gpa, void *buf, uint64_t len);
int ept_write_guest(const struct ept *e, uint64_t gpa, const void *buf, uint64_t len);

const char *ept_strerror(int err);

#endif
