/* The framebuffer console's drawing core (see fbcon.h). Pure: the host
 * unit tests draw into memory and read the pixels back. */
#include "drivers/fbcon.h"

#include "drivers/fbcon_font.h"
#include "lib/format.h"
#include "lib/string.h"

#define ESC 0x1b

uint32_t fbcon_pixel(const struct fb_info *fb, uint8_t r, uint8_t g, uint8_t b)
{
    return ((uint32_t)(r >> (8 - fb->red_size)) << fb->red_pos) |
           ((uint32_t)(g >> (8 - fb->green_size)) << fb->green_pos) |
           ((uint32_t)(b >> (8 - fb->blue_size)) << fb->blue_pos);
}

static int bad_channel(uint8_t pos, uint8_t size, uint8_t bpp)
{
    return size == 0 || size > 8 || pos + size > bpp;
}

int fbcon_setup(struct fbcon *c, const struct fb_info *fb, void *fbmem, char *text,
                size_t text_size, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32) {
        fmt_snprintf(err, errlen, "%u bits per pixel (16, 24 or 32 are drawn)", fb->bpp);
        return -1;
    }
    if (fb->width < FBCON_FONT_W || fb->height < FBCON_FONT_H || fb->width > 16384 ||
        fb->height > 16384 || fb->pitch < (uint64_t)fb->width * (fb->bpp / 8)) {
        fmt_snprintf(err, errlen, "%ux%u with pitch %u is not a usable mode", fb->width, fb->height,
                     fb->pitch);
        return -1;
    }
    if (bad_channel(fb->red_pos, fb->red_size, fb->bpp) ||
        bad_channel(fb->green_pos, fb->green_size, fb->bpp) ||
        bad_channel(fb->blue_pos, fb->blue_size, fb->bpp)) {
        fmt_snprintf(err, errlen, "colour channels outside a %u-bit pixel", fb->bpp);
        return -1;
    }
    c->fb = fbmem;
    c->info = *fb;
    c->cols = fb->width / FBCON_FONT_W;
    c->rows = fb->height / FBCON_FONT_H;
    if (c->cols > text_size)
        c->cols = (unsigned)text_size;
    if ((size_t)c->cols * c->rows > text_size)
        c->rows = (unsigned)(text_size / c->cols);
    if (!c->rows) {
        fmt_snprintf(err, errlen, "no room for the character shadow");
        return -1;
    }
    c->text = text;
    c->fg = fbcon_pixel(fb, 0xc0, 0xc0, 0xc0);
    c->bg = fbcon_pixel(fb, 0, 0, 0);
    memset(text, ' ', (size_t)c->cols * c->rows);
    for (uint32_t y = 0; y < fb->height; y++)
        for (uint32_t x = 0; x < fb->width; x++) {
            uint8_t *p = c->fb + (uint64_t)y * fb->pitch + (uint64_t)x * (fb->bpp / 8);
            memset(p, 0, fb->bpp / 8);
        }
    return 0;
}

static void put_pixel(struct fbcon *c, uint8_t *p, uint32_t v)
{
    switch (c->info.bpp) {
    case 32:
        *(volatile uint32_t *)p = v;
        break;
    case 24:
        p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
        break;
    default:
        *(volatile uint16_t *)p = (uint16_t)v;
    }
}

static void draw_cell(struct fbcon *c, unsigned col, unsigned row)
{
    unsigned char ch = (unsigned char)c->text[(size_t)row * c->cols + col];
    if (ch < FBCON_FONT_FIRST || ch > FBCON_FONT_LAST)
        ch = '?';
    const uint8_t *glyph = fbcon_font[ch - FBCON_FONT_FIRST];
    unsigned bytes = c->info.bpp / 8;
    uint8_t *base =
        c->fb + (uint64_t)row * FBCON_FONT_H * c->info.pitch + (uint64_t)col * FBCON_FONT_W * bytes;
    for (unsigned y = 0; y < FBCON_FONT_H; y++) {
        uint8_t *p = base + (uint64_t)y * c->info.pitch;
        for (unsigned x = 0; x < FBCON_FONT_W; x++, p += bytes)
            put_pixel(c, p, glyph[y] & (0x80 >> x) ? c->fg : c->bg);
    }
}

static void set_cell(struct fbcon *c, unsigned col, unsigned row, char ch)
{
    char *t = &c->text[(size_t)row * c->cols + col];
    if (*t == ch)
        return;
    *t = ch;
    draw_cell(c, col, row);
}

/* Moves the text up by a quarter of the screen (at least one row) and
 * redraws only the cells whose character changed. */
static void scroll(struct fbcon *c)
{
    unsigned by = c->rows / 4 ? c->rows / 4 : 1;
    for (unsigned row = 0; row < c->rows; row++)
        for (unsigned col = 0; col < c->cols; col++) {
            char ch = row + by < c->rows ? c->text[(size_t)(row + by) * c->cols + col] : ' ';
            set_cell(c, col, row, ch);
        }
    c->y -= by;
    c->scrolls++;
}

static void newline(struct fbcon *c)
{
    c->x = 0;
    if (++c->y >= c->rows)
        scroll(c);
}

static void csi(struct fbcon *c, char final)
{
    unsigned n = c->esc_arg ? c->esc_arg : 1;
    switch (final) {
    case 'C':
        c->x = c->x + n < c->cols ? c->x + n : c->cols - 1;
        break;
    case 'D':
        c->x = c->x > n ? c->x - n : 0;
        break;
    case 'K':
        if (!c->esc_arg)
            for (unsigned col = c->x; col < c->cols; col++)
                set_cell(c, col, c->y, ' ');
        break;
    }
}

void fbcon_put(struct fbcon *c, const char *s, size_t n)
{
    if (!c->text)
        return;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (c->esc == 1) {
            c->esc = ch == '[' ? 2 : 0;
            c->esc_arg = 0;
            continue;
        }
        if (c->esc == 2) {
            if (ch >= '0' && ch <= '9') {
                if (c->esc_arg < 10000)
                    c->esc_arg = c->esc_arg * 10 + (unsigned)(ch - '0');
            } else if (ch >= 0x40 && ch <= 0x7e) {
                csi(c, ch);
                c->esc = 0;
            }
            continue;
        }
        switch (ch) {
        case ESC:
            c->esc = 1;
            break;
        case '\n':
            newline(c);
            break;
        case '\r':
            c->x = 0;
            break;
        case '\b':
            if (c->x)
                c->x--;
            break;
        case '\t':
            do
                set_cell(c, c->x++, c->y, ' ');
            while (c->x % 8 && c->x < c->cols);
            if (c->x >= c->cols)
                newline(c);
            break;
        default:
            if ((unsigned char)ch < 0x20)
                break;
            set_cell(c, c->x, c->y, ch);
            if (++c->x >= c->cols)
                newline(c);
        }
    }
}
