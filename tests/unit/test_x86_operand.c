/* LMSW's memory operand (vcpu/x86_operand.c), emulated when a backend
 * cannot decode a CR0 write (SVM without DecodeAssists): real encodings
 * (from GNU as, checked with objdump) in every addressing form of each
 * code mode, what must be refused, the effective address with
 * address-size truncation, and the segmentation checks (limits,
 * expand-down, types, unusable segments, canonical form, #SS vs #GP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vcpu/x86_operand.h"

#define DS HVM_SEG_DS
#define SS HVM_SEG_SS
#define ES HVM_SEG_ES
#define FS HVM_SEG_FS
#define GS HVM_SEG_GS

/* RAX has bits above 32 to show address-size truncation. */
static const uint64_t gprs[16] = {
    0xdead00001000ULL,
    0x20,
    0x3000,
    0x4000,
    0x5000,
    0x6000,
    0x7000,
    0x8000,
    0x9000,
    0xa000,
    0xb000,
    0xc000,
    0xd000,
    0xe000,
    0xf000,
    0x10000,
};
#define NEXT_RIP 0x400000ULL

struct ocase {
    const char *name;
    unsigned mode;
    const char *hex;
    unsigned len;
    bool mem;
    unsigned gpr; /* register form */
    int seg;
    unsigned addr_size;
    uint64_t offset; /* with gprs[] and NEXT_RIP */
};

static const struct ocase cases[] = {
    {"lmsw (%rax)", 64, "0f0130", 3, true, 0, DS, 8, 0xdead00001000ULL},
    {"lmsw 0x10(%rip)", 64, "0f013510000000", 7, true, 0, DS, 8, NEXT_RIP + 0x10},
    {"lmsw 0x12(%rbx,%rcx,4)", 64, "0f01748b12", 5, true, 0, DS, 8, 0x4000 + 0x80 + 0x12},
    {"lmsw -8(%rsp)", 64, "0f017424f8", 5, true, 0, SS, 8, 0x4ff8},
    {"lmsw 0x100(%rbp)", 64, "0f01b500010000", 7, true, 0, SS, 8, 0x6100},
    {"lmsw (%r12): DS, not SS", 64, "410f013424", 5, true, 0, DS, 8, 0xd000},
    {"lmsw 0x7f(%r13,%r14,8)", 64, "430f0174f57f", 6, true, 0, DS, 8, 0xe000 + 0x78000 + 0x7f},
    {"lmsw %fs:0x20(%rdx)", 64, "640f017220", 5, true, 0, FS, 8, 0x3020},
    {"ss lmsw (%rax)", 64, "360f0130", 4, true, 0, SS, 8, 0xdead00001000ULL},
    {"lmsw (%eax)", 64, "670f0130", 4, true, 0, DS, 4, 0x1000},
    {"lmsw 0x1234 (SIB, no base)", 64, "0f01342534120000", 8, true, 0, DS, 8, 0x1234},
    {"lmsw (%rsp,%r12,2)", 64, "420f013464", 5, true, 0, SS, 8, 0x5000 + 0x1a000},
    {"lmsw 0x10(%eip)", 64, "670f013510000000", 8, true, 0, DS, 4, NEXT_RIP + 0x10},
    {"REX then 67: REX ignored", 64, "41670f013424", 6, true, 0, SS, 4, 0x5000},
    {"lmsw %ax", 64, "0f01f0", 3, false, 0, 0, 0, 0},
    {"lmsw %r9w", 64, "410f01f1", 4, false, 9, 0, 0, 0},
    {"lmsw (%eax) 32", 32, "0f0130", 3, true, 0, DS, 4, 0x1000},
    {"lmsw 0x12345678 (absolute)", 32, "0f013578563412", 7, true, 0, DS, 4, 0x12345678},
    {"lmsw 8(%ebp)", 32, "0f017508", 4, true, 0, SS, 4, 0x6008},
    {"lmsw %es:-4(%esi,%edi,2)", 32, "260f01747efc", 6, true, 0, ES, 4, 0x7000 + 0x10000 - 4},
    {"lmsw (%bx,%si) 32+67", 32, "670f0130", 4, true, 0, DS, 2, 0xb000},
    {"lmsw 0x10(%bp,%di) 32+67", 32, "670f017310", 5, true, 0, SS, 2, 0xe010},
    {"lmsw %dx 32", 32, "0f01f2", 3, false, 2, 0, 0, 0},
    {"lmsw (%bx,%si)", 16, "0f0130", 3, true, 0, DS, 2, 0xb000},
    {"lmsw 0x1234", 16, "0f01363412", 5, true, 0, DS, 2, 0x1234},
    {"lmsw -2(%bp)", 16, "0f0176fe", 4, true, 0, SS, 2, 0x5ffe},
    {"lmsw 0x200(%di)", 16, "0f01b50002", 5, true, 0, DS, 2, 0x8200},
    {"lmsw %gs:(%bx)", 16, "650f0137", 4, true, 0, GS, 2, 0x4000},
    {"lmsw (%eax,%ecx,4) 16+67", 16, "670f013488", 5, true, 0, DS, 4, 0x1080},
    {"lmsw (%si) with 66 and REP", 16, "66f30f0134", 5, true, 0, DS, 2, 0x7000},
};

static unsigned unhex(const char *hex, uint8_t *out)
{
    unsigned n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        char b[3] = {hex[0], hex[1], 0};
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
    }
    return n;
}

static void test_forms(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ocase *c = &cases[i];
        uint8_t b[16];
        unsigned n = unhex(c->hex, b);
        struct x86_lmsw in;
        if (!x86_decode_lmsw(b, n, c->mode, &in))
            fail_msg("%s: not decoded", c->name);
        if (in.len != c->len || in.mem != c->mem)
            fail_msg("%s: len %u mem %d", c->name, in.len, in.mem);
        if (!c->mem) {
            assert_int_equal(in.gpr, c->gpr);
            continue;
        }
        uint64_t off = x86_operand_offset(&in.op, gprs, NEXT_RIP);
        if (in.op.seg != c->seg || in.op.addr_size != c->addr_size || off != c->offset)
            fail_msg("%s: seg %d addr_size %u offset 0x%llx", c->name, in.op.seg, in.op.addr_size,
                     (unsigned long long)off);
        /* Every byte is needed: one fewer is refused. */
        if (x86_decode_lmsw(b, n - 1, c->mode, &in))
            fail_msg("%s: decoded from %u of %u bytes", c->name, n - 1, n);
    }
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        unsigned mode;
        const char *hex;
    } bad[] = {
        {64, "f00f0130"},   /* LOCK LMSW: #UD */
        {64, "0f0138"},     /* INVLPG (/7) */
        {64, "0f0120"},     /* SMSW (/4) */
        {64, "0f22c0"},     /* MOV CR0, RAX */
        {64, "0f06"},       /* CLTS */
        {32, "0f01"},       /* cut short */
        {32, "0f017508"},   /* fine ... */
        {16, "0f0136"},     /* disp16 missing */
        {64, "0f01342534"}, /* disp32 cut */
        {32, "400f0130"},   /* 0x40 is INC EAX outside 64-bit mode */
        {0, "0f0130"},      /* bad mode */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t b[16];
        unsigned n = unhex(bad[i].hex, b);
        struct x86_lmsw in;
        bool ok = x86_decode_lmsw(b, n, bad[i].mode, &in);
        if (ok != (i == 6))
            fail_msg("%s (mode %u): decoded %d", bad[i].hex, bad[i].mode, ok);
    }
    /* 14 prefixes leave room for nothing but a 1-byte opcode: too long. */
    uint8_t many[20];
    memset(many, 0x3e, 14);
    memcpy(many + 14, "\x0f\x01\x30", 3);
    struct x86_lmsw in;
    assert_false(x86_decode_lmsw(many, 17, 32, &in));
    /* 12 prefixes: exactly 15 bytes. */
    assert_true(x86_decode_lmsw(many + 2, 15, 32, &in));
    assert_int_equal(in.len, 15);
}

static void test_offset_wraps(void **state)
{
    (void)state;
    uint64_t r[16] = {0};
    struct x86_lmsw in;
    uint8_t b[8];
    /* (%bx,%si) with BX 0xffff, SI 2: wraps at 64 KiB. */
    r[3] = 0xffff;
    r[6] = 2;
    unsigned n = unhex("0f0130", b);
    assert_true(x86_decode_lmsw(b, n, 16, &in));
    assert_int_equal(x86_operand_offset(&in.op, r, 0), 1);
    /* -8(%esp) with ESP 4: wraps at 4 GiB, upper RSP bits ignored. */
    r[4] = 0xffffffff00000004ULL;
    n = unhex("0f017424f8", b);
    assert_true(x86_decode_lmsw(b, n, 32, &in));
    assert_int_equal(x86_operand_offset(&in.op, r, 0), 0xfffffffcULL);
    /* 64-bit: no truncation. */
    assert_true(x86_decode_lmsw(b, n, 64, &in));
    assert_int_equal(x86_operand_offset(&in.op, r, 0), 0xfffffffefffffffcULL);
}

#define AR(type, db, unusable)                                                                     \
    ((type) | 0x90U | ((db) ? 1U << 14 : 0) | ((unusable) ? 1U << 16 : 0))

static enum x86_seg_check seg(uint32_t attr, uint32_t limit, uint64_t base, int s,
                              enum x86_cpu_mode m, uint64_t off, bool write, uint64_t *la)
{
    struct hvm_segment sd = {.base = base, .limit = limit, .attr = attr};
    *la = 0xbad;
    return x86_segment_linear(&sd, s, m, 48, off, 2, write, la);
}

static void test_segment_protected(void **state)
{
    (void)state;
    uint64_t la;
    const enum x86_cpu_mode P = X86_MODE_PROTECTED;
    /* Flat read/write data. */
    assert_int_equal(seg(AR(3, 1, 0), 0xffffffff, 0, DS, P, 0x1000, false, &la), X86_SEG_OK);
    assert_int_equal(la, 0x1000);
    /* The base is added and the sum wraps at 4 GiB. */
    assert_int_equal(seg(AR(3, 1, 0), 0xffffffff, 0xfffff000, DS, P, 0x2000, false, &la),
                     X86_SEG_OK);
    assert_int_equal(la, 0x1000);
    /* Limit: both bytes must lie inside. */
    assert_int_equal(seg(AR(3, 0, 0), 0xffff, 0x10000, ES, P, 0xfffe, false, &la), X86_SEG_OK);
    assert_int_equal(la, 0x1fffe);
    assert_int_equal(seg(AR(3, 0, 0), 0xffff, 0, ES, P, 0xffff, false, &la), X86_SEG_GP);
    assert_int_equal(seg(AR(3, 0, 0), 0xffff, 0, SS, P, 0xffff, false, &la), X86_SEG_SS);
    assert_int_equal(seg(AR(3, 1, 0), 0xffffffff, 0, DS, P, 0xffffffff, false, &la), X86_SEG_GP);
    /* Unusable (a null selector). */
    assert_int_equal(seg(AR(3, 1, 1), 0xffffffff, 0, FS, P, 0, false, &la), X86_SEG_GP);
    assert_int_equal(seg(AR(3, 1, 1), 0xffffffff, 0, SS, P, 0, false, &la), X86_SEG_SS);
    /* Types: execute-only code cannot be read, readable code can; no
     * code segment is writable, nor read-only data. */
    assert_int_equal(seg(AR(8, 1, 0), 0xffffffff, 0, HVM_SEG_CS, P, 0, false, &la), X86_SEG_GP);
    assert_int_equal(seg(AR(0xa, 1, 0), 0xffffffff, 0, HVM_SEG_CS, P, 0, false, &la), X86_SEG_OK);
    assert_int_equal(seg(AR(0xa, 1, 0), 0xffffffff, 0, HVM_SEG_CS, P, 0, true, &la), X86_SEG_GP);
    assert_int_equal(seg(AR(1, 1, 0), 0xffffffff, 0, DS, P, 0, false, &la), X86_SEG_OK);
    assert_int_equal(seg(AR(1, 1, 0), 0xffffffff, 0, DS, P, 0, true, &la), X86_SEG_GP);
    /* Expand-down (type 7): valid above the limit, up to 4 GiB with D/B,
     * 64 KiB without. */
    assert_int_equal(seg(AR(7, 1, 0), 0xfff, 0, SS, P, 0xfff, false, &la), X86_SEG_SS);
    assert_int_equal(seg(AR(7, 1, 0), 0xfff, 0, SS, P, 0x1000, false, &la), X86_SEG_OK);
    assert_int_equal(la, 0x1000);
    assert_int_equal(seg(AR(7, 1, 0), 0xfff, 0, SS, P, 0xfffffffe, false, &la), X86_SEG_OK);
    assert_int_equal(seg(AR(7, 1, 0), 0xfff, 0, SS, P, 0xffffffff, false, &la), X86_SEG_SS);
    assert_int_equal(seg(AR(7, 0, 0), 0xfff, 0, DS, P, 0xfffe, false, &la), X86_SEG_OK);
    assert_int_equal(seg(AR(7, 0, 0), 0xfff, 0, DS, P, 0xffff, false, &la), X86_SEG_GP);
}

static void test_segment_real_and_64(void **state)
{
    (void)state;
    uint64_t la;
    /* Real mode: base + offset, the cached limit, no type or usable check. */
    assert_int_equal(seg(AR(3, 0, 1), 0xffff, 0x12340, DS, X86_MODE_REAL, 0x10, false, &la),
                     X86_SEG_OK);
    assert_int_equal(la, 0x12350);
    assert_int_equal(seg(AR(3, 0, 0), 0xffff, 0, DS, X86_MODE_REAL, 0xffff, false, &la),
                     X86_SEG_GP);
    assert_int_equal(seg(AR(3, 0, 0), 0xffff, 0, SS, X86_MODE_REAL, 0xffff, false, &la),
                     X86_SEG_SS);
    /* 64-bit: only FS and GS have a base; no limit or type check. */
    const enum x86_cpu_mode L = X86_MODE_64;
    assert_int_equal(seg(AR(8, 0, 1), 0, 0x5000, DS, L, 0x1000, true, &la), X86_SEG_OK);
    assert_int_equal(la, 0x1000);
    assert_int_equal(seg(0, 0, 0xffff800000000000ULL, GS, L, 0x10, false, &la), X86_SEG_OK);
    assert_int_equal(la, 0xffff800000000010ULL);
    /* Non-canonical: #GP, #SS when SS-based; also the second byte. */
    assert_int_equal(seg(0, 0, 0, DS, L, 0x0000800000000000ULL, false, &la), X86_SEG_GP);
    assert_int_equal(seg(0, 0, 0, SS, L, 0x0000800000000000ULL, false, &la), X86_SEG_SS);
    assert_int_equal(seg(0, 0, 0, DS, L, 0x00007fffffffffffULL, false, &la), X86_SEG_GP);
    assert_int_equal(seg(0, 0, 0, DS, L, 0x00007ffffffffffeULL, false, &la), X86_SEG_OK);
    assert_int_equal(seg(0, 0, 0x0000800000000000ULL, FS, L, 0, false, &la), X86_SEG_GP);
    /* LA57 widens the canonical range. */
    struct hvm_segment sd = {0};
    assert_int_equal(x86_segment_linear(&sd, DS, L, 57, 0x0000800000000000ULL, 2, false, &la),
                     X86_SEG_OK);
    assert_int_equal(x86_segment_linear(&sd, DS, L, 57, 0x0100000000000000ULL, 2, false, &la),
                     X86_SEG_GP);
    /* Bad arguments. */
    assert_int_equal(x86_segment_linear(&sd, 6, L, 48, 0, 2, false, &la), X86_SEG_GP);
    assert_int_equal(x86_segment_linear(&sd, DS, L, 48, 0, 0, false, &la), X86_SEG_GP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_offset_wraps),
        cmocka_unit_test(test_segment_protected),
        cmocka_unit_test(test_segment_real_and_64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
