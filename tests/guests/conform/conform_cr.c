/* MOV to CR0/CR4 and WRMSR EFER: every write the SDM refuses raises
 * #GP(0) in the guest (SDM vol. 2 "MOV—Move to/from Control Registers",
 * vol. 3 2.5 and 4.1.1), never a failed VM entry. Runs in 64-bit mode. */
#include "tests/guests/conform/conform.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_PAE   (1ull << 5)
#define CR4_LA57  (1ull << 12)
#define CR4_VMXE  (1ull << 13)
#define CR4_PCIDE (1ull << 17)

#define MSR_EFER 0xc0000080u
#define EFER_LME (1ull << 8)

/* CR4 bits and the CPUID feature that makes each one writable: leaf, ECX
 * subleaf 0, register (0 EAX .. 3 EDX), bit. A bit whose feature the
 * vCPU does not show must give #GP. */
static const struct {
    uint8_t cr4_bit;
    uint32_t leaf;
    uint8_t reg, bit;
} cr4_features[] = {
    {0, 1, 3, 1},   /* VME */
    {1, 1, 3, 1},   /* PVI */
    {2, 1, 3, 4},   /* TSD: TSC */
    {3, 1, 3, 2},   /* DE */
    {4, 1, 3, 3},   /* PSE */
    {6, 1, 3, 7},   /* MCE */
    {7, 1, 3, 13},  /* PGE */
    {11, 7, 2, 2},  /* UMIP */
    {13, 1, 2, 5},  /* VMXE */
    {14, 1, 2, 6},  /* SMXE */
    {16, 7, 1, 0},  /* FSGSBASE */
    {18, 1, 2, 26}, /* OSXSAVE */
    {19, 7, 2, 23}, /* KL */
    {20, 7, 1, 7},  /* SMEP */
    {21, 7, 1, 20}, /* SMAP */
    {22, 7, 2, 3},  /* PKE */
    {23, 7, 2, 7},  /* CET */
    {24, 7, 2, 31}, /* PKS */
};

static bool has_feature(uint32_t leaf, unsigned reg, unsigned bit)
{
    uint32_t r[4];
    cpuid(0, 0, &r[0], &r[1], &r[2], &r[3]);
    if (leaf > r[0])
        return false;
    cpuid(leaf, 0, &r[0], &r[1], &r[2], &r[3]);
    return (r[reg] >> bit) & 1;
}

static void check_cr4_bits(uint64_t cr4)
{
    uint64_t bad = 0;
    unsigned tested = 0;
    for (unsigned i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
        unsigned b = cr4_features[i].cr4_bit;
        if (has_feature(cr4_features[i].leaf, cr4_features[i].reg, cr4_features[i].bit) ||
            (cr4 & (1ull << b)))
            continue;
        tested++;
        int vec = try_write_cr4(cr4 | (1ull << b));
        if (vec != VEC_GP) {
            write_cr4(cr4);
            bad |= 1ull << b;
        }
    }
    /* Reserved in every CPU: 15, 25-31, 32-63. */
    static const uint8_t reserved[] = {15, 25, 28, 31, 32, 47, 63};
    for (unsigned i = 0; i < sizeof(reserved); i++) {
        tested++;
        if (try_write_cr4(cr4 | (1ull << reserved[i])) != VEC_GP) {
            write_cr4(cr4);
            bad |= 1ull << reserved[i];
        }
    }
    if (bad)
        fail("cr4_unavailable_bits_gp", "no #GP setting CR4 bits 0x%llx", (unsigned long long)bad);
    else
        pass("cr4_unavailable_bits_gp");
    printf("conform: (cr4_unavailable_bits_gp tried %u bits)\n", tested);
}

void check_cr(void)
{
    uint64_t cr0 = read_cr0(), cr4 = read_cr4(), cr3 = read_cr3(), efer = rdmsr64(MSR_EFER);

    expect_vector("cr0_reserved_high_gp", try_write_cr0(cr0 | (1ull << 32)), VEC_GP);
    expect_vector("cr0_nw_without_cd_gp", try_write_cr0((cr0 & ~CR0_CD) | CR0_NW), VEC_GP);
    expect_vector("cr4_vmxe_gp", try_write_cr4(cr4 | CR4_VMXE), VEC_GP);
    expect_vector("cr4_la57_change_in_long_mode_gp", try_write_cr4(cr4 ^ CR4_LA57), VEC_GP);
    check_cr4_bits(cr4);

    for (unsigned b = 1; b < 64; b++) {
        if (b == 8 || b == 10 || b == 11)
            continue; /* LME, LMA, NXE */
        int vec = try_wrmsr(MSR_EFER, efer | (1ull << b));
        if (vec != VEC_GP) {
            try_wrmsr(MSR_EFER, efer);
            fail("efer_reserved_bits_gp", "no #GP setting EFER bit %u", b);
            goto efer_done;
        }
    }
    pass("efer_reserved_bits_gp");
efer_done:
    expect_vector("efer_lme_change_with_paging_gp", try_wrmsr(MSR_EFER, efer & ~EFER_LME), VEC_GP);
    expect_vector("efer_rewrite_same_value", try_wrmsr(MSR_EFER, efer), -1);

    bool pcid = has_feature(1, 2, 17);
    if (pcid) {
        /* PCIDE needs CR3[11:0] = 0. */
        write_cr3(cr3 | 0x8); /* PWT */
        int vec = try_write_cr4(cr4 | CR4_PCIDE);
        if (read_cr4() & CR4_PCIDE)
            write_cr4(cr4);
        write_cr3(cr3);
        expect_vector("cr4_pcide_with_cr3_low_bits_gp", vec, VEC_GP);
    } else {
        expect_vector("cr4_pcide_without_pcid_gp", try_write_cr4(cr4 | CR4_PCIDE), VEC_GP);
    }

    /* These end the VM when the hypervisor lets them through. */
    expect_vector("cr0_pg_without_pe_gp", try_write_cr0(cr0 & ~CR0_PE), VEC_GP);
    expect_vector("cr4_pae_clear_in_long_mode_gp", try_write_cr4(cr4 & ~CR4_PAE), VEC_GP);
    expect_vector("cr0_pg_clear_in_64bit_mode_gp", try_write_cr0(cr0 & ~CR0_PG), VEC_GP);
    if (pcid && (cr3 & 0xfff) == 0) {
        int set = try_write_cr4(cr4 | CR4_PCIDE);
        int vec = try_write_cr0(cr0 & ~CR0_PG);
        write_cr4(cr4);
        if (set != -1)
            fail("cr0_pg_clear_with_pcide_gp", "setting CR4.PCIDE gave exception %d", set);
        else
            expect_vector("cr0_pg_clear_with_pcide_gp", vec, VEC_GP);
    }
}
