/* cpl3-pf: the lib64 groundwork for page-permission attacks. The image is
 * made user-accessible, one page of it supervisor-only; ring 3 reads that
 * page and must get #PF with error code P|U (0x5) and CR2 at the page. */
#include "tests/guests/hostile64/hostile64.h"

extern char __image_start[], __image_end[];

static volatile uint64_t g_secret[512] __attribute__((aligned(4096)));
static uint8_t g_user_stack[4096] __attribute__((aligned(16)));

static void user_read(void)
{
    (void)g_secret[0];
    __asm__ volatile("int $0x80"); /* only if the read did not fault */
    for (;;)
        ;
}

static void on_pf(struct trap_frame64 *f)
{
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    printf("hostile: cpl3 read of a supervisor page -> #PF error 0x%llx cs 0x%llx cr2 %s\n",
           (unsigned long long)f->error, (unsigned long long)f->cs,
           cr2 == (uint64_t)(uintptr_t)g_secret ? "at the page" : "elsewhere");
    if (f->error != 5 || cr2 != (uint64_t)(uintptr_t)g_secret)
        breach("unexpected #PF error 0x%llx or cr2 0x%llx", (unsigned long long)f->error,
               (unsigned long long)cr2);
    printf("hostile: survived %s\n", g_attack);
    guest_exit(0);
}

static void on_gate(struct trap_frame64 *f)
{
    (void)f;
    breach("ring 3 read a supervisor-only page");
    guest_exit(1);
}

void attack_cpl3_pf(void)
{
    uint64_t start = (uint64_t)(uintptr_t)__image_start, end = (uint64_t)(uintptr_t)__image_end;
    if (!pt_set_flags(start, end - start, PTE_U, 0) ||
        !pt_set_flags((uint64_t)(uintptr_t)g_secret, sizeof(g_secret), 0, PTE_U)) {
        breach("pt_set_flags failed");
        return;
    }
    set_trap64_handler(VEC_PF, on_pf);
    set_trap64_handler(VEC_USER_GATE, on_gate);
    enter_user(user_read, g_user_stack + sizeof(g_user_stack), 0x2);
}
