/* Kernel glue of the framebuffer console: maps the framebuffer and owns the
 * one console instance. Output comes from the console and log on any CPU,
 * and from the panic path: a bounded try-lock, never a wait that could
 * deadlock a CPU interrupted while drawing. */
#include "arch/x86_64/paging.h"
#include "drivers/fbcon.h"
#include "lib/spinlock.h"

#define TEXT_MAX   (64 * 1024) /* characters: 480x135 cells, a 4K screen */
#define LOCK_TRIES 1000000

static struct fbcon console;
static char text[TEXT_MAX];
static spinlock_t lock = SPINLOCK_INIT;
static int active;

int fbcon_boot_init(const struct fb_info *fb, char *err, size_t errlen)
{
    uint64_t size = (uint64_t)fb->pitch * fb->height;
    if (paging_map_mmio(fb->addr, size)) {
        if (errlen)
            err[0] = '\0';
        return -1;
    }
    if (fbcon_setup(&console, fb, (void *)(uintptr_t)fb->addr, text, sizeof(text), err, errlen))
        return -1;
    __atomic_store_n(&active, 1, __ATOMIC_RELEASE);
    return 0;
}

int fbcon_active(void)
{
    return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

void fbcon_write(const char *s, size_t n)
{
    if (!fbcon_active())
        return;
    for (long i = 0; i < LOCK_TRIES; i++) {
        if (spin_trylock(&lock)) {
            fbcon_put(&console, s, n);
            spin_unlock(&lock);
            return;
        }
        __builtin_ia32_pause();
    }
}
