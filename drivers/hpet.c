#include "drivers/hpet.h"

#include "arch/x86_64/paging.h"
#include "drivers/acpi.h"
#include "lib/log.h"

#define HPET_BLOCK_SIZE 1024
#define HPET_GCAP_ID    0x000
#define HPET_GEN_CONF   0x010
#define HPET_MAIN_CNT   0x0f0

#define GCAP_COUNT_SIZE (1ULL << 13)
#define GEN_CONF_ENABLE (1ULL << 0)
/* The spec caps the period at 100 ns. */
#define HPET_MAX_PERIOD_FS 100000000ULL

static volatile uint8_t *hpet;
static uint64_t period_fs;
static uint64_t counter_mask;

static uint64_t hpet_read(uint32_t off)
{
    if (off > HPET_BLOCK_SIZE - 8)
        return 0;
    return *(volatile uint64_t *)(hpet + off);
}

static void hpet_write(uint32_t off, uint64_t v)
{
    if (off > HPET_BLOCK_SIZE - 8)
        return;
    *(volatile uint64_t *)(hpet + off) = v;
}

int hpet_init(void)
{
    if (hpet)
        return 0;
    if (!acpi.has_hpet)
        return -1;
    uint64_t addr = acpi.hpet_addr;
    /* The block is 1 KiB, naturally aligned, in MMIO space. */
    if (!addr || (addr & (HPET_BLOCK_SIZE - 1)) || addr >= (1ULL << 46)) {
        pr_warn("hpet: implausible address 0x%llx in the ACPI HPET table; ignored",
                (unsigned long long)addr);
        return -1;
    }
    if (paging_map_mmio(addr, HPET_BLOCK_SIZE)) {
        pr_warn("hpet: cannot map 0x%llx", (unsigned long long)addr);
        return -1;
    }
    hpet = (volatile uint8_t *)addr;
    uint64_t cap = hpet_read(HPET_GCAP_ID);
    uint64_t period = cap >> 32;
    if (cap == ~0ULL || !period || period > HPET_MAX_PERIOD_FS) {
        pr_warn("hpet: capabilities 0x%llx at 0x%llx make no sense; ignored",
                (unsigned long long)cap, (unsigned long long)addr);
        hpet = NULL;
        return -1;
    }
    period_fs = period;
    counter_mask = (cap & GCAP_COUNT_SIZE) ? ~0ULL : 0xffffffffULL;
    /* Leave the legacy-replacement routing as the firmware set it. */
    hpet_write(HPET_GEN_CONF, hpet_read(HPET_GEN_CONF) | GEN_CONF_ENABLE);
    pr_debug("hpet: at 0x%llx, period %llu fs, %u-bit counter", (unsigned long long)addr,
             (unsigned long long)period_fs, counter_mask == ~0ULL ? 64 : 32);
    return 0;
}

bool hpet_available(void)
{
    return hpet != NULL;
}

uint64_t hpet_period_fs(void)
{
    return period_fs;
}

uint64_t hpet_counter(void)
{
    return hpet ? hpet_read(HPET_MAIN_CNT) & counter_mask : 0;
}

uint64_t hpet_counter_mask(void)
{
    return counter_mask;
}
