/* attack=icebp: ICEBP (INT1, opcode F1) at ring 0 and ring 3. It is a
 * privileged software exception: #DB through the IDT with the saved EIP
 * after the instruction and no gate DPL check. A hypervisor intercepting
 * #DB must deliver it as such; re-injecting it as a hardware exception
 * points EIP back at the ICEBP, and the guest loops on it forever. */
#include "tests/guests/lib/guest.h"

#include "tests/guests/hostile/attacks.h"

extern const char icebp_after0[], icebp_after3[];
void icebp_user(void);

__asm__(".text\n"
        ".globl icebp_user, icebp_after3\n"
        "icebp_user:\n"
        "    .byte 0xf1\n"
        "icebp_after3:\n"
        "    int $0x80\n"
        "1:  jmp 1b\n");

static uint8_t g_icebp_stack[4096] __attribute__((aligned(16)));
static volatile int g_db_count;
static volatile uint32_t g_db_eip, g_db_cs;

static void db_handler(struct trap_frame *f)
{
    g_db_count++;
    g_db_eip = f->eip;
    g_db_cs = f->cs;
    if (g_db_count > 4) {
        printf("hostile: BREACH icebp: #DB %d times at eip 0x%x: the guest loops on ICEBP\n",
               g_db_count, f->eip);
        guest_exit(1);
    }
}

static void report(const char *where, int count, const char *after, unsigned cpl)
{
    bool ok = g_db_count == count && g_db_eip == (uint32_t)(uintptr_t)after && (g_db_cs & 3) == cpl;
    printf("hostile: icebp %s -> #DB %d, eip 0x%x (next instruction 0x%x), cs 0x%x\n", where,
           g_db_count, g_db_eip, (uint32_t)(uintptr_t)after, g_db_cs);
    if (!ok)
        printf("hostile: BREACH icebp: %s not delivered once past the instruction\n", where);
}

static void back_in_ring0(struct trap_frame *f)
{
    (void)f;
    set_trap_handler(VEC_SYSCALL, NULL);
    report("cpl3", 2, icebp_after3, 3);
    attack_survived();
}

void attack_icebp(void)
{
    desc_init();
    set_trap_handler(VEC_DB, db_handler);
    __asm__ volatile(".byte 0xf1\n"
                     ".globl icebp_after0\n"
                     "icebp_after0:" ::
                         : "memory");
    report("cpl0", 1, icebp_after0, 0);
    set_trap_handler(VEC_SYSCALL, back_in_ring0);
    enter_ring3(icebp_user, g_icebp_stack + sizeof(g_icebp_stack), 0x2);
}
