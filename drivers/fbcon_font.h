/* The framebuffer console's 8x16 font: ASCII 0x20-0x7e, generated at build
 * time by scripts/psffont.py from a PSF font of Debian's console-setup-linux
 * package (build/gen/fbcon_font.c), so no font data lives in the tree. Rows are
 * one byte each, bit 7 the leftmost pixel. */
#ifndef DRIVERS_FBCON_FONT_H
#define DRIVERS_FBCON_FONT_H

#include <stdint.h>

#define FBCON_FONT_W     8
#define FBCON_FONT_H     16
#define FBCON_FONT_FIRST 0x20
#define FBCON_FONT_LAST  0x7e

extern const uint8_t fbcon_font[FBCON_FONT_LAST - FBCON_FONT_FIRST + 1][FBCON_FONT_H];

#endif
