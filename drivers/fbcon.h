/* A text console on a linear framebuffer (the multiboot2 framebuffer tag,
 * from GRUB or bulkhead.efi): 8x16 glyphs, light grey on black, a shadow
 * of the characters so that scrolling never reads video memory, and jump
 * scrolling (a quarter screen at a time) so a fast log costs few redraws.
 * Understands \n, \r, \b, \t and the few ANSI sequences the line editor
 * sends (ESC [ n C, ESC [ n D, ESC [ K); other sequences are skipped.
 * The drawing core is pure and host-tested; fbcon_boot_init() is the
 * kernel glue. */
#ifndef DRIVERS_FBCON_H
#define DRIVERS_FBCON_H

#include <stddef.h>
#include <stdint.h>

struct fb_info {
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp; /* 16, 24 or 32 */
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct fbcon {
    uint8_t *fb;
    struct fb_info info;
    unsigned cols, rows, x, y;
    uint32_t fg, bg; /* encoded pixels */
    char *text;      /* cols * rows characters on screen */
    unsigned esc;    /* 0, 1 after ESC, 2 inside ESC [ */
    unsigned esc_arg;
    unsigned long long scrolls;
};

/* Checks fb (rejects what cannot be drawn, with a reason), clears the
 * screen. fbmem is the framebuffer as mapped; text holds text_size bytes
 * for the character shadow (the screen is cut to fit). */
int fbcon_setup(struct fbcon *c, const struct fb_info *fb, void *fbmem, char *text,
                size_t text_size, char *err, size_t errlen);
void fbcon_put(struct fbcon *c, const char *s, size_t n);
/* Encodes an 8-bit-per-channel colour for fb's pixel format. */
uint32_t fbcon_pixel(const struct fb_info *fb, uint8_t r, uint8_t g, uint8_t b);

/* Kernel: maps the framebuffer and starts the console on it; afterwards
 * fbcon_write() draws (a no-op before, or when it failed). */
int fbcon_boot_init(const struct fb_info *fb, char *err, size_t errlen);
void fbcon_write(const char *s, size_t n);
int fbcon_active(void);

#endif
