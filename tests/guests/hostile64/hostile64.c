/* hostile64: one attack per run, chosen by attack=. Prints "hostile:
 * attack NAME", attacks, and, if it is still running, "hostile: survived
 * NAME" and stops itself with code 0. A line "hostile: BREACH NAME: ..."
 * means it saw something it must not. See docs/test-guests.md. */
#include "tests/guests/hostile64/hostile64.h"

const char *g_attack = "?";

void breach(const char *fmt, ...)
{
    va_list ap;
    printf("hostile: BREACH %s: ", g_attack);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static const struct {
    const char *name;
    void (*fn)(void);
} g_attacks[] = {
    {"fill", attack_fill},
    {"xmm-leak", attack_xmm_leak},
    {"xcr0-shrink", attack_xcr0_shrink},
    {"cr8", attack_cr8},
    {"vdev-race", attack_vdev_race},
    {"cpl3-pf", attack_cpl3_pf},
    {"pkru-leak", attack_pkru_leak},
    {"spec-ctrl", attack_spec_ctrl},
};

void guest_main(uint32_t magic, uint32_t mbi)
{
    static char name[32];
    (void)magic;
    (void)mbi;

    if (!cmdline_get("attack", name, sizeof(name)))
        name[0] = '\0';
    for (unsigned i = 0; i < sizeof(g_attacks) / sizeof(g_attacks[0]); i++) {
        if (strcmp(name, g_attacks[i].name) != 0)
            continue;
        g_attack = g_attacks[i].name;
        printf("hostile: attack %s\n", g_attack);
        g_attacks[i].fn();
        printf("hostile: survived %s\n", g_attack);
        guest_exit(0);
    }
    printf("hostile: unknown attack '%s'; one of:", name);
    for (unsigned i = 0; i < sizeof(g_attacks) / sizeof(g_attacks[0]); i++)
        printf(" %s", g_attacks[i].name);
    printf("\n");
    guest_exit(2);
}
