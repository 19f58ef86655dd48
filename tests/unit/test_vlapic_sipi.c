/* INIT-SIPI and IPIs among the vLAPICs of one VM (SDM Vol. 3A 9.4,
 * 10.4.7.3, 10.6): four vLAPICs wired together the way vdev/virq.c wires
 * them (vlapic_ipi_selects + vlapic_ipi_receive for every vCPU but the
 * sender), driven through the xAPIC ICR (MMIO) and the x2APIC ICR (MSR
 * 0x830). Checks the wait-for-SIPI state machine: APs power up waiting,
 * INIT while running puts a vCPU back, a SIPI is latched only while
 * waiting and only the first counts, INIT and SIPI back to back start the
 * vCPU, an NMI while waiting is held and does not wake it; and the
 * destination shorthands and physical/logical destinations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vlapic.h"

#define NR     4
#define SVR    0xF0
#define LDR    0xD0
#define DFR    0xE0
#define ICRLO  0x300
#define ICRHI  0x310
#define IRR    0x200
#define ICR_X2 0x830u

static struct vlapic apic[NR];
static unsigned notified[NR];
static unsigned ctx_id[NR];

static uint64_t fake_now(void *ctx)
{
    return 1000;
}

/* virq_send_ipi's loop: every vCPU but the sender. */
static void send_ipi(void *ctx, uint32_t dest, bool logical, unsigned sh, unsigned mode,
                     uint8_t vector, bool level)
{
    unsigned from = *(unsigned *)ctx;
    for (unsigned i = 0; i < NR; i++) {
        if (i == from || !vlapic_ipi_selects(&apic[i], dest, logical, sh))
            continue;
        vlapic_ipi_receive(&apic[i], mode, vector, level);
        if (mode == VLAPIC_DM_LOWEST)
            break;
    }
}

static void notify(void *ctx)
{
    notified[*(unsigned *)ctx]++;
}

static int setup(void **state)
{
    memset(notified, 0, sizeof(notified));
    for (unsigned i = 0; i < NR; i++) {
        ctx_id[i] = i;
        struct vlapic_ops ops = {.ctx = &ctx_id[i],
                                 .now = fake_now,
                                 .tsc_khz = 1000000,
                                 .send_ipi = send_ipi,
                                 .notify = notify};
        vlapic_init(&apic[i], i, i == 0, &ops);
    }
    return 0;
}

static void wr(unsigned cpu, uint32_t off, uint32_t v)
{
    assert_true(vlapic_mmio_write(&apic[cpu], off, 4, v));
}

static uint32_t rd(unsigned cpu, uint32_t off)
{
    uint64_t v = 0;
    assert_true(vlapic_mmio_read(&apic[cpu], off, 4, &v));
    return (uint32_t)v;
}

/* xAPIC ICR: destination first, the low dword sends. */
static void icr(unsigned from, uint32_t dest, uint32_t lo)
{
    wr(from, ICRHI, dest << 24);
    wr(from, ICRLO, lo);
}

static enum vlapic_startup take(unsigned cpu, uint8_t *vec)
{
    return vlapic_take_startup(&apic[cpu], vec);
}

static void enable(unsigned cpu)
{
    wr(cpu, SVR, 0x1FF);
}

/* Starts every AP with one broadcast INIT and SIPI (vector 0x07). */
static void start_all(void)
{
    enable(0);
    wr(0, ICRLO, (3u << 18) | 0x4500);
    wr(0, ICRLO, (3u << 18) | 0x4607);
    for (unsigned i = 1; i < NR; i++) {
        uint8_t v = 0;
        assert_int_equal(take(i, &v), VLAPIC_STARTUP_SIPI);
        assert_int_equal(v, 0x07);
        enable(i);
    }
}

static void test_aps_power_up_waiting(void **state)
{
    uint8_t v = 0xEE;
    assert_int_equal(take(0, &v), VLAPIC_STARTUP_RUN);
    for (unsigned i = 1; i < NR; i++) {
        assert_true(vlapic_waiting_sipi(&apic[i]));
        assert_int_equal(take(i, &v), VLAPIC_STARTUP_WAIT);
        assert_false(vlapic_wakeup_pending(&apic[i]));
    }
    /* A SIPI alone starts a powered-up AP (no INIT needed first). */
    enable(0);
    icr(0, 2, 0x4610);
    assert_int_equal(take(2, &v), VLAPIC_STARTUP_SIPI);
    assert_int_equal(v, 0x10);
    assert_int_equal(take(2, &v), VLAPIC_STARTUP_RUN);
    assert_int_equal(take(1, &v), VLAPIC_STARTUP_WAIT);
}

static void test_init_sipi_back_to_back(void **state)
{
    uint8_t v = 0;
    enable(0);
    /* INIT then SIPI with no delay, before the AP looked: it starts. */
    icr(0, 1, 0x4500);
    assert_true(vlapic_waiting_sipi(&apic[1]));
    icr(0, 1, 0x4608);
    assert_true(vlapic_wakeup_pending(&apic[1]));
    assert_true(notified[1] >= 2);
    /* The second SIPI of INIT-SIPI-SIPI, still before the AP looked: ignored. */
    icr(0, 1, 0x4609);
    assert_int_equal(take(1, &v), VLAPIC_STARTUP_SIPI);
    assert_int_equal(v, 0x08);
    assert_false(vlapic_waiting_sipi(&apic[1]));
    /* ... and after it started: ignored too. */
    icr(0, 1, 0x460A);
    assert_int_equal(take(1, &v), VLAPIC_STARTUP_RUN);
    assert_false(vlapic_wakeup_pending(&apic[1]));
}

static void test_init_while_running(void **state)
{
    uint8_t v = 0;
    start_all();
    /* AP 3 runs with an interrupt pending; an INIT resets it to waiting. */
    icr(0, 3, 0x4041);
    assert_int_equal(vlapic_pending_vector(&apic[3]), 0x41);
    icr(0, 3, 0x4400); /* NMI */
    icr(0, 3, 0x4500); /* INIT */
    assert_true(vlapic_waiting_sipi(&apic[3]));
    assert_int_equal(vlapic_pending_vector(&apic[3]), -1);
    assert_false(vlapic_take_nmi(&apic[3])); /* INIT dropped it */
    assert_int_equal(rd(3, SVR), 0xFF);      /* APIC reset: software disabled */
    assert_int_equal(take(3, &v), VLAPIC_STARTUP_WAIT);
    /* Fixed interrupts to a waiting vCPU are dropped, nothing wakes it. */
    icr(0, 3, 0x4042);
    assert_false(vlapic_wakeup_pending(&apic[3]));
    /* INIT, SIPI, INIT before it looked: the last INIT wins, it waits. */
    icr(0, 3, 0x4620);
    icr(0, 3, 0x4500);
    assert_int_equal(take(3, &v), VLAPIC_STARTUP_WAIT);
    icr(0, 3, 0x4621);
    assert_int_equal(take(3, &v), VLAPIC_STARTUP_SIPI);
    assert_int_equal(v, 0x21);
    /* INIT level de-assert (level, not asserted) does nothing. */
    icr(0, 3, 0x8500);
    assert_int_equal(take(3, &v), VLAPIC_STARTUP_RUN);
}

static void test_init_to_the_bsp_resets_the_vm(void **state)
{
    uint8_t v = 0;
    start_all();
    assert_int_equal(take(0, &v), VLAPIC_STARTUP_RUN);
    /* AP 2 sends INIT to the BSP (ID 0): it does not wait for a SIPI, it
     * asks for the VM's reset, and wakes from HLT to do it. */
    unsigned before = notified[0];
    icr(2, 0, 0x4500);
    assert_true(notified[0] > before);
    assert_false(vlapic_waiting_sipi(&apic[0]));
    assert_true(vlapic_wakeup_pending(&apic[0]));
    assert_int_equal(rd(0, SVR), 0xFF); /* its APIC was reset all the same */
    assert_int_equal(take(0, &v), VLAPIC_STARTUP_RESET);
    /* A SIPI to it changes nothing: it stays reset-pending until the VM
     * restarts with a new vLAPIC. */
    icr(2, 0, 0x4608);
    assert_int_equal(take(0, &v), VLAPIC_STARTUP_RESET);
    /* The APs were not touched. */
    for (unsigned i = 1; i < NR; i++)
        assert_int_equal(take(i, &v), VLAPIC_STARTUP_RUN);
}

static void test_init_to_all_but_self_from_an_ap_resets_too(void **state)
{
    uint8_t v = 0;
    start_all();
    /* An AP broadcasts INIT to all but itself: the other APs wait for a
     * SIPI, the BSP resets the VM. */
    wr(3, ICRLO, (3u << 18) | 0x4500);
    assert_int_equal(take(0, &v), VLAPIC_STARTUP_RESET);
    for (unsigned i = 1; i < NR - 1; i++)
        assert_int_equal(take(i, &v), VLAPIC_STARTUP_WAIT);
    assert_int_equal(take(3, &v), VLAPIC_STARTUP_RUN);
}

static void test_nmi_while_waiting_is_held(void **state)
{
    uint8_t v = 0;
    enable(0);
    unsigned before = notified[1];
    icr(0, 1, 0x4400);                     /* NMI to an AP waiting for its SIPI */
    assert_int_equal(notified[1], before); /* no wake-up */
    assert_false(vlapic_wakeup_pending(&apic[1]));
    assert_int_equal(take(1, &v), VLAPIC_STARTUP_WAIT);
    /* Held, not lost: the vCPU takes it once the SIPI started it. */
    icr(0, 1, 0x4607);
    assert_true(vlapic_wakeup_pending(&apic[1]));
    assert_int_equal(take(1, &v), VLAPIC_STARTUP_SIPI);
    assert_true(vlapic_wakeup_pending(&apic[1]));
    assert_true(vlapic_take_nmi(&apic[1]));
}

static void test_shorthands(void **state)
{
    start_all();
    /* Self: only the sender. */
    wr(1, ICRLO, (1u << 18) | 0x50);
    assert_int_equal(vlapic_pending_vector(&apic[1]), 0x50);
    assert_int_equal(vlapic_pending_vector(&apic[0]) | vlapic_pending_vector(&apic[2]), -1);
    /* All including self. */
    wr(2, ICRLO, (2u << 18) | 0x60);
    for (unsigned i = 0; i < NR; i++)
        assert_int_equal(rd(i, IRR + 0x30) & 1, 1);
    /* All excluding self. */
    wr(3, ICRLO, (3u << 18) | 0x70);
    for (unsigned i = 0; i < NR; i++)
        assert_int_equal((rd(i, IRR + 0x30) >> 16) & 1, i != 3);
    /* All-but-self INIT, then SIPI: every AP but the sender restarts. */
    wr(0, ICRLO, (3u << 18) | 0x4500);
    assert_false(vlapic_waiting_sipi(&apic[0]));
    for (unsigned i = 1; i < NR; i++)
        assert_true(vlapic_waiting_sipi(&apic[i]));
}

static void test_physical_and_logical(void **state)
{
    start_all();
    /* Physical: exactly the ID; 0xFF is a broadcast. */
    icr(0, 2, 0x4051);
    assert_int_equal(vlapic_pending_vector(&apic[2]), 0x51);
    assert_int_equal(vlapic_pending_vector(&apic[1]) | vlapic_pending_vector(&apic[3]), -1);
    icr(0, 0xFF, 0x4052);
    for (unsigned i = 1; i < NR; i++)
        assert_int_equal((rd(i, IRR + 0x20) >> 18) & 1, 1);
    /* Logical flat: LDR bit i for CPU i; destination 0x0A = CPUs 1 and 3. */
    for (unsigned i = 0; i < NR; i++)
        wr(i, LDR, (1u << i) << 24);
    icr(0, 0x0A, 0x4853);
    for (unsigned i = 0; i < NR; i++)
        assert_int_equal((rd(i, IRR + 0x20) >> 19) & 1, i == 1 || i == 3);
    /* Logical cluster: cluster 1, members 0x3 = CPUs with LDR 0x11, 0x12. */
    for (unsigned i = 0; i < NR; i++) {
        wr(i, DFR, 0x0FFFFFFF);
        wr(i, LDR, (i < 2 ? 0x10u | (1u << i) : 0x20u | (1u << (i - 2))) << 24);
    }
    icr(3, 0x13, 0x4854);
    for (unsigned i = 0; i < NR; i++)
        assert_int_equal((rd(i, IRR + 0x20) >> 20) & 1, i < 2);
    /* A logical INIT reaches only its destinations. */
    icr(0, 0x21, 0x4D00);
    assert_true(vlapic_waiting_sipi(&apic[2]));
    assert_false(vlapic_waiting_sipi(&apic[3]) || vlapic_waiting_sipi(&apic[1]));
}

static void test_x2apic_icr(void **state)
{
    uint8_t v = 0;
    uint64_t x2 = 0xFEE00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD;
    for (unsigned i = 0; i < NR; i++)
        assert_true(vlapic_set_apic_base(&apic[i], x2));
    assert_true(vlapic_msr_write(&apic[0], 0x80F, 0x1FF));
    /* INIT and SIPI by MSR 0x830 (destination in bits 63:32), back to back. */
    assert_true(vlapic_msr_write(&apic[0], ICR_X2, (2ull << 32) | 0x4500));
    assert_true(vlapic_msr_write(&apic[0], ICR_X2, (2ull << 32) | 0x4611));
    assert_int_equal(take(2, &v), VLAPIC_STARTUP_SIPI);
    assert_int_equal(v, 0x11);
    assert_int_equal(take(1, &v), VLAPIC_STARTUP_WAIT);
    /* The INIT kept x2APIC mode; all-but-self SIPI starts the rest. */
    assert_true(vlapic_x2apic_mode(&apic[2]));
    assert_true(vlapic_msr_write(&apic[0], ICR_X2, (3ull << 18) | 0x4612));
    assert_int_equal(take(1, &v), VLAPIC_STARTUP_SIPI);
    assert_int_equal(v, 0x12);
    assert_int_equal(take(3, &v), VLAPIC_STARTUP_SIPI);
    assert_int_equal(take(2, &v), VLAPIC_STARTUP_RUN); /* running: ignored */
    /* A fixed IPI to x2APIC ID 3, and a logical one to cluster 0 member 1 (CPU 1). */
    for (unsigned i = 1; i < NR; i++)
        assert_true(vlapic_msr_write(&apic[i], 0x80F, 0x1FF));
    assert_true(vlapic_msr_write(&apic[0], ICR_X2, (3ull << 32) | 0x4061));
    assert_int_equal(vlapic_pending_vector(&apic[3]), 0x61);
    assert_true(vlapic_msr_write(&apic[0], ICR_X2, (0x2ull << 32) | 0x4862));
    assert_int_equal(vlapic_pending_vector(&apic[1]), 0x62);
    assert_int_equal(vlapic_pending_vector(&apic[2]), -1);
    /* Reserved bits of the x2APIC ICR: #GP, nothing sent. */
    assert_false(vlapic_msr_write(&apic[0], ICR_X2, (2ull << 32) | (1u << 13) | 0x4063));
    assert_int_equal(vlapic_pending_vector(&apic[2]), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_aps_power_up_waiting, setup),
        cmocka_unit_test_setup(test_init_sipi_back_to_back, setup),
        cmocka_unit_test_setup(test_init_while_running, setup),
        cmocka_unit_test_setup(test_init_to_the_bsp_resets_the_vm, setup),
        cmocka_unit_test_setup(test_init_to_all_but_self_from_an_ap_resets_too, setup),
        cmocka_unit_test_setup(test_nmi_while_waiting_is_held, setup),
        cmocka_unit_test_setup(test_shorthands, setup),
        cmocka_unit_test_setup(test_physical_and_logical, setup),
        cmocka_unit_test_setup(test_x2apic_icr, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
