/* elf_parse: synthetic ELF32/ELF64 images, every rejection, and the real
 * test guests when they have been built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/loader.h"

#define RAM          (16ULL << 20)
#define PT_LOAD      1
#define PT_NOTE      4
#define PT_GNU_STACK 0x6474e551

/* Little-endian image builder: the test host and the target agree. */
static uint8_t img[8192];
static char err[128];
static struct elf_image out;

static void put16(size_t off, uint16_t v)
{
    memcpy(img + off, &v, 2);
}
static void put32(size_t off, uint32_t v)
{
    memcpy(img + off, &v, 4);
}
static void put64(size_t off, uint64_t v)
{
    memcpy(img + off, &v, 8);
}

/* ELF32: header 52 bytes, program headers of 32 bytes at 52. */
enum { E32_PHOFF = 52, E32_PHSZ = 32, E64_PHOFF = 64, E64_PHSZ = 56 };
static size_t stride; /* where phdr() puts entry i; ehdr() resets it */

static void ehdr(int is64, uint64_t entry, unsigned phnum)
{
    memset(img, 0, sizeof(img));
    stride = is64 ? E64_PHSZ : E32_PHSZ;
    memcpy(img, "\177ELF", 4);
    img[4] = is64 ? 2 : 1; /* class */
    img[5] = 1;            /* little endian */
    img[6] = 1;            /* version */
    put16(16, 2);          /* ET_EXEC */
    put16(18, is64 ? 62 : 3);
    put32(20, 1);
    if (is64) {
        put64(24, entry);
        put64(32, E64_PHOFF);
        put16(52, 64);
        put16(54, E64_PHSZ);
        put16(56, (uint16_t)phnum);
    } else {
        put32(24, (uint32_t)entry);
        put32(28, E32_PHOFF);
        put16(40, 52);
        put16(42, E32_PHSZ);
        put16(44, (uint16_t)phnum);
    }
}

static void phdr(int is64, unsigned i, uint32_t type, uint64_t offset, uint64_t paddr,
                 uint64_t filesz, uint64_t memsz)
{
    if (is64) {
        size_t p = E64_PHOFF + (size_t)i * stride;
        put32(p, type);
        put32(p + 4, 5); /* R+X */
        put64(p + 8, offset);
        put64(p + 16, paddr + 0xffffffff80000000ULL); /* vaddr differs: paddr is used */
        put64(p + 24, paddr);
        put64(p + 32, filesz);
        put64(p + 40, memsz);
        put64(p + 48, 0x1000);
    } else {
        size_t p = E32_PHOFF + (size_t)i * stride;
        put32(p, type);
        put32(p + 4, (uint32_t)offset);
        put32(p + 8, (uint32_t)paddr + 0xc0000000u);
        put32(p + 12, (uint32_t)paddr);
        put32(p + 16, (uint32_t)filesz);
        put32(p + 20, (uint32_t)memsz);
        put32(p + 24, 5);
        put32(p + 28, 0x1000);
    }
}

static int parse(uint64_t size, uint64_t ram)
{
    memset(err, 0, sizeof(err));
    return elf_parse(img, size, ram, &out, err, sizeof(err));
}

static void expect_reject(uint64_t size, uint64_t ram, const char *fragment)
{
    if (parse(size, ram) != -1)
        fail_msg("accepted; expected '%s'", fragment);
    if (!strstr(err, fragment))
        fail_msg("error '%s' does not mention '%s'", err, fragment);
}

/* A good two-segment kernel at 1 MiB: text (file-backed) and bss. */
static void good_image(int is64)
{
    ehdr(is64, 0x100010, 2);
    phdr(is64, 0, PT_LOAD, 0x1000, 0x100000, 0x800, 0x800);
    phdr(is64, 1, PT_LOAD, 0x1800, 0x101000, 0x200, 0x3000);
}

static void check_good(int is64)
{
    good_image(is64);
    assert_int_equal(parse(0x2000, RAM), 0);
    assert_int_equal(out.entry, 0x100010);
    assert_int_equal(out.nr_segments, 2);
    assert_int_equal(out.seg[0].offset, 0x1000);
    assert_int_equal(out.seg[0].paddr, 0x100000);
    assert_int_equal(out.seg[0].filesz, 0x800);
    assert_int_equal(out.seg[0].memsz, 0x800);
    assert_int_equal(out.seg[1].offset, 0x1800);
    assert_int_equal(out.seg[1].paddr, 0x101000);
    assert_int_equal(out.seg[1].filesz, 0x200);
    assert_int_equal(out.seg[1].memsz, 0x3000);
}

static void test_good32(void **state)
{
    check_good(0);
}

static void test_good64(void **state)
{
    check_good(1);
}

static void test_segment_exactly_fits(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        /* File data ending at the last byte of the file, memory ending at the
         * last byte of RAM, low RAM right up to the hole. */
        ehdr(is64, 0x1000, 2);
        phdr(is64, 0, PT_LOAD, 0x1000, 0x1000, 0x1000, 0xa0000 - 0x1000);
        phdr(is64, 1, PT_LOAD, 0x1800, RAM - 0x1000, 0x800, 0x1000);
        assert_int_equal(parse(0x2000, RAM), 0);
        assert_int_equal(out.nr_segments, 2);
        /* Entry at the last byte of a segment is inside it. */
        ehdr(is64, RAM - 1, 1);
        phdr(is64, 0, PT_LOAD, 0x1000, RAM - 0x1000, 0x800, 0x1000);
        assert_int_equal(parse(0x2000, RAM), 0);
    }
}

static void test_not_elf(void **state)
{
    good_image(0);
    img[0] = 0x7e;
    expect_reject(0x2000, RAM, "not an ELF");
    good_image(0);
    memcpy(img + 1, "ELG", 3);
    expect_reject(0x2000, RAM, "not an ELF");
    /* Too short to hold an ELF32 header. */
    good_image(0);
    expect_reject(51, RAM, "not an ELF");
    expect_reject(4, RAM, "not an ELF");
    expect_reject(0, RAM, "not an ELF");
}

static void test_bad_class(void **state)
{
    good_image(0);
    img[4] = 0;
    expect_reject(0x2000, RAM, "class");
    img[4] = 3;
    expect_reject(0x2000, RAM, "class");
    good_image(1);
    img[5] = 2; /* big endian */
    expect_reject(0x2000, RAM, "byte order");
    img[5] = 0;
    expect_reject(0x2000, RAM, "byte order");
}

static void test_truncated_elf64_header(void **state)
{
    good_image(1);
    expect_reject(63, RAM, "truncated");
    expect_reject(52, RAM, "truncated");
}

static void test_wrong_type_machine(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        good_image(is64);
        put16(16, 3); /* ET_DYN */
        expect_reject(0x2000, RAM, "not an x86 executable");
        put16(16, 1); /* ET_REL */
        expect_reject(0x2000, RAM, "not an x86 executable");
        good_image(is64);
        put16(18, 40); /* ARM */
        expect_reject(0x2000, RAM, "machine 40");
        put16(18, 183); /* AArch64 */
        expect_reject(0x2000, RAM, "machine 183");
        put16(18, 0);
        expect_reject(0x2000, RAM, "not an x86 executable");
    }
}

static void test_phdrs_past_end(void **state)
{
    /* Table starting beyond the file. */
    good_image(0);
    put32(28, 0x3000);
    expect_reject(0x2000, RAM, "bad program header table");
    good_image(1);
    put64(32, 0x3000);
    expect_reject(0x2000, RAM, "bad program header table");
    /* A huge phoff must not wrap the bounds check. */
    good_image(1);
    put64(32, 0xffffffffffffff00ULL);
    expect_reject(0x2000, RAM, "bad program header table");
    /* Table starting inside the file but ending past it. */
    good_image(0);
    assert_int_equal(parse(E32_PHOFF + 2 * E32_PHSZ, RAM), -1); /* segment data gone */
    expect_reject(E32_PHOFF + 2 * E32_PHSZ - 1, RAM, "bad program header table");
    good_image(1);
    expect_reject(E64_PHOFF + 2 * E64_PHSZ - 1, RAM, "bad program header table");
    /* Many headers. */
    good_image(1);
    put16(56, 0xffff);
    expect_reject(0x2000, RAM, "bad program header table");
    /* No program headers at all. */
    good_image(0);
    put16(44, 0);
    expect_reject(0x2000, RAM, "bad program header table");
}

static void test_phentsize(void **state)
{
    good_image(0);
    put16(42, E32_PHSZ - 1);
    expect_reject(0x2000, RAM, "bad program header table");
    put16(42, 0);
    expect_reject(0x2000, RAM, "bad program header table");
    good_image(1);
    put16(54, E32_PHSZ); /* an ELF32 size in an ELF64 file */
    expect_reject(0x2000, RAM, "bad program header table");

    /* A larger stride is allowed: entries are read at phoff + i * phentsize. */
    for (int is64 = 0; is64 < 2; is64++) {
        ehdr(is64, 0x100000, 2);
        stride = 64;
        put16(is64 ? 54 : 42, 64);
        phdr(is64, 0, PT_LOAD, 0x1000, 0x100000, 0x100, 0x100);
        phdr(is64, 1, PT_LOAD, 0x1100, 0x200000, 0x100, 0x100);
        assert_int_equal(parse(0x2000, RAM), 0);
        assert_int_equal(out.nr_segments, 2);
        assert_int_equal(out.seg[1].paddr, 0x200000);
        assert_int_equal(out.seg[1].offset, 0x1100);
    }
}

static void test_segment_outside_file(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        good_image(is64);
        /* offset + filesz one byte past the end. */
        phdr(is64, 1, PT_LOAD, 0x1800, 0x101000, 0x801, 0x3000);
        expect_reject(0x2000, RAM, "segment 1 lies outside the file");
        /* offset past the end. */
        good_image(is64);
        phdr(is64, 0, PT_LOAD, 0x2001, 0x100000, 0, 0x800);
        expect_reject(0x2000, RAM, "segment 0 lies outside the file");
        /* filesz > memsz */
        good_image(is64);
        phdr(is64, 0, PT_LOAD, 0x1000, 0x100000, 0x801, 0x800);
        expect_reject(0x2000, RAM, "segment 0 lies outside the file");
    }
    /* offset + filesz wrapping around 2^64. */
    good_image(1);
    phdr(1, 0, PT_LOAD, 0x1000, 0x100000, 0xfffffffffffff000ULL, 0xfffffffffffff000ULL);
    expect_reject(0x2000, RAM, "outside the file");
}

static void test_segment_beyond_ram(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        good_image(is64);
        phdr(is64, 1, PT_LOAD, 0x1800, RAM - 0x1000, 0x200, 0x1001);
        expect_reject(0x2000, RAM, "does not fit in the VM's 16 MiB");
        good_image(is64);
        phdr(is64, 1, PT_LOAD, 0x1800, RAM, 0x200, 0x200);
        expect_reject(0x2000, RAM, "does not fit");
        /* The same image fits a bigger VM. */
        assert_int_equal(parse(0x2000, 2 * RAM), 0);
    }
    /* 32-bit paddr near 4 GiB in a small VM. */
    good_image(0);
    phdr(0, 1, PT_LOAD, 0x1800, 0xfffff000u, 0x200, 0x1000);
    expect_reject(0x2000, RAM, "does not fit");
}

static void test_paddr_wrap(void **state)
{
    /* paddr + memsz wraps to a small number that would pass a naive check. */
    good_image(1);
    phdr(1, 1, PT_LOAD, 0x1800, 0xfffffffffffff000ULL, 0x200, 0x2000);
    expect_reject(0x2000, RAM, "does not fit");
    good_image(1);
    phdr(1, 1, PT_LOAD, 0x1800, 0x200000, 0x200, 0xffffffffffe00000ULL);
    expect_reject(0x2000, UINT64_MAX, "does not fit");
    /* ELF32 fields are 32 bits: the sum is done in 64 bits and cannot wrap,
     * but still exceeds RAM. */
    good_image(0);
    phdr(0, 1, PT_LOAD, 0x1800, 0xfffff000u, 0x200, 0x2000);
    expect_reject(0x2000, RAM, "does not fit");
}

static void test_legacy_hole(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        good_image(is64);
        phdr(is64, 1, PT_LOAD, 0x1800, 0xa0000, 0x200, 0x200);
        expect_reject(0x2000, RAM, "legacy hole");
        good_image(is64);
        phdr(is64, 1, PT_LOAD, 0x1800, 0xfffff, 0x1, 0x1);
        expect_reject(0x2000, RAM, "legacy hole");
        /* Ends one byte into the hole. */
        good_image(is64);
        phdr(is64, 1, PT_LOAD, 0x1800, 0x9f000, 0x200, 0x1001);
        expect_reject(0x2000, RAM, "legacy hole");
        /* Spans the whole hole. */
        good_image(is64);
        phdr(is64, 1, PT_LOAD, 0x1800, 0x90000, 0x200, 0x80000);
        expect_reject(0x2000, RAM, "legacy hole");
        /* Touching it from either side is fine. */
        ehdr(is64, 0x9ffff, 2);
        phdr(is64, 0, PT_LOAD, 0x1000, 0x9f000, 0x200, 0x1000);
        phdr(is64, 1, PT_LOAD, 0x1800, 0x100000, 0x200, 0x200);
        assert_int_equal(parse(0x2000, RAM), 0);
    }
}

static void test_entry(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        good_image(is64);
        if (is64)
            put64(24, 0x104000); /* just past the bss */
        else
            put32(24, 0x104000);
        expect_reject(0x2000, RAM, "entry point 0x104000");
        /* In the gap between the segments. */
        good_image(is64);
        if (is64)
            put64(24, 0x100800);
        else
            put32(24, 0x100800);
        expect_reject(0x2000, RAM, "not inside a loaded segment");
        /* In bss is allowed (memsz, not filesz, bounds the segment). */
        good_image(is64);
        if (is64)
            put64(24, 0x103fff);
        else
            put32(24, 0x103fff);
        assert_int_equal(parse(0x2000, RAM), 0);
        assert_int_equal(out.entry, 0x103fff);
        /* Inside a non-LOAD segment does not count. */
        ehdr(is64, 0x200000, 2);
        phdr(is64, 0, PT_LOAD, 0x1000, 0x100000, 0x100, 0x100);
        phdr(is64, 1, PT_NOTE, 0x1100, 0x200000, 0x100, 0x100);
        expect_reject(0x2000, RAM, "entry point");
    }
    /* The entry is a virtual address in many kernels: we take it as physical. */
    good_image(1);
    put64(24, 0xffffffff80100010ULL);
    expect_reject(0x2000, RAM, "entry point");
}

static void test_max_segments(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        unsigned n = ELF_MAX_SEGMENTS;
        ehdr(is64, 0x100000, n);
        for (unsigned i = 0; i < n; i++)
            phdr(is64, i, PT_LOAD, 0x1000 + i * 0x10, 0x100000 + i * 0x1000, 0x10, 0x1000);
        assert_int_equal(parse(0x2000, RAM), 0);
        assert_int_equal(out.nr_segments, ELF_MAX_SEGMENTS);
        assert_int_equal(out.seg[15].paddr, 0x10f000);

        ehdr(is64, 0x100000, n + 1);
        for (unsigned i = 0; i <= n; i++)
            phdr(is64, i, PT_LOAD, 0x1000 + i * 0x10, 0x100000 + i * 0x1000, 0x10, 0x1000);
        expect_reject(0x2000, RAM, "more than 16 loadable segments");

        /* Non-LOAD and empty LOAD segments do not count toward the limit. */
        ehdr(is64, 0x100000, n + 3);
        for (unsigned i = 0; i < n; i++)
            phdr(is64, i, PT_LOAD, 0x1000 + i * 0x10, 0x100000 + i * 0x1000, 0x10, 0x1000);
        phdr(is64, n, PT_NOTE, 0x1000, 0x500000, 0x10, 0x10);
        phdr(is64, n + 1, PT_GNU_STACK, 0, 0, 0, 0);
        phdr(is64, n + 2, PT_LOAD, 0, 0x600000, 0, 0);
        assert_int_equal(parse(0x2000, RAM), 0);
        assert_int_equal(out.nr_segments, ELF_MAX_SEGMENTS);
    }
}

static void test_non_load_ignored(void **state)
{
    for (int is64 = 0; is64 < 2; is64++) {
        /* Non-LOAD segments with insane fields are not checked at all. */
        ehdr(is64, 0x100000, 4);
        phdr(is64, 0, PT_NOTE, 0xfffffff0, 0xa0000, 0xffffff, 0x10);
        phdr(is64, 1, PT_LOAD, 0x1000, 0x100000, 0x100, 0x100);
        phdr(is64, 2, PT_GNU_STACK, 0, 0, 0, 0);
        phdr(is64, 3, 6 /* PT_PHDR */, 0x40, 0xff000000, 0x100, 0x100);
        assert_int_equal(parse(0x2000, RAM), 0);
        assert_int_equal(out.nr_segments, 1);
        assert_int_equal(out.seg[0].paddr, 0x100000);
        /* Only non-LOAD segments: nothing to load. */
        ehdr(is64, 0x100000, 1);
        phdr(is64, 0, PT_NOTE, 0x1000, 0x100000, 0x100, 0x100);
        expect_reject(0x2000, RAM, "no loadable segments");
        /* A LOAD with memsz 0 is skipped, even with bad fields. */
        ehdr(is64, 0x100000, 2);
        phdr(is64, 0, PT_LOAD, 0xffffff00, 0xa0000, 0x10, 0);
        phdr(is64, 1, PT_LOAD, 0x1000, 0x100000, 0x100, 0x100);
        assert_int_equal(parse(0x2000, RAM), 0);
        assert_int_equal(out.nr_segments, 1);
    }
}

static void test_out_cleared_on_error(void **state)
{
    good_image(0);
    assert_int_equal(parse(0x2000, RAM), 0);
    img[0] = 0;
    assert_int_equal(parse(0x2000, RAM), -1);
    assert_int_equal(out.nr_segments, 0);
    assert_int_equal(out.entry, 0);
}

/* Fuzz-ish: random corruption of a good image must never crash or accept a
 * segment outside the file or RAM (ASan catches out-of-bounds reads). */
static void test_random_corruption(void **state)
{
    srand(12345);
    for (int iter = 0; iter < 20000; iter++) {
        int is64 = iter & 1;
        good_image(is64);
        int flips = 1 + rand() % 8;
        for (int k = 0; k < flips; k++)
            img[rand() % 0x200] = (uint8_t)rand();
        uint64_t size = 0x40 + (uint64_t)(rand() % (0x2000 - 0x40));
        uint8_t *copy = malloc(size);
        assert_non_null(copy);
        memcpy(copy, img, size);
        if (elf_parse(copy, size, RAM, &out, err, sizeof(err)) == 0) {
            assert_true(out.nr_segments >= 1 && out.nr_segments <= ELF_MAX_SEGMENTS);
            int entry_ok = 0;
            for (unsigned i = 0; i < out.nr_segments; i++) {
                const struct elf_segment *s = &out.seg[i];
                assert_true(s->filesz <= s->memsz);
                assert_true(s->offset + s->filesz <= size);
                assert_true(s->paddr + s->memsz <= RAM);
                assert_true(s->paddr + s->memsz <= 0xa0000 || s->paddr >= 0x100000);
                if (out.entry >= s->paddr && out.entry < s->paddr + s->memsz)
                    entry_ok = 1;
            }
            assert_true(entry_ok);
        } else {
            assert_true(err[0] != '\0');
        }
        free(copy);
    }
}

/* The real test guests, when `make guests` has run. */
static void test_real_guests(void **state)
{
    static const char *const names[] = {"hello", "spin", "hostile", "cpuid-bench", "echo"};
    unsigned found = 0;
    for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char path[128];
        snprintf(path, sizeof(path), "build/guests/%s.elf", names[k]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        assert_true(len > 0);
        uint8_t *buf = malloc((size_t)len);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        found++;

        if (elf_parse(buf, (uint64_t)len, RAM, &out, err, sizeof(err)))
            fail_msg("%s: %s", path, err);
        assert_true(out.nr_segments >= 1);
        assert_true(out.entry >= 0x100000 && out.entry < RAM);
        /* Truncating the file below its last segment's data is caught. */
        uint64_t end = 0;
        for (unsigned i = 0; i < out.nr_segments; i++)
            if (out.seg[i].filesz && out.seg[i].offset + out.seg[i].filesz > end)
                end = out.seg[i].offset + out.seg[i].filesz;
        if (end > 64) {
            uint8_t *t = malloc(end - 1);
            assert_non_null(t);
            memcpy(t, buf, end - 1);
            assert_int_equal(elf_parse(t, end - 1, RAM, &out, err, sizeof(err)), -1);
            free(t);
        }
        /* A VM too small for the image is refused. */
        assert_int_equal(elf_parse(buf, (uint64_t)len, 0x100000, &out, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "does not fit"));
        free(buf);
    }
    if (!found)
        print_message("no build/guests/*.elf: run `make guests` to test the real images\n");
    else
        print_message("checked %u real guest images\n", found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good32),
        cmocka_unit_test(test_good64),
        cmocka_unit_test(test_segment_exactly_fits),
        cmocka_unit_test(test_not_elf),
        cmocka_unit_test(test_bad_class),
        cmocka_unit_test(test_truncated_elf64_header),
        cmocka_unit_test(test_wrong_type_machine),
        cmocka_unit_test(test_phdrs_past_end),
        cmocka_unit_test(test_phentsize),
        cmocka_unit_test(test_segment_outside_file),
        cmocka_unit_test(test_segment_beyond_ram),
        cmocka_unit_test(test_paddr_wrap),
        cmocka_unit_test(test_legacy_hole),
        cmocka_unit_test(test_entry),
        cmocka_unit_test(test_max_segments),
        cmocka_unit_test(test_non_load_ignored),
        cmocka_unit_test(test_out_cleared_on_error),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_real_guests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
