/* attack=reset-loop: the VM resets itself at once on every boot, by
 * `how=cf9` (RST_CPU through the reset control register, the default),
 * `how=92` (fast reset through port 0x92) or `how=triple` (a fault with an
 * empty IDT). A VM doing that forever must cost only itself: each reset
 * counts toward the restart back-off, the console stays responsive and the
 * other VMs keep running. The ports exist only in a VM with the PC platform
 * (`platform=pc`); without it the writes hit absent hardware and the guest
 * reports that it was not reset. */
#include "tests/guests/lib/guest.h"

#include "tests/guests/hostile/attacks.h"

void attack_reset_loop(void)
{
    char how[8] = "cf9";
    cmdline_get("how", how, sizeof(how));
    printf("hostile: reset-loop via %s\n", how);
    if (strcmp(how, "92") == 0) {
        outb(0x92, inb(0x92) | 1);
    } else if (strcmp(how, "triple") == 0) {
        load_empty_idt();
        __asm__ volatile("ud2");
    } else {
        outb(0xcf9, 0x06); /* SYS_RST | RST_CPU: hard reset */
    }
    /* Port writes take effect at once: still here means no reset. */
    for (volatile int i = 0; i < 1000; i++)
        cpu_relax();
    printf("hostile: reset-loop: %s did not reset the VM\n", how);
}
