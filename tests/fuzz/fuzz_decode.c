/* libFuzzer target: the MMIO instruction decoder (vcpu/decode.c), which
 * reads instruction bytes a guest chose, and the operand helpers the
 * emulation runs on its result. Input: a mode byte, up to 15 instruction
 * bytes, then register values, a memory value and RFLAGS.
 * Besides the sanitizers it checks what the emulation relies on:
 *   - a decoded instruction has a length within what was fetched, a size
 *     of 1/2/4/8 that the mode allows, a register index 0-15 or -1, an
 *     immediate that fits its size, and an address size the mode allows;
 *   - decoding exactly `len` bytes gives the same result, and fewer bytes
 *     say "truncated" (the decoder never looks past the instruction);
 *   - the result writers change only the registers the instruction names.
 */
/* fuzz-srcs: vcpu/decode.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "vcpu/decode.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static uint64_t mask(unsigned size)
{
    return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static bool valid_size(unsigned s)
{
    return s == 1 || s == 2 || s == 4 || s == 8;
}

static void check_only_changed(const uint64_t before[16], const uint64_t after[16], int a, int b,
                               int c)
{
    for (int i = 0; i < 16; i++)
        if (i != a && i != b && i != c)
            CHECK(before[i] == after[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned modes[4] = {16, 32, 64, 64};
    struct fuzz_input in = {data, size, 0};
    uint8_t sel = fuzz_u8(&in);
    unsigned mode = modes[sel & 3];
    if (sel & 0x80) /* now and then a mode the decoder must refuse */
        mode = sel;
    unsigned max_len = (sel >> 2) & 0x1f; /* up to 31: the decoder caps at 15 */
    uint8_t bytes[32];
    memset(bytes, 0, sizeof(bytes));
    unsigned n = max_len < fuzz_left(&in) ? max_len : (unsigned)fuzz_left(&in);
    /* A private copy of exactly n bytes: reads past it hit ASan. */
    uint8_t *insn = malloc(n ? n : 1);
    if (!insn)
        return 0;
    for (unsigned i = 0; i < n; i++)
        insn[i] = bytes[i] = fuzz_u8(&in);

    struct mmio_insn d, d2;
    int r = mmio_decode(insn, n, mode, &d);
    free(insn);
    CHECK(mmio_strerror(r) != NULL);
    if (mode != 16 && mode != 32 && mode != 64) {
        CHECK(r == MMIO_ERR_INVAL);
        return 0;
    }
    CHECK(r <= 0 && r >= MMIO_ERR_UD);
    if (r)
        return 0;

    CHECK(d.len >= 1 && d.len <= n && d.len <= MMIO_INSN_MAX);
    CHECK(valid_size(d.size) && valid_size(d.dst_size));
    if (mode != 64)
        CHECK(d.size <= 4 && d.dst_size <= 4);
    if (d.op == MMIO_OP_MOVZX || d.op == MMIO_OP_MOVSX)
        CHECK(d.dst_size >= d.size); /* movzx r16, r/m16 exists */
    else
        CHECK(d.dst_size == d.size);
    CHECK(d.reg >= -1 && d.reg <= 15);
    if (d.high_byte)
        CHECK(d.reg >= 0 && d.reg <= 3 && d.size == 1 && !(d.prefixes & MMIO_PFX_REX));
    if (d.has_imm)
        CHECK((d.imm & ~mask(d.size)) == 0);
    if (mode == 64)
        CHECK(d.addr_size == 8 || d.addr_size == 4);
    else
        CHECK(d.addr_size == 2 || d.addr_size == 4);
    CHECK(d.seg >= MMIO_SEG_NONE && d.seg <= MMIO_SEG_GS);
    if (d.rip_relative)
        CHECK(mode == 64);

    /* Exactly len bytes decode the same; one fewer is truncated. */
    CHECK(mmio_decode(bytes, d.len, mode, &d2) == 0 && memcmp(&d, &d2, sizeof(d)) == 0);
    CHECK(mmio_decode(bytes, d.len - 1, mode, &d2) == MMIO_ERR_TRUNC);

    uint64_t gprs[16], before[16], rflags = fuzz_u64(&in);
    for (int i = 0; i < 16; i++)
        gprs[i] = fuzz_u64(&in);
    uint64_t mem = fuzz_u64(&in) & mask(d.size);
    memcpy(before, gprs, sizeof(gprs));

    uint64_t store = mmio_store_value(&d, gprs);
    CHECK((store & ~mask(d.size)) == 0);
    uint64_t fl = rflags;
    uint64_t res = mmio_alu(&d, mem, gprs, &fl);
    /* ALU ops change the six arithmetic flags only. */
    CHECK(((fl ^ rflags) & ~0x8d5ULL) == 0);
    if (d.op >= MMIO_OP_ADD && d.op <= MMIO_OP_TEST)
        CHECK((res & ~mask(d.size)) == 0);
    mmio_load_result(&d, gprs, res);
    check_only_changed(before, gprs, d.reg, -1, -1);

    memcpy(before, gprs, sizeof(gprs));
    bool done = mmio_string_step(&d, gprs, rflags);
    if (d.op == MMIO_OP_MOVS || d.op == MMIO_OP_STOS)
        check_only_changed(before, gprs, MMIO_RCX, MMIO_RSI, MMIO_RDI);
    else
        CHECK(done && memcmp(before, gprs, sizeof(gprs)) == 0);
    (void)mmio_reads_mem(&d);
    (void)mmio_writes_mem(&d);
    return 0;
}
