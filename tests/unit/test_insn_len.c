/* Lengths of the intercepted instructions (vcpu/insn_len.c), for backends
 * that do not report them: real encodings (checked against objdump), with
 * prefixes, REX, every ModRM form of LMSW, and what must give 0. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vcpu/insn_len.h"

struct lcase {
    const char *name;
    unsigned mode;
    const char *hex;
    unsigned len; /* 0: not an intercepted instruction, or cut short */
};

static const struct lcase cases[] = {
    {"cpuid", 32, "0fa2", 2},
    {"hlt", 32, "f4", 1},
    {"out dx,al", 32, "ee", 1},
    {"in ax,dx (66)", 32, "66ed", 2},
    {"rep insb", 32, "f36c", 2},
    {"rep outsw 16-bit", 16, "f3266f", 3},
    {"in al,0x60", 32, "e460", 2},
    {"out 0x80,eax", 64, "e780", 2},
    {"rdmsr", 64, "0f32", 2},
    {"wrmsr", 64, "0f30", 2},
    {"rdpmc", 32, "0f33", 2},
    {"wbinvd", 32, "0f09", 2},
    {"invd", 32, "0f08", 2},
    {"clts", 32, "0f06", 2},
    {"pause", 32, "f390", 2},
    {"vmcall", 32, "0f01c1", 3},
    {"vmmcall", 64, "0f01d9", 3},
    {"xsetbv", 64, "0f01d1", 3},
    {"mov cr0,eax", 32, "0f22c0", 3},
    {"mov rax,cr8 (REX.R)", 64, "440f20c0", 4},
    {"mov cr3,rax (REX.W)", 64, "480f22d8", 4},
    {"lmsw ax", 32, "0f01f0", 3},
    {"lmsw [eax]", 32, "0f0130", 3},
    {"lmsw [0x1234] 16-bit", 16, "0f01363412", 5},
    {"lmsw [bx+si+0x12] 16-bit", 16, "0f017012", 4},
    {"lmsw [esp+0x100]", 32, "0f01b42400010000", 8},
    {"lmsw [rip+0x10]", 64, "0f013510000000", 7},
    {"lmsw [ebp*2+0] (SIB, no base)", 32, "0f01346d00000000", 8},
    {"lmsw [bx] with 67 in 32-bit", 32, "670f0137", 4},
    {"mov [eax],ebx is not intercepted", 32, "8918", 0},
    {"sgdt [eax] is not intercepted", 32, "0f0100", 0},
    {"cut short: 0f", 32, "0f", 0},
    {"cut short: in al,imm8", 32, "e4", 0},
    {"cut short: lmsw disp32", 32, "0f01350000", 0},
    {"only prefixes", 32, "666666", 0},
};

static unsigned parse_hex(const char *hex, uint8_t *out)
{
    unsigned n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        char b[3] = {hex[0], hex[1], 0};
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
    }
    return n;
}

static void test_cases(void **state)
{
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t bytes[16];
        unsigned n = parse_hex(cases[i].hex, bytes);
        unsigned got = x86_insn_length(bytes, n, cases[i].mode);
        if (got != cases[i].len)
            fail_msg("%s: length %u, expected %u", cases[i].name, got, cases[i].len);
    }
}

/* The length never exceeds what was given or 15, whatever the bytes. */
static void test_bounded(void **state)
{
    uint8_t bytes[15];
    uint32_t seed = 12345;
    for (unsigned round = 0; round < 200000; round++) {
        unsigned n = 1 + round % 15;
        for (unsigned i = 0; i < n; i++) {
            seed = seed * 1103515245 + 12345;
            bytes[i] = (uint8_t)(seed >> 16);
        }
        unsigned mode = round % 3 == 0 ? 16 : round % 3 == 1 ? 32 : 64;
        unsigned got = x86_insn_length(bytes, n, mode);
        assert_true(got <= n);
    }
    memset(bytes, 0x66, sizeof(bytes));
    assert_int_equal(x86_insn_length(bytes, 15, 32), 0);
}

struct scase {
    const char *name;
    unsigned mode;
    const char *hex;
    bool ok;
    unsigned addr_size;
    int seg;
};

static const struct scase string_cases[] = {
    {"rep insb 32-bit", 32, "f36c", true, 4, -1},
    {"rep insb 16-bit", 16, "f36c", true, 2, -1},
    {"rep insb 64-bit", 64, "f36c", true, 8, -1},
    {"insb with 67 in 32-bit", 32, "676c", true, 2, -1},
    {"insb with 67 in 16-bit", 16, "676c", true, 4, -1},
    {"insd with 67 in 64-bit", 64, "676d", true, 4, -1},
    {"rep outsw es: 16-bit", 16, "f3266f", true, 2, 0},
    {"outsb cs:", 32, "2e6e", true, 4, 1},
    {"outsb ss:", 32, "366e", true, 4, 2},
    {"outsb ds:", 32, "3e6e", true, 4, 3},
    {"outsb fs: 64-bit", 64, "646e", true, 8, 4},
    {"outsd gs: rep 66 67 64-bit, last override wins", 64, "6466f367656f", true, 4, 5},
    {"rex.w outsd 64-bit", 64, "486f", true, 8, -1},
    {"rex is not a prefix in 32-bit (dec eax)", 32, "486f", false, 0, -1},
    {"in al,dx is not string I/O", 32, "ec", false, 0, -1},
    {"only prefixes", 32, "f36767", false, 0, -1},
    {"nothing", 32, "", false, 0, -1},
};

static void test_string_io_prefixes(void **state)
{
    for (unsigned i = 0; i < sizeof(string_cases) / sizeof(string_cases[0]); i++) {
        const struct scase *c = &string_cases[i];
        uint8_t bytes[16];
        unsigned n = parse_hex(c->hex, bytes);
        unsigned size = 99;
        int seg = 99;
        bool ok = x86_string_io_prefixes(bytes, n, c->mode, &size, &seg);
        if (ok != c->ok)
            fail_msg("%s: %s, expected %s", c->name, ok ? "true" : "false",
                     c->ok ? "true" : "false");
        if (ok && (size != c->addr_size || seg != c->seg))
            fail_msg("%s: address size %u seg %d, expected %u %d", c->name, size, seg, c->addr_size,
                     c->seg);
    }
    /* 15 prefixes: no room for the opcode. */
    uint8_t many[16];
    unsigned size;
    int seg;
    memset(many, 0x26, sizeof(many));
    many[15] = 0x6c;
    assert_false(x86_string_io_prefixes(many, 16, 32, &size, &seg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_string_io_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
