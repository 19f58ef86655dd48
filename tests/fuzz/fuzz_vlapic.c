/* libFuzzer target: the local APIC model (vdev/vlapic.c) driven by a
 * random sequence of xAPIC MMIO and x2APIC MSR accesses (every offset and
 * width), IA32_APIC_BASE, TSC-deadline and CR8 writes, incoming
 * interrupts, NMI/INIT/SIPI, LINT pulses, acknowledges, clock steps and
 * ticks. Checks: a pending vector is 16-255 and above the PPR class, the
 * IRR never holds vectors 0-15, CR8 reads 0-15, IPIs the guest sends have
 * a 3-bit delivery mode and 2-bit shorthand, and after a tick at `now`
 * the next deadline lies after `now`. */
/* One line (tools/tools.mk reads it): */
// clang-format off
/* fuzz-srcs: vdev/vlapic.c vdev/vlapic_timer.c vdev/vlapic_ipi.c lib/log.c lib/format.c lib/strutil.c */
// clang-format on
#include <stdint.h>
#include <stdlib.h>

#include "vdev/vlapic.h"
#include "tests/fuzz/fuzz_input.h"

static void send_ipi(void *ctx, uint32_t dest, bool logical, unsigned shorthand, unsigned mode,
                     uint8_t vector, bool level)
{
    FUZZ_CHECK(shorthand <= 3 && mode <= 7);
}

static void eoi_level(void *ctx, uint8_t vector) {}

static void notify(void *ctx) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    static struct vlapic a;
    uint8_t cfg = fuzz_u8(&in);
    struct vlapic_ops ops = {
        .now = fuzz_clock_now,
        .tsc_khz = cfg & 1 ? fuzz_tsc_khz(&in) : 0,
        .tsc_deadline = cfg & 2,
        .phys_addr_bits = cfg & 4 ? 36 + (cfg >> 5) : 0,
        .send_ipi = send_ipi,
        .eoi_level = eoi_level,
        .notify = notify,
    };
    fuzz_tsc = fuzz_u32(&in);
    vlapic_init(&a, cfg & 8 ? fuzz_u32(&in) : 0, cfg & 16, &ops);
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        uint64_t val;
        uint8_t vec;
        switch (op & 15) {
        case 0:
        case 1: {
            /* Register-aligned mostly; any offset (and past the page) now and then. */
            uint32_t off = op & 0x80 ? fuzz_u16(&in) & 0x1fff : (uint32_t)fuzz_u8(&in) << 4;
            unsigned sz = fuzz_size(&in);
            val = fuzz_u64(&in);
            if (op & 1)
                (void)vlapic_mmio_read(&a, off, sz, &val);
            else
                (void)vlapic_mmio_write(&a, off, sz, val);
            break;
        }
        case 2:
        case 3: {
            uint32_t msr = X2APIC_MSR_FIRST + fuzz_u8(&in);
            val = fuzz_u64(&in);
            if (op & 1)
                (void)vlapic_msr_read(&a, msr, &val);
            else
                (void)vlapic_msr_write(&a, msr, val);
            break;
        }
        case 4:
            (void)vlapic_set_apic_base(&a, op & 0x80 ? fuzz_u64(&in)
                                                     : VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN |
                                                           (op & 0x40 ? VLAPIC_BASE_EXTD : 0));
            break;
        case 5:
            vlapic_set_tsc_deadline(&a, fuzz_u64(&in) >> (op >> 4));
            (void)vlapic_get_tsc_deadline(&a);
            break;
        case 6:
            vlapic_set_cr8(&a, fuzz_u64(&in) >> (op >> 2));
            FUZZ_CHECK(vlapic_get_cr8(&a) <= 15);
            break;
        case 7:
            vlapic_deliver(&a, fuzz_u8(&in), op & 0x10);
            break;
        case 8:
            switch ((op >> 4) & 7) {
            case 0:
                vlapic_deliver_nmi(&a);
                break;
            case 1:
                vlapic_init_signal(&a);
                break;
            case 2:
                vlapic_sipi(&a, fuzz_u8(&in));
                break;
            case 3:
                if (vlapic_take_startup(&a, &vec) == VLAPIC_STARTUP_SIPI)
                    FUZZ_CHECK(!vlapic_waiting_sipi(&a));
                break;
            case 4:
                (void)vlapic_take_nmi(&a);
                break;
            case 5:
                vlapic_reset(&a);
                break;
            default:
                vlapic_lint_pulse(&a, (op >> 7) | (fuzz_u8(&in) & 2));
                (void)vlapic_lint0_extint(&a);
                break;
            }
            break;
        case 9: {
            int v = vlapic_pending_vector(&a);
            FUZZ_CHECK(v == -1 || (v >= 16 && v <= 255));
            if (v >= 0) {
                FUZZ_CHECK(((unsigned)v & 0xf0) > (vlapic_ppr(&a) & 0xf0));
                vlapic_ack(&a, (uint8_t)v);
            }
            break;
        }
        case 10:
            vlapic_set_tsc_offset(&a, fuzz_u64(&in));
            break;
        case 11:
            (void)vlapic_match_dest(&a, fuzz_u32(&in), op & 0x10);
            break;
        case 12:
        case 13:
            fuzz_advance(&in);
            break;
        default:
            vlapic_tick(&a, fuzz_tsc);
            FUZZ_CHECK(vlapic_next_deadline(&a) > fuzz_tsc);
            break;
        }
        FUZZ_CHECK((a.irr[0] & 0xffff) == 0);
        FUZZ_CHECK(vlapic_ppr(&a) <= 0xff);
    }
    return 0;
}
