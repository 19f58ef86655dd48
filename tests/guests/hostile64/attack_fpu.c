/* FPU/SIMD state across vCPU switches. `fill` is the neighbour: it keeps
 * XMM/YMM full of PATTERN and CR8 at FILL_CR8 and yields, forever (or
 * rounds=N times), checking that its own values come back. `xmm-leak`
 * and `xcr0-shrink` share its CPU and must never see PATTERN, nor lose
 * their own register contents, nor bring the hypervisor down. */
#include "tests/guests/hostile64/hostile64.h"

#define PATTERN 0x5a5a5a5au
#define NREGS   16
#define WORDS   8 /* 32-bit words of a YMM register */

static uint32_t g_out[NREGS][WORDS] __attribute__((aligned(32)));
static uint32_t g_in[NREGS][WORDS] __attribute__((aligned(32)));

/* XMM registers use the first 4 words of each row, YMM all 8. The .irp
 * loops expand to 16 instructions each: no compiler SIMD involved. */
static void xmm_write(void)
{
    __asm__ volatile(".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
                     "movdqu \\i*32(%0), %%xmm\\i\n\t.endr" ::"r"(g_out)
                     : "memory");
}
static void xmm_read(void)
{
    __asm__ volatile(".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
                     "movdqu %%xmm\\i, \\i*32(%0)\n\t.endr" ::"r"(g_in)
                     : "memory");
}
static void ymm_write(void)
{
    __asm__ volatile(".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
                     "vmovdqu \\i*32(%0), %%ymm\\i\n\t.endr" ::"r"(g_out)
                     : "memory");
}
static void ymm_read(void)
{
    __asm__ volatile(".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
                     "vmovdqu %%ymm\\i, \\i*32(%0)\n\t.endr" ::"r"(g_in)
                     : "memory");
}

/* AVX usable once XCR0 has SSE and AVX (the CPU and the hypervisor allow). */
static bool avx_available(void)
{
    uint32_t a, b, c, d;
    if (!cpu_has_xsave())
        return false;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 28)))
        return false;
    cpuid(0xd, 0, &a, &b, &c, &d);
    return (a & 6) == 6;
}

static void set_out(uint32_t (*val)(unsigned reg, unsigned word))
{
    for (unsigned r = 0; r < NREGS; r++)
        for (unsigned w = 0; w < WORDS; w++)
            g_out[r][w] = val(r, w);
}

static uint32_t pattern(unsigned r, unsigned w)
{
    (void)r;
    (void)w;
    return PATTERN;
}

/* This VM's own values: never PATTERN, never 0. */
static uint32_t own(unsigned r, unsigned w)
{
    return 0x11000000u | (r << 8) | w;
}

/* Compares words [from, to) of every register read back with g_out;
 * reports the first difference. Returns false on a breach. */
static bool check(const char *what, unsigned from, unsigned to, unsigned round)
{
    for (unsigned r = 0; r < NREGS; r++)
        for (unsigned w = from; w < to; w++) {
            uint32_t got = g_in[r][w];
            if (got == g_out[r][w])
                continue;
            if (got == PATTERN)
                breach("%s%u word %u holds the neighbour's pattern 0x%x (round %u, xcr0 0x%llx)",
                       what, r, w, got, round,
                       (unsigned long long)(cpu_has_xsave() ? xgetbv0() : 0));
            else
                breach("%s%u word %u is 0x%x, expected its own 0x%x (round %u)", what, r, w, got,
                       g_out[r][w], round);
            return false;
        }
    return true;
}

#define FILL_CR8 9u

void attack_fill(void)
{
    uint32_t rounds = cmdline_get_u32("rounds", 0);
    bool avx = avx_available() && try_xsetbv0(7) < 0;
    bool ok = true;
    set_out(pattern);
    printf("hostile: fill with 0x%x in %s, cr8 %u\n", PATTERN, avx ? "ymm0-15" : "xmm0-15",
           FILL_CR8);
    for (uint32_t round = 1; !rounds || round <= rounds; round++) {
        if (avx)
            ymm_write();
        else
            xmm_write();
        write_cr8(FILL_CR8);
        hc_yield();
        if (avx)
            ymm_read();
        else
            xmm_read();
        uint64_t cr8 = read_cr8();
        if (ok && cr8 != FILL_CR8) {
            breach("cr8 reads %llu after a yield, wrote %u", (unsigned long long)cr8, FILL_CR8);
            ok = false;
        }
        if (ok)
            ok = check(avx ? "ymm" : "xmm", 0, avx ? WORDS : 4, round);
        if (round % 2000 == 0)
            printf("hostile: fill round %u\n", round);
    }
}

void attack_xmm_leak(void)
{
    uint32_t rounds = cmdline_get_u32("rounds", 300);
    set_out(own);
    printf("hostile: xmm-leak xcr0 0x%llx, %u rounds\n",
           (unsigned long long)(cpu_has_xsave() ? xgetbv0() : 0), rounds);
    /* Phase 1: XCR0 as after reset (x87 only): the SSE registers are
     * still this vCPU's, whatever XCR0 says. */
    for (uint32_t round = 1; round <= rounds; round++) {
        xmm_write();
        hc_yield();
        xmm_read();
        if (!check("xmm", 0, 4, round))
            return;
    }
    printf("hostile: xmm-leak xmm0-15 kept over %u yields\n", rounds);
    if (!avx_available()) {
        printf("hostile: xmm-leak no AVX: ymm phase skipped\n");
        return;
    }
    /* Phase 2: turn AVX on. The upper halves were never written here, so
     * they must read as the reset state (0), not the neighbour's. */
    if (try_xsetbv0(7) >= 0) {
        breach("xsetbv 7 faulted though CPUID allows AVX");
        return;
    }
    ymm_read();
    for (unsigned r = 0; r < NREGS; r++)
        for (unsigned w = 4; w < WORDS; w++)
            if (g_in[r][w] != 0) {
                breach("ymm%u word %u is 0x%x right after xsetbv 7, expected 0%s", r, w, g_in[r][w],
                       g_in[r][w] == PATTERN ? " (the neighbour's pattern)" : "");
                return;
            }
    for (uint32_t round = 1; round <= rounds; round++) {
        ymm_write();
        hc_yield();
        ymm_read();
        if (!check("ymm", 0, WORDS, round))
            return;
    }
    printf("hostile: xmm-leak ymm0-15 kept over %u yields\n", rounds);
}

void attack_xcr0_shrink(void)
{
    uint32_t rounds = cmdline_get_u32("rounds", 100);
    if (!cpu_has_xsave()) {
        printf("hostile: xcr0-shrink: no XSAVE, nothing to shrink\n");
        return;
    }
    uint64_t big = avx_available() ? 7 : 3;
    set_out(own);
    printf("hostile: xcr0-shrink 0x%llx -> 1, %u rounds\n", (unsigned long long)big, rounds);
    for (uint32_t round = 1; round <= rounds; round++) {
        int v = try_xsetbv0(big);
        if (v >= 0) {
            breach("xsetbv 0x%llx -> %s", (unsigned long long)big, vector_name((unsigned)v));
            return;
        }
        xmm_write(); /* dirty: XSTATE_BV gets the SSE bit at the next save */
        hc_yield();
        v = try_xsetbv0(1);
        if (v >= 0) {
            breach("xsetbv 1 -> %s", vector_name((unsigned)v));
            return;
        }
        hc_yield(); /* saved and restored with XCR0 = 1 */
        xmm_read();
        if (xgetbv0() != 1) {
            breach("xcr0 reads 0x%llx after a yield, set 1", (unsigned long long)xgetbv0());
            return;
        }
        /* Changing XCR0 leaves register contents alone (SDM 13.3). */
        if (!check("xmm", 0, 4, round))
            return;
    }
    printf("hostile: xcr0-shrink %u rounds, registers intact\n", rounds);
}
