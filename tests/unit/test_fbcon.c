/* Framebuffer console drawing core: glyphs land where and how the font
 * says, in every pixel format; scrolling, control characters and the line
 * editor's escape sequences; modes it cannot draw are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/fbcon.h"
#include "drivers/fbcon_font.h"

#define W 64 /* 8 columns */
#define H 48 /* 3 rows */

static uint32_t fb32[H][W];
static char text[64];
static struct fbcon con;
static char err[128];

static const struct fb_info xrgb = {0x1000, W * 4, W, H, 32, 16, 8, 8, 8, 0, 8};

static void setup32(void)
{
    memset(fb32, 0x55, sizeof(fb32));
    assert_int_equal(fbcon_setup(&con, &xrgb, fb32, text, sizeof(text), err, sizeof(err)), 0);
}

/* The cell at (col, row) shows `ch` exactly as the font draws it. */
static void assert_cell(unsigned col, unsigned row, char ch)
{
    const uint8_t *g = fbcon_font[(unsigned char)ch - FBCON_FONT_FIRST];
    for (unsigned y = 0; y < FBCON_FONT_H; y++)
        for (unsigned x = 0; x < FBCON_FONT_W; x++) {
            uint32_t px = fb32[row * FBCON_FONT_H + y][col * FBCON_FONT_W + x];
            uint32_t want = g[y] & (0x80 >> x) ? 0xc0c0c0 : 0;
            if (px != want)
                fail_msg("cell %u,%u ('%c') pixel %u,%u: 0x%x, expected 0x%x", col, row, ch, x, y,
                         px, want);
        }
}

static void test_setup_clears_and_sizes(void **state)
{
    (void)state;
    setup32();
    assert_int_equal(con.cols, 8);
    assert_int_equal(con.rows, 3);
    for (unsigned y = 0; y < H; y++)
        for (unsigned x = 0; x < W; x++)
            assert_int_equal(fb32[y][x], 0);
}

static void test_text_and_newline(void **state)
{
    (void)state;
    setup32();
    fbcon_put(&con, "Hi!\nok", 6);
    assert_cell(0, 0, 'H');
    assert_cell(1, 0, 'i');
    assert_cell(2, 0, '!');
    assert_cell(0, 1, 'o');
    assert_cell(1, 1, 'k');
    assert_cell(2, 1, ' ');
    /* A glyph really has ink: 'H' is not blank. */
    int ink = 0;
    for (unsigned y = 0; y < FBCON_FONT_H; y++)
        ink |= fbcon_font['H' - FBCON_FONT_FIRST][y];
    assert_true(ink);
}

static void test_wrap_and_scroll(void **state)
{
    (void)state;
    setup32();
    fbcon_put(&con, "abcdefghij\n", 11); /* 8 columns: "ij" wraps to row 1 */
    assert_cell(7, 0, 'h');
    assert_cell(0, 1, 'i');
    fbcon_put(&con, "row3\nrow4", 9); /* row 3 of 3 is full: scroll by one row */
    assert_true(con.scrolls >= 1);
    assert_cell(0, 0, 'i');
    assert_cell(0, 1, 'r');
    assert_cell(3, 1, '3');
    assert_cell(3, 2, '4');
    assert_int_equal(con.y, 2);
}

static void test_control_and_escapes(void **state)
{
    (void)state;
    setup32();
    fbcon_put(&con, "abcdef\rX", 8);
    assert_cell(0, 0, 'X');
    assert_cell(1, 0, 'b');
    fbcon_put(&con, "\b\bY", 3); /* back to column 0 at most */
    assert_cell(0, 0, 'Y');
    fbcon_put(&con,
              "\x1b[2C"
              "Z",
              5);
    assert_cell(3, 0, 'Z');
    fbcon_put(&con, "\x1b[3D\x1b[K", 7); /* erase from column 1 */
    assert_cell(0, 0, 'Y');
    for (unsigned c = 1; c < 8; c++)
        assert_cell(c, 0, ' ');
    fbcon_put(&con, "\x1b[?25lq\x01\x7f", 8); /* unknown sequence and controls skipped */
    assert_cell(1, 0, 'q');
    fbcon_put(&con, "\t|", 2);
    assert_cell(7, 0, ' ');
    assert_cell(0, 1, '|');
}

static void test_other_pixel_formats(void **state)
{
    (void)state;
    static uint8_t fb[H][W * 3];
    const struct fb_info bgr24 = {0x1000, W * 3, W, H, 24, 0, 8, 8, 8, 16, 8};
    assert_int_equal(fbcon_setup(&con, &bgr24, fb, text, sizeof(text), err, sizeof(err)), 0);
    fbcon_put(&con, "|", 1);
    /* '|' has ink in the middle of the cell on row 8. */
    const uint8_t *g = fbcon_font['|' - FBCON_FONT_FIRST];
    for (unsigned x = 0; x < 8; x++) {
        uint8_t want = g[8] & (0x80 >> x) ? 0xc0 : 0;
        assert_int_equal(fb[8][x * 3], want);
        assert_int_equal(fb[8][x * 3 + 2], want);
    }
    const struct fb_info rgb565 = {0x1000, W * 2, W, H, 16, 11, 5, 5, 6, 0, 5};
    assert_int_equal(fbcon_pixel(&rgb565, 0xff, 0xff, 0xff), 0xffff);
    assert_int_equal(fbcon_pixel(&rgb565, 0xff, 0, 0), 0xf800);
    assert_int_equal(fbcon_pixel(&xrgb, 0x12, 0x34, 0x56), 0x123456);
}

static void test_refuses_what_it_cannot_draw(void **state)
{
    (void)state;
    struct fb_info bad = xrgb;
    bad.bpp = 8;
    assert_int_equal(fbcon_setup(&con, &bad, fb32, text, sizeof(text), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bits per pixel"));
    bad = xrgb;
    bad.pitch = W; /* below width * 4 */
    assert_int_equal(fbcon_setup(&con, &bad, fb32, text, sizeof(text), err, sizeof(err)), -1);
    bad = xrgb;
    bad.red_pos = 30; /* channel past the pixel */
    assert_int_equal(fbcon_setup(&con, &bad, fb32, text, sizeof(text), err, sizeof(err)), -1);
    bad = xrgb;
    bad.height = 8; /* less than one text row */
    assert_int_equal(fbcon_setup(&con, &bad, fb32, text, sizeof(text), err, sizeof(err)), -1);
    /* Before a successful setup nothing is drawn. */
    fbcon_put(&con, "x", 1);
}

static void test_text_shadow_limits_the_screen(void **state)
{
    (void)state;
    char small[10];
    assert_int_equal(fbcon_setup(&con, &xrgb, fb32, small, sizeof(small), err, sizeof(err)), 0);
    assert_int_equal(con.cols, 8);
    assert_int_equal(con.rows, 1);
    fbcon_put(&con, "123456789\n\n\n", 12);
    assert_cell(0, 0, ' ');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_clears_and_sizes),
        cmocka_unit_test(test_text_and_newline),
        cmocka_unit_test(test_wrap_and_scroll),
        cmocka_unit_test(test_control_and_escapes),
        cmocka_unit_test(test_other_pixel_formats),
        cmocka_unit_test(test_refuses_what_it_cannot_draw),
        cmocka_unit_test(test_text_shadow_limits_the_screen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
