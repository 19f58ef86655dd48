/* hello: the smallest useful guest. Prints its name and the hypercall
 * version, then stops itself with exit code 0. */
#include "tests/guests/lib/guest.h"

void guest_main(uint32_t magic, uint32_t mbi)
{
    char name[64] = "hello";

    (void)mbi;
    if (magic != MB2_BOOT_MAGIC)
        printf("hello: warning: boot magic 0x%x, not multiboot2\n", magic);
    cmdline_get("name", name, sizeof(name));
    printf("hello from %s\n", name);

    int32_t v = hc_version();
    printf("hypercall version %u.%u\n", (uint32_t)v >> 16, (uint32_t)v & 0xffff);

    hc_stop_self(0);
    printf("stop-self failed\n");
    halt_forever();
}
