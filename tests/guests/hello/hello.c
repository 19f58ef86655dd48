/* hello: the smallest useful guest. Prints its name and the hypercall
 * version, then stops itself with exit code 0. With `ioport=0xNN` it first
 * writes 0x5a to that port and prints what reads back (passthrough tests:
 * a passed-through port reaches the device, any other one reads 0xff). */
#include "tests/guests/lib/guest.h"

void guest_main(uint32_t magic, uint32_t mbi)
{
    char name[64] = "hello";

    (void)mbi;
    if (magic != MB2_BOOT_MAGIC)
        printf("hello: warning: boot magic 0x%x, not multiboot2\n", magic);
    cmdline_get("name", name, sizeof(name));
    printf("hello from %s\n", name);

    uint32_t io = cmdline_get_u32("ioport", 0);
    if (io && io <= 0xffff) {
        outb((uint16_t)io, 0x5a);
        printf("ioport 0x%x: wrote 0x5a, read 0x%x\n", io, inb((uint16_t)io));
    }

    int32_t v = hc_version();
    printf("hypercall version %u.%u\n", (uint32_t)v >> 16, (uint32_t)v & 0xffff);

    hc_stop_self(0);
    printf("stop-self failed\n");
    halt_forever();
}
