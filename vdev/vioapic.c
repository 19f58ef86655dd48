/* Virtual IOAPIC: register file of the 82093AA datasheet, 24 pins, edge
 * and level (Remote IRR) semantics. Locking: none here; every caller holds
 * the VM's platform lock (guest/platform.c: MMIO from any vCPU, device
 * lines from the vPIT/vRTC/vPM/vUART, EOIs from the vLAPICs), so vCPUs
 * of one VM on several CPUs never interleave inside this model. The
 * IOREGSEL/IOWIN pair is shared by all vCPUs, as on hardware: a guest
 * that selects and accesses from two CPUs at once races only itself. */
#include "vdev/vioapic.h"

#include "lib/string.h"

/* Writable bits of the low dword: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask. Delivery status and Remote IRR are
 * read-only, bits 17-31 reserved. */
#define RTE_LOW_WRITABLE                                                                           \
    (IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE_MASK | IOAPIC_RTE_LOGICAL | IOAPIC_RTE_ACTIVE_LOW |    \
     IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED)
#define RTE_DEST_MASK (0xFFull << IOAPIC_RTE_DEST_SHIFT) /* bits 32-55 reserved */

#define DM_FIXED  0u
#define DM_LOWEST 1u

void vioapic_init(struct vioapic *io, uint8_t id, const struct vioapic_ops *ops)
{
    memset(io, 0, sizeof(*io));
    if (ops)
        io->ops = *ops;
    io->id = id & 0xF;
    for (unsigned i = 0; i < VIOAPIC_NR_PINS; i++)
        io->redir[i] = IOAPIC_RTE_MASKED;
}

static bool asserted(const struct vioapic *io, unsigned pin)
{
    bool high = (io->line >> pin) & 1u;
    return (io->redir[pin] & IOAPIC_RTE_ACTIVE_LOW) ? !high : high;
}

static unsigned dmode(uint64_t e)
{
    return (unsigned)(e >> IOAPIC_RTE_DM_SHIFT) & 7;
}

/* Level semantics with Remote IRR apply to fixed and lowest-priority
 * entries, the ones a vLAPIC EOIs; other modes act on the edge. */
static bool uses_remote_irr(uint64_t e)
{
    return (e & IOAPIC_RTE_LEVEL) && (dmode(e) == DM_FIXED || dmode(e) == DM_LOWEST);
}

static void service(struct vioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    bool level = uses_remote_irr(e);
    if (level && !io->eoi_unseen)
        io->redir[pin] |= IOAPIC_RTE_REMOTE; /* set before the callback: it may EOI */
    io->deliveries++;
    if (io->ops.deliver)
        io->ops.deliver(io->ops.ctx, (uint32_t)(e >> IOAPIC_RTE_DEST_SHIFT),
                        (e & IOAPIC_RTE_LOGICAL) != 0, dmode(e), (uint8_t)(e & IOAPIC_RTE_VECTOR),
                        level);
}

/* A level pin that is asserted, unmasked and not awaiting EOI delivers. */
static void check_level(struct vioapic *io, unsigned pin)
{
    uint64_t e = io->redir[pin];
    if (uses_remote_irr(e) && !(e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE)) && asserted(io, pin))
        service(io, pin);
}

void vioapic_set_level(struct vioapic *io, unsigned pin, bool high)
{
    if (pin >= VIOAPIC_NR_PINS)
        return;
    bool was = asserted(io, pin);
    if (high)
        io->line |= 1u << pin;
    else
        io->line &= ~(1u << pin);
    bool now = asserted(io, pin);
    uint64_t e = io->redir[pin];
    if (e & IOAPIC_RTE_MASKED)
        return; /* edges on a masked pin are lost; levels wait for unmask */
    if (uses_remote_irr(e))
        check_level(io, pin);
    else if (now && !was)
        service(io, pin);
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
    for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if (!(e & IOAPIC_RTE_REMOTE) || (e & IOAPIC_RTE_VECTOR) != vector)
            continue;
        io->redir[pin] &= ~IOAPIC_RTE_REMOTE;
        check_level(io, pin); /* still asserted: deliver again */
    }
}

uint32_t vioapic_read_reg(const struct vioapic *io, unsigned index)
{
    switch (index) {
    case VIOAPIC_REG_ID:
        return (uint32_t)io->id << 24;
    case VIOAPIC_REG_VER:
        return VIOAPIC_VERSION;
    case VIOAPIC_REG_ARB:
        return (uint32_t)io->id << 24; /* arbitration ID is loaded from the ID */
    default:
        break;
    }
    if (index < VIOAPIC_REG_REDIR || index >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_NR_PINS)
        return 0;
    unsigned pin = (index - VIOAPIC_REG_REDIR) / 2;
    uint64_t e = io->redir[pin];
    return (index & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
}

void vioapic_write_reg(struct vioapic *io, unsigned index, uint32_t val)
{
    if (index == VIOAPIC_REG_ID) {
        io->id = (val >> 24) & 0xF;
        return;
    }
    /* Version and arbitration are read-only; other indexes do nothing. */
    if (index < VIOAPIC_REG_REDIR || index >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_NR_PINS)
        return;
    unsigned pin = (index - VIOAPIC_REG_REDIR) / 2;
    uint64_t e = io->redir[pin];
    if (index & 1) {
        e = (e & 0xFFFFFFFFull) | (((uint64_t)val << 32) & RTE_DEST_MASK);
        io->redir[pin] = e;
        return;
    }
    uint64_t remote = e & IOAPIC_RTE_REMOTE;
    e = (e & RTE_DEST_MASK) | (val & RTE_LOW_WRITABLE) | remote;
    /* Switching to edge drops Remote IRR: Linux's EOI for version 0x11
     * IOAPICs toggles the trigger mode to clear it. */
    if (!(e & IOAPIC_RTE_LEVEL))
        e &= ~IOAPIC_RTE_REMOTE;
    io->redir[pin] = e;
    check_level(io, pin); /* unmasking an asserted level pin delivers */
}

bool vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned size, uint64_t *val)
{
    if (offset > 0xFFF || (size != 1 && size != 2 && size != 4 && size != 8) || !val)
        return false;
    uint64_t out = 0;
    for (unsigned i = 0; i < size; i++) {
        uint32_t off = offset + i;
        uint32_t reg;
        if ((off & ~3u) == VIOAPIC_REGSEL)
            reg = io->ioregsel;
        else if ((off & ~3u) == VIOAPIC_WIN)
            reg = vioapic_read_reg(io, io->ioregsel);
        else
            continue;
        out |= (uint64_t)((reg >> ((off & 3) * 8)) & 0xFF) << (i * 8);
    }
    *val = out;
    return true;
}

bool vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned size, uint64_t val)
{
    if (offset > 0xFFF || (size != 1 && size != 2 && size != 4 && size != 8))
        return false;
    if (offset == VIOAPIC_REGSEL) {
        io->ioregsel = val & 0xFF; /* any width: some OSes write a byte */
        return true;
    }
    if (offset == VIOAPIC_WIN && size >= 4)
        vioapic_write_reg(io, io->ioregsel, (uint32_t)val);
    return true;
}
