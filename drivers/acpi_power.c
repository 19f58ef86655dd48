/* ACPI fixed hardware used by root mode: PM timer, ACPI mode switch, S5
 * power-off and reset. Kernel only (port I/O). Every polling loop is
 * bounded: broken or absent hardware must not hang the caller. */
#include "arch/x86_64/cpu.h"
#include "drivers/acpi.h"
#include "lib/log.h"

#define PM_TIMER_PROBE_LOOPS 1000000
/* inw costs about a microsecond on real chipsets: a few seconds at most. */
#define ACPI_ENABLE_LOOPS 3000000
#define SETTLE_LOOPS      100000 /* io_delay (~1 us each): about 100 ms */
#define KBC_LOOPS         100000

#define PORT_RESET_CF9 0xCF9
#define CF9_SYS_RST    0x02
#define CF9_RST_CPU    0x04
#define PORT_KBC_CMD   0x64
#define KBC_STATUS_IBF 0x02
#define KBC_CMD_RESET  0xFE
#define PCI_CONF_ADDR  0xCF8
#define PCI_CONF_DATA  0xCFC

static int pm_timer_state; /* 0 unknown, 1 counting, -1 absent or stuck */

uint32_t acpi_pm_timer_mask(void)
{
    return acpi.pm_tmr_32bit ? 0xFFFFFFFFu : 0xFFFFFFu;
}

uint32_t acpi_pm_timer_read(void)
{
    if (!acpi.pm_tmr_blk)
        return 0;
    return inl((uint16_t)acpi.pm_tmr_blk) & acpi_pm_timer_mask();
}

bool acpi_pm_timer_present(void)
{
    if (pm_timer_state)
        return pm_timer_state > 0;
    if (!acpi.has_fadt || !acpi.pm_tmr_blk) {
        pm_timer_state = -1;
        return false;
    }
    /* Some boards list a PM timer that never ticks: see it move once. */
    uint32_t first = acpi_pm_timer_read();
    pm_timer_state = -1;
    for (long i = 0; i < PM_TIMER_PROBE_LOOPS; i++) {
        if (acpi_pm_timer_read() != first) {
            pm_timer_state = 1;
            break;
        }
    }
    if (pm_timer_state < 0)
        pr_warn("acpi: PM timer at port 0x%x does not count, not used", acpi.pm_tmr_blk);
    return pm_timer_state > 0;
}

int acpi_enable_mode(void)
{
    if (!acpi.has_fadt || !acpi.pm1a_cnt_blk)
        return -1;
    uint16_t cnt = (uint16_t)acpi.pm1a_cnt_blk;
    if (inw(cnt) & ACPI_PM1_SCI_EN)
        return 0;
    if (!acpi.smi_cmd || !acpi.acpi_enable) {
        /* No SMI_CMD means the platform is always in ACPI mode. */
        pr_debug("acpi: SCI_EN clear and no SMI_CMD; assuming fixed ACPI mode");
        return 0;
    }
    outb((uint16_t)acpi.smi_cmd, acpi.acpi_enable);
    for (long i = 0; i < ACPI_ENABLE_LOOPS; i++) {
        if (inw(cnt) & ACPI_PM1_SCI_EN)
            return 0;
        cpu_relax();
    }
    pr_warn("acpi: SCI_EN still clear after writing 0x%x to SMI_CMD 0x%x", acpi.acpi_enable,
            acpi.smi_cmd);
    return -1;
}

static void settle(void)
{
    for (long i = 0; i < SETTLE_LOOPS; i++)
        io_delay();
}

static uint16_t slp_value(uint16_t port, uint8_t typ)
{
    uint16_t v = inw(port) & (uint16_t) ~(ACPI_PM1_SLP_TYP_MASK | ACPI_PM1_SLP_EN);
    return (uint16_t)(v | ((typ & 7u) << ACPI_PM1_SLP_TYP_SHIFT));
}

void acpi_poweroff_s5(void)
{
    if (!acpi.has_fadt || !acpi.pm1a_cnt_blk || !acpi.has_s5) {
        pr_warn("acpi: S5 unavailable (%s)", !acpi.has_fadt       ? "no FADT"
                                             : !acpi.pm1a_cnt_blk ? "no PM1a_CNT_BLK"
                                                                  : "no \\_S5 in the DSDT");
        return;
    }
    acpi_enable_mode();
    uint16_t pa = (uint16_t)acpi.pm1a_cnt_blk, pb = (uint16_t)acpi.pm1b_cnt_blk;
    unsigned long flags = irq_save();
    uint16_t a = slp_value(pa, acpi.slp_typa);
    uint16_t b = pb ? slp_value(pb, acpi.slp_typb) : 0;
    /* SLP_TYP first, then SLP_EN, as ACPICA does. */
    outw(pa, a);
    if (pb)
        outw(pb, b);
    outw(pa, (uint16_t)(a | ACPI_PM1_SLP_EN));
    if (pb)
        outw(pb, (uint16_t)(b | ACPI_PM1_SLP_EN));
    settle();
    irq_restore(flags);
    pr_warn("acpi: S5 (SLP_TYPa %u) did not power the machine off", acpi.slp_typa);
}

static void reset_via_fadt(void)
{
    const struct acpi_gas *g = &acpi.reset_reg;
    uint8_t v = acpi.reset_value;
    switch (g->space_id) {
    case ACPI_GAS_IO:
        outb((uint16_t)g->address, v);
        break;
    case ACPI_GAS_MEMORY:
        /* Only low MMIO is known to be mapped. */
        if (g->address < (1ull << 32))
            *(volatile uint8_t *)(uintptr_t)g->address = v;
        break;
    case ACPI_GAS_PCI: {
        /* Bus 0, segment 0: device bits 47:32, function 31:16, offset 15:0. */
        uint64_t dev = (g->address >> 32) & 0xFFFF, fn = (g->address >> 16) & 0xFFFF;
        uint64_t off = g->address & 0xFFFF;
        if (dev < 32 && fn < 8 && off < 256) {
            outl(PCI_CONF_ADDR, (uint32_t)(0x80000000u | dev << 11 | fn << 8 | (off & 0xFC)));
            outb((uint16_t)(PCI_CONF_DATA + (off & 3)), v);
        }
        break;
    }
    default:
        return;
    }
    settle();
}

void acpi_reset(void)
{
    if (acpi.has_fadt && acpi.has_reset_reg && (acpi.fadt_flags & ACPI_FADT_RESET_REG_SUP)) {
        reset_via_fadt();
        pr_warn("acpi: FADT reset register (space %u, 0x%llx) did not reset",
                acpi.reset_reg.space_id, (unsigned long long)acpi.reset_reg.address);
    }
    /* Reset control register: select hard reset, then trigger it. */
    outb(PORT_RESET_CF9, CF9_SYS_RST);
    io_delay();
    outb(PORT_RESET_CF9, CF9_SYS_RST | CF9_RST_CPU);
    settle();
    for (long i = 0; i < KBC_LOOPS && (inb(PORT_KBC_CMD) & KBC_STATUS_IBF); i++)
        io_delay();
    outb(PORT_KBC_CMD, KBC_CMD_RESET);
    settle();
    pr_warn("acpi: reset through 0xCF9 and the keyboard controller failed");
}
