/* The virtual local APIC: registers in both modes, priorities, EOI, timer
 * modes against a fake clock, IPIs, x2APIC #GP cases, APIC base moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vlapic.h"

/* MMIO offsets. */
enum {
    ID = 0x20,
    VER = 0x30,
    TPR = 0x80,
    APR = 0x90,
    PPR = 0xA0,
    EOI = 0xB0,
    LDR = 0xD0,
    DFR = 0xE0,
    SVR = 0xF0,
    ISR = 0x100,
    TMR = 0x180,
    IRR = 0x200,
    ESR = 0x280,
    ICRLO = 0x300,
    ICRHI = 0x310,
    LVTT = 0x320,
    LVTTHM = 0x330,
    LVTPC = 0x340,
    LINT0 = 0x350,
    LINT1 = 0x360,
    LVTERR = 0x370,
    TMICT = 0x380,
    TMCCT = 0x390,
    TDCR = 0x3E0,
};

#define MSR(off) (0x800u + ((off) >> 4))
#define TSC_KHZ  1000000u /* 1 GHz fake clock */

static uint64_t clock_now;
static unsigned nr_notify;
static uint8_t eoi_vectors[16];
static unsigned nr_eoi;

struct ipi {
    uint32_t dest;
    bool logical;
    unsigned sh, mode;
    uint8_t vector;
    bool level;
};
static struct ipi ipis[16];
static unsigned nr_ipis;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return clock_now;
}

static void rec_ipi(void *ctx, uint32_t dest, bool logical, unsigned sh, unsigned mode,
                    uint8_t vector, bool level)
{
    assert_true(nr_ipis < 16);
    ipis[nr_ipis++] = (struct ipi){dest, logical, sh, mode, vector, level};
}

static void rec_eoi(void *ctx, uint8_t vector)
{
    assert_true(nr_eoi < 16);
    eoi_vectors[nr_eoi++] = vector;
}

static void rec_notify(void *ctx)
{
    nr_notify++;
}

static struct vlapic_ops ops = {
    .now = fake_now,
    .tsc_khz = TSC_KHZ,
    .tsc_deadline = true,
    .phys_addr_bits = 39,
    .send_ipi = rec_ipi,
    .eoi_level = rec_eoi,
    .notify = rec_notify,
};

static struct vlapic a;

static uint32_t rd(uint32_t off)
{
    uint64_t v = 0;
    assert_true(vlapic_mmio_read(&a, off, 4, &v));
    return (uint32_t)v;
}

static void wr(uint32_t off, uint32_t v)
{
    assert_true(vlapic_mmio_write(&a, off, 4, v));
}

static void enable(void)
{
    wr(SVR, 0x1FF);
}

static int setup(void **state)
{
    clock_now = 1000000;
    nr_notify = nr_eoi = nr_ipis = 0;
    vlapic_init(&a, 3, true, &ops);
    return 0;
}

static void to_x2apic(void)
{
    assert_true(vlapic_set_apic_base(&a, 0xFEE00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD));
    assert_true(vlapic_x2apic_mode(&a));
}

static void test_reset_values(void **state)
{
    assert_int_equal(vlapic_get_apic_base(&a), 0xFEE00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_BSP);
    assert_int_equal(rd(ID), 3u << 24);
    assert_int_equal(rd(VER), 0x50014);
    assert_int_equal(rd(TPR), 0);
    assert_int_equal(rd(PPR), 0);
    assert_int_equal(rd(LDR), 0);
    assert_int_equal(rd(DFR), 0xFFFFFFFFu);
    assert_int_equal(rd(SVR), 0xFF);
    for (uint32_t off = LVTT; off <= LVTERR; off += 0x10)
        assert_int_equal(rd(off), 0x10000);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(rd(IRR + i * 0x10) | rd(ISR + i * 0x10) | rd(TMR + i * 0x10), 0);
    assert_int_equal(rd(TMICT) | rd(TMCCT) | rd(TDCR) | rd(ESR) | rd(ICRLO) | rd(ICRHI), 0);
    /* Reserved offsets and the unused half of a 16-byte slot read 0. */
    assert_int_equal(rd(0x40) | rd(0x24) | rd(0x3F0), 0);
    /* Sub-dword reads return the register's bytes. */
    uint64_t v;
    assert_true(vlapic_mmio_read(&a, VER + 2, 1, &v));
    assert_int_equal(v, 0x05);
    assert_true(vlapic_mmio_read(&a, VER, 2, &v));
    assert_int_equal(v, 0x0014);
    assert_true(vlapic_mmio_read(&a, ID, 8, &v));
    assert_int_equal(v, 3u << 24);
    /* Impossible input. */
    assert_false(vlapic_mmio_read(&a, 0x1000, 4, &v));
    assert_false(vlapic_mmio_read(&a, 0, 3, &v));
    assert_false(vlapic_mmio_write(&a, 0x1000, 4, 0));
    /* Software disabled at reset: no interrupt is taken, PIC drives INTR. */
    vlapic_deliver(&a, 0x40, false);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    assert_true(vlapic_lint0_extint(&a));
}

static void test_id_version_both_modes(void **state)
{
    wr(ID, 0x7u << 24); /* read-only */
    wr(VER, 0);
    assert_int_equal(rd(ID), 3u << 24);
    assert_int_equal(rd(VER), 0x50014);
    uint64_t v;
    assert_false(vlapic_msr_read(&a, MSR(ID), &v)); /* x2APIC off: #GP */
    to_x2apic();
    assert_true(vlapic_msr_read(&a, MSR(ID), &v));
    assert_int_equal(v, 3);
    assert_true(vlapic_msr_read(&a, MSR(VER), &v));
    assert_int_equal(v, 0x50014);
    assert_true(vlapic_msr_read(&a, MSR(LDR), &v));
    assert_int_equal(v, (0u << 16) | (1u << 3));
    /* Full 32-bit ID and the derived cluster LDR. */
    vlapic_init(&a, 0x123, false, &ops);
    to_x2apic();
    assert_true(vlapic_msr_read(&a, MSR(ID), &v));
    assert_int_equal(v, 0x123);
    assert_true(vlapic_msr_read(&a, MSR(LDR), &v));
    assert_int_equal(v, (0x12u << 16) | (1u << 3));
    /* MMIO is gone in x2APIC mode. */
    assert_true(vlapic_mmio_read(&a, ID, 4, &v));
    assert_int_equal(v, 0xFFFFFFFFu);
}

static void test_tpr_ppr_masking(void **state)
{
    enable();
    wr(TPR, 0x50);
    assert_int_equal(rd(PPR), 0x50);
    vlapic_deliver(&a, 0x55, false); /* same class as TPR: held */
    assert_int_equal(vlapic_pending_vector(&a), -1);
    vlapic_deliver(&a, 0x45, false);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    assert_int_equal(rd(IRR + 0x20), (1u << 5) | (1u << 21)); /* 0x45, 0x55: word 2 */
    assert_int_equal(rd(APR), 0x50);
    wr(TPR, 0x4F);
    assert_int_equal(vlapic_pending_vector(&a), 0x55);
    assert_int_equal(vlapic_get_cr8(&a), 4);
    vlapic_set_cr8(&a, 0);
    assert_int_equal(rd(TPR), 0);
    wr(TPR, 0xFFFFFF12); /* reserved bits dropped */
    assert_int_equal(rd(TPR), 0x12);
}

static void test_irr_isr_eoi_nesting(void **state)
{
    enable();
    vlapic_deliver(&a, 0x31, false);
    assert_int_equal(vlapic_pending_vector(&a), 0x31);
    vlapic_ack(&a, 0x31);
    assert_int_equal(rd(PPR), 0x30);
    assert_int_equal(rd(ISR + 0x10), 1u << 17);
    vlapic_deliver(&a, 0x35, false); /* same class: waits */
    assert_int_equal(vlapic_pending_vector(&a), -1);
    vlapic_deliver(&a, 0x61, false); /* higher class: nests */
    assert_int_equal(vlapic_pending_vector(&a), 0x61);
    vlapic_ack(&a, 0x61);
    assert_int_equal(rd(PPR), 0x60);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    wr(EOI, 0); /* ends 0x61, the highest */
    assert_int_equal(rd(ISR + 0x30), 0);
    assert_int_equal(rd(PPR), 0x30);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    wr(EOI, 0); /* ends 0x31 */
    assert_int_equal(vlapic_pending_vector(&a), 0x35);
    assert_int_equal(nr_eoi, 0);
    /* EOI with nothing in service is harmless. */
    vlapic_ack(&a, 0x35);
    wr(EOI, 0);
    wr(EOI, 0);
    assert_int_equal(rd(PPR), 0);
    /* Ack of something not in IRR does nothing. */
    vlapic_ack(&a, 0x99);
    assert_int_equal(rd(ISR + 0x40), 0);
}

static void test_level_eoi(void **state)
{
    enable();
    vlapic_deliver(&a, 0x41, true);
    assert_int_equal(rd(TMR + 0x20), 1u << 1);
    vlapic_ack(&a, 0x41);
    wr(EOI, 0);
    assert_int_equal(nr_eoi, 1);
    assert_int_equal(eoi_vectors[0], 0x41);
    /* The same vector as edge clears TMR: no broadcast. */
    vlapic_deliver(&a, 0x41, false);
    assert_int_equal(rd(TMR + 0x20), 0);
    vlapic_ack(&a, 0x41);
    wr(EOI, 0);
    assert_int_equal(nr_eoi, 1);
}

static void test_svr_disable_masks_lvts(void **state)
{
    enable();
    wr(LVTT, 0xEC);
    wr(LINT0, 0x700);
    wr(LVTERR, 0xFE);
    assert_int_equal(rd(LVTT), 0xEC);
    assert_int_equal(rd(LINT0), 0x700);
    assert_false(vlapic_lint0_extint(&a) == false);
    wr(SVR, 0xFF); /* software disable */
    assert_int_equal(rd(LVTT), 0x100EC);
    assert_int_equal(rd(LINT0), 0x10700);
    assert_int_equal(rd(LVTERR), 0x100FE);
    wr(LVTT, 0xEC); /* cannot unmask while disabled */
    assert_int_equal(rd(LVTT), 0x100EC);
    enable();
    assert_int_equal(rd(LVTT), 0x100EC); /* still masked after enabling */
    wr(LVTT, 0xEC);
    assert_int_equal(rd(LVTT), 0xEC);
    /* Read-only and reserved LVT bits. */
    wr(LINT1, 0xFFFFFFFF);
    assert_int_equal(rd(LINT1), 0x1A7FF);
    wr(LVTERR, 0xFFFFFFFF);
    assert_int_equal(rd(LVTERR), 0x100FF);
    wr(SVR, 0xFFFFFFFF);
    assert_int_equal(rd(SVR), 0x3FF);
}

static void test_timer_oneshot(void **state)
{
    enable();
    wr(TDCR, 0x3); /* divide by 16 */
    wr(LVTT, 0xEC);
    wr(TMICT, 1000);
    assert_int_equal(vlapic_next_deadline(&a), clock_now + 16000);
    assert_int_equal(rd(TMCCT), 1000);
    clock_now += 1;
    assert_int_equal(rd(TMCCT), 1000); /* counts every 16 ticks */
    clock_now += 15;
    assert_int_equal(rd(TMCCT), 999);
    clock_now += 16 * 499;
    assert_int_equal(rd(TMCCT), 500);
    vlapic_tick(&a, clock_now); /* not due */
    assert_int_equal(vlapic_pending_vector(&a), -1);
    clock_now += 16 * 500;
    assert_int_equal(rd(TMCCT), 0);
    vlapic_tick(&a, clock_now);
    assert_int_equal(vlapic_pending_vector(&a), 0xEC);
    assert_int_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    assert_int_equal(rd(TMCCT), 0);
    assert_int_equal(rd(TMICT), 1000);
    /* Initial count 0 stops a running timer. */
    wr(TMICT, 50);
    assert_int_not_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    wr(TMICT, 0);
    assert_int_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    assert_int_equal(rd(TMCCT), 0);
}

static void test_timer_masked_counts(void **state)
{
    enable();
    wr(TDCR, 0xB); /* divide by 1 */
    wr(LVTT, 0x100EC);
    wr(TMICT, 100);
    clock_now += 40;
    assert_int_equal(rd(TMCCT), 60);
    clock_now += 60;
    vlapic_tick(&a, clock_now);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    assert_int_equal(rd(IRR + 0x70), 0);
    assert_int_equal(rd(TMCCT), 0);
}

static void test_timer_periodic_coalesces(void **state)
{
    enable();
    wr(TDCR, 0xB);
    wr(LVTT, 0x200EC);
    wr(TMICT, 200000); /* 200 us at 1 GHz */
    uint64_t start = clock_now;
    clock_now = start + 200000;
    vlapic_tick(&a, clock_now);
    assert_int_equal(vlapic_pending_vector(&a), 0xEC);
    assert_int_equal(vlapic_next_deadline(&a), start + 400000);
    assert_int_equal(rd(TMCCT), 200000);
    vlapic_ack(&a, 0xEC);
    wr(EOI, 0);
    /* A long gap (descheduled): one interrupt, the next period after now. */
    unsigned before = nr_notify;
    clock_now = start + 400000 + 10 * 200000 + 12345;
    assert_int_equal(rd(TMCCT), 200000 - 12345); /* consistent before the tick */
    vlapic_tick(&a, clock_now);
    assert_int_equal(nr_notify, before + 1);
    assert_int_equal(vlapic_pending_vector(&a), 0xEC);
    assert_int_equal(vlapic_next_deadline(&a), start + 400000 + 11 * 200000);
    assert_true(vlapic_next_deadline(&a) > clock_now);
    assert_int_equal(rd(TMCCT), 200000 - 12345);
    /* Periodic timers are bounded to 100 us (tsc_khz / 10 ticks). */
    wr(TMICT, 1);
    clock_now += 1;
    vlapic_tick(&a, clock_now);
    assert_int_equal(vlapic_next_deadline(&a), clock_now + TSC_KHZ / 10);
}

static void test_timer_divide_values(void **state)
{
    static const struct {
        uint32_t dcr;
        uint64_t div;
    } cases[] = {{0x0, 2},  {0x1, 4},   {0x2, 8}, {0x3, 16},      {0x8, 32},
                 {0x9, 64}, {0xA, 128}, {0xB, 1}, {0xFFFFFFF4, 2}};
    enable();
    wr(LVTT, 0xEC);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wr(TDCR, cases[i].dcr);
        assert_int_equal(rd(TDCR), cases[i].dcr & 0xB);
        wr(TMICT, 10);
        assert_int_equal(vlapic_next_deadline(&a), clock_now + 10 * cases[i].div);
    }
    /* Changing the divider mid-count keeps the count, at the new rate. */
    wr(TDCR, 0xB);
    wr(TMICT, 100);
    clock_now += 30;
    wr(TDCR, 0x0);
    assert_int_equal(rd(TMCCT), 70);
    assert_int_equal(vlapic_next_deadline(&a), clock_now + 140);
}

static void test_tsc_deadline(void **state)
{
    enable();
    vlapic_set_tsc_offset(&a, 5000);
    vlapic_set_tsc_deadline(&a, 123456); /* not in deadline mode: ignored */
    assert_int_equal(vlapic_get_tsc_deadline(&a), 0);
    wr(LVTT, 0x400EC);
    assert_int_equal(rd(LVTT), 0x400EC);
    wr(TMICT, 100); /* ignored in deadline mode */
    assert_int_equal(rd(TMICT), 0);
    assert_int_equal(rd(TMCCT), 0);
    uint64_t guest_now = clock_now + 5000;
    vlapic_set_tsc_deadline(&a, guest_now + 700);
    assert_int_equal(vlapic_get_tsc_deadline(&a), guest_now + 700);
    assert_int_equal(vlapic_next_deadline(&a), clock_now + 700);
    clock_now += 699;
    vlapic_tick(&a, clock_now);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    clock_now += 1;
    vlapic_tick(&a, clock_now);
    assert_int_equal(vlapic_pending_vector(&a), 0xEC);
    assert_int_equal(vlapic_get_tsc_deadline(&a), 0); /* cleared on firing */
    assert_int_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    /* 0 disarms; a past deadline fires at once. */
    vlapic_set_tsc_deadline(&a, clock_now + 5000 + 10);
    vlapic_set_tsc_deadline(&a, 0);
    assert_int_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    vlapic_set_tsc_deadline(&a, 1);
    assert_int_equal(vlapic_next_deadline(&a), clock_now);
    /* The running vCPU's own tick: the same expiry, no notify. */
    unsigned notified = nr_notify;
    vlapic_tick_running(&a, clock_now);
    assert_int_equal(vlapic_pending_vector(&a), 0xEC);
    assert_int_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    assert_int_equal(nr_notify, notified);
    vlapic_set_tsc_deadline(&a, 1);
    /* Leaving deadline mode disarms it. */
    wr(LVTT, 0xEC);
    assert_int_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    /* Without TSC-deadline exposed, mode bit 18 is reserved. */
    struct vlapic_ops no_dl = ops;
    no_dl.tsc_deadline = false;
    vlapic_init(&a, 3, true, &no_dl);
    enable();
    wr(LVTT, 0x400EC);
    assert_int_equal(rd(LVTT), 0xEC);
}

static void test_ipis(void **state)
{
    enable();
    /* Fixed to one: the high dword alone sends nothing. */
    wr(ICRHI, 0x05000000);
    assert_int_equal(nr_ipis, 0);
    wr(ICRLO, 0x4041);
    assert_int_equal(nr_ipis, 1);
    assert_int_equal(ipis[0].dest, 5);
    assert_false(ipis[0].logical);
    assert_int_equal(ipis[0].sh, 0);
    assert_int_equal(ipis[0].mode, VLAPIC_DM_FIXED);
    assert_int_equal(ipis[0].vector, 0x41);
    assert_int_equal(rd(ICRLO) & (1u << 12), 0); /* always idle */
    assert_int_equal(rd(ICRLO), 0x4041);
    assert_int_equal(rd(ICRHI), 0x05000000);
    /* Broadcast excluding self: no local delivery. */
    wr(ICRLO, (3u << 18) | 0x42);
    assert_int_equal(nr_ipis, 2);
    assert_int_equal(ipis[1].sh, 3);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    /* Self-IPI: local only. */
    wr(ICRLO, (1u << 18) | 0x43);
    assert_int_equal(nr_ipis, 2);
    assert_int_equal(vlapic_pending_vector(&a), 0x43);
    /* All including self: local and the others. */
    wr(ICRLO, (2u << 18) | 0x44);
    assert_int_equal(nr_ipis, 3);
    assert_int_equal(ipis[2].sh, 2);
    assert_int_equal(vlapic_pending_vector(&a), 0x44);
    /* To our own ID: nobody else. */
    wr(ICRHI, 0x03000000);
    wr(ICRLO, 0x45);
    assert_int_equal(nr_ipis, 3);
    assert_int_equal(rd(IRR + 0x20), (1u << 3) | (1u << 4) | (1u << 5));
    /* NMI to another CPU. */
    wr(ICRHI, 0x01000000);
    wr(ICRLO, 0x4400);
    assert_int_equal(nr_ipis, 4);
    assert_int_equal(ipis[3].mode, VLAPIC_DM_NMI);
    assert_false(vlapic_take_nmi(&a));
    /* INIT (assert), INIT de-assert (ignored), then SIPI. */
    wr(ICRLO, 0xC500);
    wr(ICRLO, 0x8500);
    wr(ICRLO, 0x4609);
    assert_int_equal(nr_ipis, 6);
    assert_int_equal(ipis[4].mode, VLAPIC_DM_INIT);
    assert_true(ipis[4].level);
    assert_int_equal(ipis[5].mode, VLAPIC_DM_STARTUP);
    assert_int_equal(ipis[5].vector, 0x09);
    /* Illegal vector: nothing sent, ESR after a write. */
    wr(ICRLO, 0x4005);
    assert_int_equal(nr_ipis, 6);
    assert_int_equal(rd(ESR), 0);
    wr(ESR, 0);
    assert_int_equal(rd(ESR), 1u << 5);
    wr(ESR, 0);
    assert_int_equal(rd(ESR), 0);
    /* Logical destination mode is passed through. */
    wr(ICRHI, 0x0F000000);
    wr(ICRLO, 0x4850);
    assert_true(ipis[6].logical);
    assert_int_equal(ipis[6].dest, 0x0F);
    /* Odd-width writes to the ICR send nothing. */
    assert_true(vlapic_mmio_write(&a, ICRLO, 1, 0x60));
    assert_true(vlapic_mmio_write(&a, ICRLO + 1, 2, 0x60));
    assert_int_equal(nr_ipis, 7);
}

static void test_nmi_init_sipi_received(void **state)
{
    enable();
    vlapic_deliver_nmi(&a);
    vlapic_deliver_nmi(&a);
    assert_true(vlapic_take_nmi(&a));
    assert_false(vlapic_take_nmi(&a));
    uint8_t v = 0;
    vlapic_sipi(&a, 0x10); /* the BSP is not waiting: ignored */
    assert_int_equal(vlapic_take_startup(&a, &v), VLAPIC_STARTUP_RUN);
    vlapic_deliver(&a, 0x50, false);
    vlapic_init_signal(&a);
    /* The BSP does not wait for a SIPI: the VM is to restart. */
    assert_int_equal(vlapic_take_startup(&a, &v), VLAPIC_STARTUP_RESET);
    assert_int_equal(rd(SVR), 0xFF); /* reset */
    assert_int_equal(rd(IRR + 0x50), 0);
    assert_int_equal(rd(ID), 3u << 24);
    /* An AP waits for its SIPI after an INIT. */
    vlapic_init(&a, 3, false, &ops);
    vlapic_sipi(&a, 0x9A); /* powered up waiting: this one starts it */
    assert_int_equal(vlapic_take_startup(&a, &v), VLAPIC_STARTUP_SIPI);
    enable();
    vlapic_deliver(&a, 0x50, false);
    vlapic_init_signal(&a);
    assert_int_equal(vlapic_take_startup(&a, &v), VLAPIC_STARTUP_WAIT);
    assert_int_equal(vlapic_take_startup(&a, &v), VLAPIC_STARTUP_WAIT);
    assert_int_equal(rd(SVR), 0xFF); /* reset */
    assert_int_equal(rd(IRR + 0x50), 0);
    vlapic_sipi(&a, 0x9A);
    vlapic_sipi(&a, 0x9B); /* only the first counts */
    assert_int_equal(vlapic_take_startup(&a, &v), VLAPIC_STARTUP_SIPI);
    assert_int_equal(v, 0x9A);
    assert_int_equal(vlapic_take_startup(&a, &v), VLAPIC_STARTUP_RUN);
    /* LINT1 as NMI. */
    enable();
    wr(LINT1, 0x400);
    vlapic_lint_pulse(&a, 1);
    assert_true(vlapic_take_nmi(&a));
    vlapic_lint_pulse(&a, 7);
}

static void test_x2apic_msrs(void **state)
{
    uint64_t v;
    to_x2apic();
    assert_true(vlapic_msr_write(&a, MSR(SVR), 0x3FF)); /* Linux sets focus-disable */
    assert_false(vlapic_msr_write(&a, MSR(SVR), 0x1000));
    assert_false(vlapic_msr_read(&a, MSR(EOI), &v)); /* write-only */
    assert_false(vlapic_msr_write(&a, MSR(EOI), 1)); /* non-zero EOI */
    assert_true(vlapic_msr_write(&a, MSR(EOI), 0));
    assert_false(vlapic_msr_read(&a, 0x83F, &v));   /* self-IPI write-only */
    assert_false(vlapic_msr_write(&a, MSR(ID), 0)); /* read-only */
    assert_false(vlapic_msr_write(&a, MSR(VER), 0));
    assert_false(vlapic_msr_write(&a, MSR(LDR), 0));
    assert_false(vlapic_msr_write(&a, MSR(ISR), 0));
    assert_false(vlapic_msr_write(&a, MSR(PPR), 0));
    assert_false(vlapic_msr_write(&a, MSR(TMCCT), 0));
    assert_false(vlapic_msr_read(&a, MSR(DFR), &v)); /* no DFR, APR, ICR high */
    assert_false(vlapic_msr_read(&a, MSR(APR), &v));
    assert_false(vlapic_msr_read(&a, 0x831, &v));
    assert_false(vlapic_msr_read(&a, 0x82F, &v)); /* no CMCI LVT */
    assert_false(vlapic_msr_read(&a, 0x800, &v));
    assert_false(vlapic_msr_read(&a, 0x840, &v));
    assert_false(vlapic_msr_read(&a, 0x7FF, &v));
    assert_false(vlapic_msr_write(&a, MSR(TPR), 0x100)); /* reserved bits */
    assert_false(vlapic_msr_write(&a, MSR(TPR), 1ull << 32));
    assert_true(vlapic_msr_write(&a, MSR(TPR), 0x20));
    assert_true(vlapic_msr_read(&a, MSR(TPR), &v));
    assert_int_equal(v, 0x20);
    assert_false(vlapic_msr_write(&a, MSR(ESR), 1));
    assert_true(vlapic_msr_write(&a, MSR(ESR), 0));
    assert_false(vlapic_msr_write(&a, MSR(TDCR), 0x4));
    assert_false(vlapic_msr_write(&a, MSR(LVTT), 0x80000));
    assert_false(vlapic_msr_write(&a, MSR(LVTERR), 0x700));
    assert_true(vlapic_msr_write(&a, MSR(LINT0), 0x10700));
    /* ICR: one 64-bit write sends; reserved bits #GP, busy is ignored. */
    assert_false(vlapic_msr_write(&a, 0x830, (1ull << 13) | 0x40));
    assert_false(vlapic_msr_write(&a, 0x830, (1ull << 20) | 0x40));
    assert_int_equal(nr_ipis, 0);
    assert_true(vlapic_msr_write(&a, 0x830, (7ull << 32) | (1u << 12) | 0x40));
    assert_int_equal(nr_ipis, 1);
    assert_int_equal(ipis[0].dest, 7);
    assert_true(vlapic_msr_read(&a, 0x830, &v));
    assert_int_equal(v, (7ull << 32) | 0x40);
    /* Self-IPI MSR. */
    assert_false(vlapic_msr_write(&a, 0x83F, 0x100));
    assert_true(vlapic_msr_write(&a, 0x83F, 0x66));
    assert_int_equal(vlapic_pending_vector(&a), 0x66);
    assert_int_equal(nr_ipis, 1);
    /* Timer through MSRs. */
    assert_true(vlapic_msr_write(&a, MSR(TDCR), 0xB));
    assert_true(vlapic_msr_write(&a, MSR(TMICT), 500));
    clock_now += 100;
    assert_true(vlapic_msr_read(&a, MSR(TMCCT), &v));
    assert_int_equal(v, 400);
}

static void test_apic_base_transitions(void **state)
{
    uint64_t base = 0xFEE00000ull;
    assert_false(vlapic_set_apic_base(&a, base | VLAPIC_BASE_EN | 1)); /* reserved bit */
    assert_false(vlapic_set_apic_base(&a, (1ull << 40) | VLAPIC_BASE_EN));
    assert_false(vlapic_set_apic_base(&a, base | VLAPIC_BASE_EXTD)); /* invalid state */
    enable();
    wr(TPR, 0x30);
    to_x2apic();
    uint64_t v;
    assert_true(vlapic_msr_read(&a, MSR(TPR), &v));
    assert_int_equal(v, 0x30);                                     /* preserved */
    assert_false(vlapic_set_apic_base(&a, base | VLAPIC_BASE_EN)); /* x2APIC -> xAPIC */
    assert_true(vlapic_set_apic_base(&a, base));                   /* -> disabled */
    assert_false(vlapic_hw_enabled(&a));
    assert_int_equal(vlapic_get_apic_base(&a), base | VLAPIC_BASE_BSP);
    assert_false(vlapic_msr_read(&a, MSR(TPR), &v));
    assert_true(vlapic_mmio_read(&a, TPR, 4, &v));
    assert_int_equal(v, 0xFFFFFFFFu);
    assert_true(vlapic_lint0_extint(&a));
    assert_false(vlapic_match_dest(&a, 3, false));
    vlapic_deliver(&a, 0x50, false);
    vlapic_deliver_nmi(&a);
    assert_false(vlapic_take_nmi(&a));
    assert_false(
        vlapic_set_apic_base(&a, base | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)); /* disabled -> x2 */
    /* Re-enable: reset state, and it works again. */
    assert_true(vlapic_set_apic_base(&a, base | VLAPIC_BASE_EN));
    assert_int_equal(rd(TPR), 0);
    assert_int_equal(rd(SVR), 0xFF);
    assert_int_equal(rd(ID), 3u << 24);
    enable();
    vlapic_deliver(&a, 0x50, false);
    assert_int_equal(vlapic_pending_vector(&a), 0x50);
    to_x2apic();
    /* Disabling stops a running timer. */
    assert_true(vlapic_msr_write(&a, MSR(TMICT), 500));
    assert_true(vlapic_set_apic_base(&a, base));
    assert_int_equal(vlapic_next_deadline(&a), VTIME_NEVER);
    /* The base may move; BSP stays read-only. */
    assert_true(vlapic_set_apic_base(&a, 0xFED00000ull | VLAPIC_BASE_EN));
    assert_int_equal(vlapic_get_apic_base(&a), 0xFED00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_BSP);
}

static void test_logical_destinations(void **state)
{
    /* Flat model: LDR bit per CPU. */
    wr(LDR, 0x04000000);
    assert_int_equal(rd(LDR), 0x04000000);
    assert_true(vlapic_match_dest(&a, 0x04, true));
    assert_true(vlapic_match_dest(&a, 0x0C, true));
    assert_false(vlapic_match_dest(&a, 0x08, true));
    assert_true(vlapic_match_dest(&a, 0xFF, true));
    /* Cluster model. */
    wr(DFR, 0x0FFFFFFF);
    assert_int_equal(rd(DFR), 0x0FFFFFFF);
    wr(LDR, 0x21000000); /* cluster 2, bit 0 */
    assert_true(vlapic_match_dest(&a, 0x21, true));
    assert_true(vlapic_match_dest(&a, 0x23, true));
    assert_false(vlapic_match_dest(&a, 0x11, true));
    assert_false(vlapic_match_dest(&a, 0x22, true));
    wr(DFR, 0x12345678); /* only the model bits are writable */
    assert_int_equal(rd(DFR), 0x1FFFFFFF);
    assert_false(vlapic_match_dest(&a, 0x21, true));
    /* Physical. */
    assert_true(vlapic_match_dest(&a, 3, false));
    assert_true(vlapic_match_dest(&a, 0xFF, false));
    assert_false(vlapic_match_dest(&a, 4, false));
    /* x2APIC: cluster = id >> 4, bit = 1 << (id & 15). */
    vlapic_init(&a, 0x25, false, &ops);
    to_x2apic();
    assert_true(vlapic_match_dest(&a, (2u << 16) | (1u << 5), true));
    assert_false(vlapic_match_dest(&a, (1u << 16) | (1u << 5), true));
    assert_false(vlapic_match_dest(&a, (2u << 16) | (1u << 4), true));
    assert_true(vlapic_match_dest(&a, 0xFFFFFFFFu, true));
    assert_true(vlapic_match_dest(&a, 0x25, false));
    assert_true(vlapic_match_dest(&a, 0xFFFFFFFFu, false));
    assert_false(vlapic_match_dest(&a, 0xFF, false));
}

static void test_errors_and_garbage(void **state)
{
    enable();
    wr(LVTERR, 0xFE);
    vlapic_deliver(&a, 0x05, false); /* illegal vector received */
    assert_int_equal(vlapic_pending_vector(&a), 0xFE);
    wr(ESR, 0);
    assert_int_equal(rd(ESR), 1u << 6);
    /* An illegal error vector does not recurse. */
    wr(LVTERR, 0x02);
    vlapic_deliver(&a, 0x01, false);
    /* Every offset and width with all-ones must not crash. */
    for (uint32_t off = 0; off < 0x1000; off += 4)
        for (unsigned sz = 1; sz <= 8; sz *= 2) {
            uint64_t v;
            assert_true(vlapic_mmio_write(&a, off, sz, ~0ull));
            assert_true(vlapic_mmio_read(&a, off, sz, &v));
        }
    to_x2apic();
    for (uint32_t msr = 0x800; msr <= 0x8FF; msr++) {
        uint64_t v;
        vlapic_msr_write(&a, msr, ~0ull);
        vlapic_msr_read(&a, msr, &v);
    }
    vlapic_tick(&a, ~0ull);
    (void)vlapic_pending_vector(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_values, setup),
        cmocka_unit_test_setup(test_id_version_both_modes, setup),
        cmocka_unit_test_setup(test_tpr_ppr_masking, setup),
        cmocka_unit_test_setup(test_irr_isr_eoi_nesting, setup),
        cmocka_unit_test_setup(test_level_eoi, setup),
        cmocka_unit_test_setup(test_svr_disable_masks_lvts, setup),
        cmocka_unit_test_setup(test_timer_oneshot, setup),
        cmocka_unit_test_setup(test_timer_masked_counts, setup),
        cmocka_unit_test_setup(test_timer_periodic_coalesces, setup),
        cmocka_unit_test_setup(test_timer_divide_values, setup),
        cmocka_unit_test_setup(test_tsc_deadline, setup),
        cmocka_unit_test_setup(test_ipis, setup),
        cmocka_unit_test_setup(test_nmi_init_sipi_received, setup),
        cmocka_unit_test_setup(test_x2apic_msrs, setup),
        cmocka_unit_test_setup(test_apic_base_transitions, setup),
        cmocka_unit_test_setup(test_logical_destinations, setup),
        cmocka_unit_test_setup(test_errors_and_garbage, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
