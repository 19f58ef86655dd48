/* Shared by the pcitest files. */
#ifndef PCITEST_H
#define PCITEST_H

#include "tests/guests/lib/guest.h"

uint32_t cfg_read(unsigned dev, unsigned reg);
void cfg_write(unsigned dev, unsigned reg, uint32_t v);
void fail(const char *what);
/* iobar.c: the device's I/O BAR, direct and trapped. */
void pcitest_iobar(unsigned dev, uint32_t mmio_bar);

#endif
