/* echo: reads bytes from the vUART and writes them back, for console
 * input tests. CR is echoed as CR LF so a terminal shows new lines. */
#include "tests/guests/lib/guest.h"

#define COM1   0x3f8
#define LSR    (COM1 + 5)
#define LSR_DR 0x01

void guest_main(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    (void)mbi;
    bool yield = cmdline_get_u32("yield", 1) != 0;

    printf("echo ready\n");
    for (;;) {
        if (!(inb(LSR) & LSR_DR)) {
            /* Idle: give the CPU back rather than spin on LSR exits. */
            if (yield)
                hc_yield();
            else
                cpu_relax();
            continue;
        }
        char c = (char)inb(COM1);
        serial_putc(c);
        if (c == '\r')
            serial_putc('\n');
    }
}
