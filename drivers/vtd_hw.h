/* Intel VT-d remapping hardware: register offsets, bit fields and the
 * in-memory structure formats (Intel Virtualization Technology for Directed
 * I/O, chapters 9 and 10). Pure definitions and encoders: no MMIO here, so
 * the host unit tests include this file unchanged. */
#ifndef DRIVERS_VTD_HW_H
#define DRIVERS_VTD_HW_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets (10.4). */
#define VTD_REG_VER     0x00
#define VTD_REG_CAP     0x08
#define VTD_REG_ECAP    0x10
#define VTD_REG_GCMD    0x18 /* 32 bits */
#define VTD_REG_GSTS    0x1c /* 32 bits */
#define VTD_REG_RTADDR  0x20
#define VTD_REG_CCMD    0x28
#define VTD_REG_FSTS    0x34 /* 32 bits */
#define VTD_REG_FECTL   0x38 /* 32 bits */
#define VTD_REG_FEDATA  0x3c /* 32 bits */
#define VTD_REG_FEADDR  0x40 /* 32 bits */
#define VTD_REG_FEUADDR 0x44 /* 32 bits */
#define VTD_REG_PMEN    0x64 /* 32 bits */
#define VTD_REG_IQH     0x80
#define VTD_REG_IQT     0x88
#define VTD_REG_IQA     0x90
#define VTD_REG_ICS     0x9c /* 32 bits */
#define VTD_REG_IECTL   0xa0 /* 32 bits */
#define VTD_REG_IQERCD  0xb0
#define VTD_REG_IRTA    0xb8
/* At ECAP.IRO * 16: IVA, then the IOTLB invalidate register 8 bytes on. */
#define VTD_IOTLB_REG_OFF 8

/* Capability register (10.4.2). */
#define VTD_CAP_ND(c)    ((unsigned)((c)&7))
#define VTD_CAP_AFL      (1ULL << 3)
#define VTD_CAP_RWBF     (1ULL << 4)
#define VTD_CAP_PLMR     (1ULL << 5)
#define VTD_CAP_PHMR     (1ULL << 6)
#define VTD_CAP_CM       (1ULL << 7)
#define VTD_CAP_SAGAW(c) ((unsigned)(((c) >> 8) & 0x1f))
#define VTD_CAP_MGAW(c)  ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c)   ((unsigned)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_SLLPS(c) ((unsigned)(((c) >> 34) & 0xf)) /* bit 0: 2 MiB, bit 1: 1 GiB */
#define VTD_CAP_PSI      (1ULL << 39)
#define VTD_CAP_NFR(c)   ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_PI       (1ULL << 59)

/* Extended capability register (10.4.3). */
#define VTD_ECAP_C      (1ULL << 0) /* page-walk coherency */
#define VTD_ECAP_QI     (1ULL << 1)
#define VTD_ECAP_DT     (1ULL << 2) /* device TLBs (ATS) */
#define VTD_ECAP_IR     (1ULL << 3)
#define VTD_ECAP_EIM    (1ULL << 4) /* x2APIC (32-bit) interrupt destinations */
#define VTD_ECAP_PT     (1ULL << 6)
#define VTD_ECAP_SC     (1ULL << 7) /* snoop control */
#define VTD_ECAP_IRO(e) ((unsigned)(((e) >> 8) & 0x3ff) * 16)
#define VTD_ECAP_SMTS   (1ULL << 43) /* scalable mode */
#define VTD_ECAP_SLTS   (1ULL << 46) /* second-level translation (scalable mode) */

/* Global command / status (10.4.4, 10.4.5): the same bit positions. */
#define VTD_GCMD_TE    (1u << 31)
#define VTD_GCMD_SRTP  (1u << 30)
#define VTD_GCMD_SFL   (1u << 29)
#define VTD_GCMD_EAFL  (1u << 28)
#define VTD_GCMD_WBF   (1u << 27)
#define VTD_GCMD_QIE   (1u << 26)
#define VTD_GCMD_IRE   (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI   (1u << 23)
/* Status bits that mirror persistent commands; the rest are one-shot and
 * must not be written back (Linux masks GSTS the same way). */
#define VTD_GSTS_PERSISTENT                                                                        \
    (VTD_GCMD_TE | VTD_GCMD_EAFL | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)

/* Context command register (10.4.7). */
#define VTD_CCMD_ICC         (1ULL << 63)
#define VTD_CCMD_CIRG_GLOBAL (1ULL << 61)
#define VTD_CCMD_CIRG_DOMAIN (2ULL << 61)
#define VTD_CCMD_CIRG_DEVICE (3ULL << 61)

/* IOTLB invalidate register (10.4.8.1). */
#define VTD_IOTLB_IVT         (1ULL << 63)
#define VTD_IOTLB_IIRG_GLOBAL (1ULL << 60)
#define VTD_IOTLB_IIRG_DOMAIN (2ULL << 60)
#define VTD_IOTLB_DR          (1ULL << 49)
#define VTD_IOTLB_DW          (1ULL << 48)
#define VTD_IOTLB_DID(d)      ((uint64_t)(d) << 32)

/* Fault status / event control (10.4.9, 10.4.10). */
#define VTD_FSTS_PFO     (1u << 0)
#define VTD_FSTS_PPF     (1u << 1)
#define VTD_FSTS_IQE     (1u << 4)
#define VTD_FSTS_ICE     (1u << 5)
#define VTD_FSTS_ITE     (1u << 6)
#define VTD_FSTS_FRI(s)  ((unsigned)(((s) >> 8) & 0xff))
#define VTD_FSTS_W1C_ALL (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)
#define VTD_FECTL_IM     (1u << 31)
#define VTD_FECTL_IP     (1u << 30)

/* Fault recording register, high quadword (10.4.14). */
#define VTD_FRCD_F       (1ULL << 63)
#define VTD_FRCD_T_READ  (1ULL << 62) /* type: 1 read, 0 write */
#define VTD_FRCD_FR(h)   ((unsigned)(((h) >> 32) & 0xff))
#define VTD_FRCD_SID(h)  ((uint16_t)((h)&0xffff))
#define VTD_FRCD_FI(low) ((low) & ~0xfffULL)

/* Root-table address register (10.4.6): TTM 00 = legacy root table. */
#define VTD_RTADDR_TTM_MASK (3ULL << 10)

/* Interrupt remapping table address (10.4.29): size is 2^(S+1) entries. */
#define VTD_IRTA_EIME (1ULL << 11)
#define VTD_IRTA_S(s) ((uint64_t)(s)&0xf)

/* Invalidation queue (6.5.2): 128-bit descriptors, 256 per 4 KiB page. */
#define VTD_IQA_QS(qs)    ((uint64_t)(qs)&7)
#define VTD_IQ_DESC_SHIFT 4
#define VTD_ICS_IWC       1u

#define VTD_QI_CC        0x1ULL
#define VTD_QI_IOTLB     0x2ULL
#define VTD_QI_IEC       0x4ULL
#define VTD_QI_WAIT      0x5ULL
#define VTD_QI_G_GLOBAL  (1ULL << 4) /* context cache and IOTLB: global */
#define VTD_QI_G_DOMAIN  (2ULL << 4)
#define VTD_QI_G_DEVICE  (3ULL << 4) /* context cache only */
#define VTD_QI_IOTLB_DR  (1ULL << 7)
#define VTD_QI_IOTLB_DW  (1ULL << 6)
#define VTD_QI_DID(d)    ((uint64_t)(d) << 16)
#define VTD_QI_CC_SID(s) ((uint64_t)(s) << 32)
#define VTD_QI_WAIT_IF   (1ULL << 4)
#define VTD_QI_WAIT_SW   (1ULL << 5)
#define VTD_QI_WAIT_FN   (1ULL << 6)

struct vtd_qi_desc {
    uint64_t lo, hi;
};

/* Root entry (9.1) and legacy context entry (9.3): 128 bits each, 256 of
 * them per 4 KiB table (root: one per bus; context: one per devfn). */
#define VTD_ROOT_P        1ULL
#define VTD_CTX_P         1ULL
#define VTD_CTX_FPD       (1ULL << 1)
#define VTD_CTX_TT_SL     (0ULL << 2) /* untranslated requests only: no ATS */
#define VTD_CTX_ADDR_MASK 0x000ffffffffff000ULL
#define VTD_CTX_AW(aw)    ((uint64_t)(aw)&7) /* high qword */
#define VTD_CTX_DID(d)    ((uint64_t)(d) << 8)

struct vtd_entry128 {
    uint64_t lo, hi;
};

/* Second-level paging entries (9.8): R, W, and bit 7 for large leaves. */
#define VTD_SL_R         1ULL
#define VTD_SL_W         2ULL
#define VTD_SL_PS        (1ULL << 7)
#define VTD_SL_ADDR_MASK 0x000ffffffffff000ULL

/* Fault reasons (appendix A). */
#define VTD_FR_ROOT_P       0x01
#define VTD_FR_CTX_P        0x02
#define VTD_FR_CTX_INVALID  0x03
#define VTD_FR_BEYOND_MGAW  0x04
#define VTD_FR_WRITE        0x05
#define VTD_FR_READ         0x06
#define VTD_FR_IR_RSVD_REQ  0x20
#define VTD_FR_IR_INDEX     0x21
#define VTD_FR_IR_NOT_P     0x22
#define VTD_FR_IR_TABLE     0x23
#define VTD_FR_IR_RSVD_IRTE 0x24
#define VTD_FR_IR_COMPAT    0x25
#define VTD_FR_IR_SID       0x26

/* Address width field of a context entry for a table of this many levels
 * (1 = 3-level/39-bit, 2 = 4-level/48-bit, 3 = 5-level/57-bit); SAGAW has
 * bit AW set when the unit supports it. */
static inline unsigned vtd_levels_to_aw(unsigned levels)
{
    return levels - 2;
}

/* Levels of second-level table to use: the deepest the unit supports, up to
 * 4, and enough to reach `need_bits` of address; 0 when none fits. */
unsigned vtd_pick_levels(unsigned sagaw, unsigned need_bits);

#endif
