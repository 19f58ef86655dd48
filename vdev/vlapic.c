/* Virtual local APIC: register semantics per SDM Vol. 3A ch. 10 (xAPIC
 * and x2APIC), checked against what Linux's apic.c relies on. */
#include "vdev/vlapic_priv.h"

#include "lib/log.h"
#include "lib/string.h"

/* Register index = MMIO offset >> 4 = x2APIC MSR - 0x800. */
enum {
    REG_ID = 0x02,
    REG_VERSION = 0x03,
    REG_TPR = 0x08,
    REG_APR = 0x09,
    REG_PPR = 0x0A,
    REG_EOI = 0x0B,
    REG_RRD = 0x0C,
    REG_LDR = 0x0D,
    REG_DFR = 0x0E,
    REG_SVR = 0x0F,
    REG_ISR0 = 0x10,
    REG_TMR0 = 0x18,
    REG_IRR0 = 0x20,
    REG_ESR = 0x28,
    REG_ICR_LO = 0x30,
    REG_ICR_HI = 0x31,
    REG_LVT0 = 0x32, /* timer; thermal, perf, LINT0, LINT1, error follow */
    REG_TIMER_INIT = 0x38,
    REG_TIMER_CUR = 0x39,
    REG_DCR = 0x3E,
    REG_SELF_IPI = 0x3F,
};

static const uint32_t lvt_writable[VLAPIC_NR_LVT] = {
    [VLAPIC_LVT_TIMER] = LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE, /* bit 18 checked below */
    [VLAPIC_LVT_THERMAL] = LVT_VECTOR | LVT_DM | LVT_MASKED,
    [VLAPIC_LVT_PERF] = LVT_VECTOR | LVT_DM | LVT_MASKED,
    [VLAPIC_LVT_LINT0] = LVT_VECTOR | LVT_DM | LVT_POLARITY | LVT_LEVEL | LVT_MASKED,
    [VLAPIC_LVT_LINT1] = LVT_VECTOR | LVT_DM | LVT_POLARITY | LVT_LEVEL | LVT_MASKED,
    [VLAPIC_LVT_ERROR] = LVT_VECTOR | LVT_MASKED,
};

bool vlapic_hw_enabled(const struct vlapic *a)
{
    return (a->apic_base & VLAPIC_BASE_EN) != 0;
}

bool vlapic_x2apic_mode(const struct vlapic *a)
{
    return (a->apic_base & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) ==
           (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
}

/* --- priorities ------------------------------------------------------------ */

unsigned vlapic_ppr(const struct vlapic *a)
{
    int isrv = highest_vec(a->isr);
    unsigned isr_class = isrv < 0 ? 0 : (unsigned)isrv & 0xF0;
    return (a->tpr & 0xF0) >= isr_class ? a->tpr & 0xFF : isr_class;
}

static uint32_t apr(const struct vlapic *a)
{
    int irrv = highest_vec(a->irr), isrv = highest_vec(a->isr);
    unsigned top = (unsigned)(irrv > isrv ? irrv : isrv);
    if (irrv < 0 && isrv < 0)
        top = 0;
    return (a->tpr & 0xF0) >= (top & 0xF0) ? a->tpr & 0xFF : top & 0xF0;
}

int vlapic_pending_vector(const struct vlapic *a)
{
    if (!vlapic_hw_enabled(a) || !sw_enabled(a))
        return -1;
    int v = highest_vec(a->irr);
    if (v < 0 || ((unsigned)v & 0xF0) <= (vlapic_ppr(a) & 0xF0))
        return -1;
    return v;
}

void vlapic_ack(struct vlapic *a, uint8_t vector)
{
    if (!test_vec(a->irr, vector))
        return;
    clear_vec(a->irr, vector);
    set_vec(a->isr, vector);
}

bool vlapic_take_nmi(struct vlapic *a)
{
    bool p = a->nmi_pending;
    a->nmi_pending = false;
    return p;
}

void vlapic_notify(struct vlapic *a)
{
    if (a->ops.notify)
        a->ops.notify(a->ops.ctx);
}

/* Fixed-mode acceptance. A software-disabled APIC drops fixed interrupts;
 * vectors 0-15 are illegal and only flag the ESR. */
bool vlapic_accept_quiet(struct vlapic *a, uint8_t vector, bool level)
{
    if (!vlapic_hw_enabled(a) || !sw_enabled(a))
        return false;
    if (vector < 16) {
        vlapic_raise_error(a, ESR_RECV_ILLEGAL);
        return false;
    }
    if (test_vec(a->irr, vector))
        set_vec(a->irr_again, vector); /* see vlapic_apicv_import */
    set_vec(a->irr, vector);
    if (level)
        set_vec(a->tmr, vector);
    else
        clear_vec(a->tmr, vector);
    return true;
}

void vlapic_accept(struct vlapic *a, uint8_t vector, bool level)
{
    if (vlapic_accept_quiet(a, vector, level))
        vlapic_notify(a);
}

/* Records an error and raises the error LVT; an illegal error vector only
 * adds the receive bit (no recursion). */
void vlapic_raise_error(struct vlapic *a, uint32_t bits)
{
    a->esr_pending |= bits;
    uint32_t lvt = a->lvt[VLAPIC_LVT_ERROR];
    if (lvt & LVT_MASKED)
        return;
    uint8_t v = lvt & LVT_VECTOR;
    if (v < 16)
        a->esr_pending |= ESR_RECV_ILLEGAL;
    else
        vlapic_accept(a, v, false);
}

void vlapic_deliver(struct vlapic *a, uint8_t vector, bool level_trig)
{
    vlapic_accept(a, vector, level_trig);
}

void vlapic_deliver_nmi(struct vlapic *a)
{
    if (!vlapic_hw_enabled(a))
        return;
    a->nmi_pending = true;
    if (a->wait_sipi)
        return; /* held until the SIPI: it must not wake the vCPU */
    vlapic_notify(a);
}

/* --- reset, mode ------------------------------------------------------------ */

void vlapic_reset(struct vlapic *a)
{
    a->tpr = 0;
    a->ldr = vlapic_x2apic_mode(a) ? x2apic_ldr(a->id) : 0;
    a->dfr = 0xFFFFFFFFu;
    a->svr = 0xFF;
    a->esr = a->esr_pending = 0;
    a->icr_lo = a->icr_hi = 0;
    for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
        a->lvt[i] = LVT_MASKED;
    memset(a->irr, 0, sizeof(a->irr));
    memset(a->isr, 0, sizeof(a->isr));
    memset(a->tmr, 0, sizeof(a->tmr));
    a->resets++; /* a CPU's copy of the old state must not come back */
    a->timer_initial = 0;
    a->dcr = 0;
    a->timer_period = 0;
    a->tsc_deadline = 0;
    vlapic_timer_stop(a);
}

void vlapic_init(struct vlapic *a, uint32_t apic_id, bool bsp, const struct vlapic_ops *ops)
{
    memset(a, 0, sizeof(*a));
    if (ops)
        a->ops = *ops;
    a->id = apic_id;
    a->bsp = bsp;
    a->apic_base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (bsp ? VLAPIC_BASE_BSP : 0);
    vlapic_reset(a);
    a->wait_sipi = !bsp; /* APs come out of power-up waiting for a SIPI */
}

uint64_t vlapic_get_apic_base(const struct vlapic *a)
{
    return a->apic_base;
}

bool vlapic_set_apic_base(struct vlapic *a, uint64_t val)
{
    unsigned bits = a->ops.phys_addr_bits ? a->ops.phys_addr_bits : 52;
    if (bits > 52)
        bits = 52;
    uint64_t rsvd = 0x2FFull | ~((1ull << bits) - 1); /* bits 0-7, 9, above MAXPHYADDR */
    if (val & rsvd)
        return false;
    bool old_en = vlapic_hw_enabled(a), old_x2 = vlapic_x2apic_mode(a);
    bool en = val & VLAPIC_BASE_EN, x2 = val & VLAPIC_BASE_EXTD;
    if (x2 && !en)
        return false; /* the invalid state */
    if (old_x2 && en && !x2)
        return false; /* x2APIC -> xAPIC goes through disabled */
    if (!old_en && x2)
        return false; /* disabled -> x2APIC goes through xAPIC */
    /* BSP is read-only. */
    a->apic_base = (val & ~VLAPIC_BASE_BSP) | (a->bsp ? VLAPIC_BASE_BSP : 0);
    if (old_en && !en) {
        vlapic_reset(a); /* state is lost; re-enabling starts from reset */
    } else if (!old_x2 && x2) {
        a->ldr = x2apic_ldr(a->id); /* the ID is kept, the logical ID derived */
    }
    return true;
}

uint64_t vlapic_get_cr8(const struct vlapic *a)
{
    return (a->tpr >> 4) & 0xF;
}

void vlapic_set_cr8(struct vlapic *a, uint64_t cr8)
{
    a->tpr = (uint32_t)(cr8 & 0xF) << 4;
}

/* --- EOI --------------------------------------------------------------- */

static void do_eoi(struct vlapic *a)
{
    int v = highest_vec(a->isr);
    if (v < 0)
        return;
    clear_vec(a->isr, (unsigned)v);
    if (test_vec(a->tmr, (unsigned)v) && a->ops.eoi_level)
        a->ops.eoi_level(a->ops.ctx, (uint8_t)v); /* last: it may re-deliver */
}

/* --- register file ------------------------------------------------------ */

/* Readable registers; false for reserved ones (x2APIC: #GP, xAPIC: 0). */
static bool reg_value(struct vlapic *a, unsigned reg, bool x2, uint64_t *v)
{
    if (reg >= REG_ISR0 && reg < REG_IRR0 + 8) { /* ISR, TMR, IRR: 8 words each */
        const uint32_t *bm = reg < REG_TMR0 ? a->isr : reg < REG_IRR0 ? a->tmr : a->irr;
        *v = bm[(reg - REG_ISR0) & 7];
        return true;
    }
    if (reg >= REG_LVT0 && reg < REG_LVT0 + VLAPIC_NR_LVT) {
        *v = a->lvt[reg - REG_LVT0];
        return true;
    }
    switch (reg) {
    case REG_ID:
        return *v = x2 ? a->id : (a->id & 0xFFu) << 24, true;
    case REG_VERSION:
        return *v = VLAPIC_VERSION, true;
    case REG_TPR:
        return *v = a->tpr, true;
    case REG_PPR:
        return *v = vlapic_ppr(a), true;
    case REG_LDR:
        return *v = a->ldr, true;
    case REG_SVR:
        return *v = a->svr, true;
    case REG_ESR:
        return *v = a->esr, true;
    case REG_ICR_LO: /* delivery status always idle; x2APIC: one 64-bit ICR */
        return *v = a->icr_lo | (x2 ? (uint64_t)a->icr_hi << 32 : 0), true;
    case REG_TIMER_INIT:
        return *v = a->timer_initial, true;
    case REG_TIMER_CUR:
        return *v = vlapic_timer_current(a, now_tsc(a)), true;
    case REG_DCR:
        return *v = a->dcr, true;
    /* xAPIC only; EOI and remote read read 0 there, self-IPI is write-only. */
    case REG_APR:
        return *v = apr(a), !x2;
    case REG_DFR:
        return *v = a->dfr, !x2;
    case REG_ICR_HI:
        return *v = a->icr_hi, !x2;
    default:
        return false;
    }
}

static bool reg_read(struct vlapic *a, unsigned reg, uint64_t *out)
{
    bool x2 = vlapic_x2apic_mode(a);
    uint64_t v = 0;
    if (!reg_value(a, reg, x2, &v) && x2)
        return false;
    *out = v;
    return true;
}

/* x2 enforces x2APIC's must-be-zero bits (false = #GP); in xAPIC mode
 * reserved bits are dropped and the write always "succeeds". */
static bool rsvd_ok(bool x2, uint64_t val, uint64_t allowed)
{
    return !x2 || !(val & ~allowed);
}

static bool reg_write(struct vlapic *a, unsigned reg, uint64_t val)
{
    bool x2 = vlapic_x2apic_mode(a);
    uint32_t v32 = (uint32_t)val;
    if (x2 && reg != REG_ICR_LO && (val >> 32))
        return false;
    switch (reg) {
    case REG_TPR:
        if (!rsvd_ok(x2, val, 0xFF))
            return false;
        a->tpr = v32 & 0xFF;
        return true;
    case REG_EOI:
        if (x2 && val)
            return false;
        do_eoi(a);
        return true;
    case REG_LDR:
        if (x2)
            return false; /* read-only in x2APIC mode */
        a->ldr = v32 & 0xFF000000u;
        return true;
    case REG_DFR:
        if (x2)
            return false;
        a->dfr = (v32 & 0xF0000000u) | DFR_RESERVED;
        return true;
    case REG_SVR:
        if (!rsvd_ok(x2, val, SVR_WRITABLE))
            return false;
        a->svr = v32 & SVR_WRITABLE;
        /* Software disable masks every LVT; they stay masked after. */
        if (!sw_enabled(a))
            for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
                a->lvt[i] |= LVT_MASKED;
        return true;
    case REG_ESR:
        if (x2 && val)
            return false;
        a->esr = a->esr_pending; /* a write latches the errors seen so far */
        a->esr_pending = 0;
        return true;
    case REG_ICR_LO:
        if (x2) {
            if (v32 & X2_ICR_RSVD)
                return false;
            a->icr_lo = v32 & ICR_WRITABLE;
            a->icr_hi = (uint32_t)(val >> 32);
            vlapic_send_icr(a, a->icr_lo, a->icr_hi);
        } else {
            a->icr_lo = v32 & ICR_WRITABLE; /* the low dword sends */
            vlapic_send_icr(a, a->icr_lo, a->icr_hi >> 24);
        }
        return true;
    case REG_ICR_HI:
        if (x2)
            return false;
        a->icr_hi = v32 & 0xFF000000u;
        return true;
    case REG_LVT0 ... REG_LVT0 + VLAPIC_NR_LVT - 1: {
        unsigned i = reg - REG_LVT0;
        uint32_t allowed = lvt_writable[i];
        if (i == VLAPIC_LVT_TIMER && !a->ops.tsc_deadline)
            allowed &= ~LVT_TIMER_TSC;
        uint32_t ro =
            LVT_STATUS | (i == VLAPIC_LVT_LINT0 || i == VLAPIC_LVT_LINT1 ? LVT_REMOTE : 0);
        if (!rsvd_ok(x2, val, allowed | ro))
            return false;
        uint32_t nv = v32 & allowed;
        if (!sw_enabled(a))
            nv |= LVT_MASKED;
        if (i == VLAPIC_LVT_TIMER)
            vlapic_timer_write_lvt(a, nv);
        else
            a->lvt[i] = nv;
        return true;
    }
    case REG_TIMER_INIT:
        vlapic_timer_write_initial(a, v32);
        return true;
    case REG_DCR:
        if (!rsvd_ok(x2, val, DCR_WRITABLE))
            return false;
        vlapic_timer_write_dcr(a, v32);
        return true;
    case REG_SELF_IPI:
        if (!x2 || (val & ~0xFFull))
            return false;
        if (v32 < 16)
            vlapic_raise_error(a, ESR_SEND_ILLEGAL);
        else
            vlapic_accept(a, (uint8_t)v32, false);
        return true;
    default:
        /* ID, version, APR, PPR, ISR/TMR/IRR, current count: read-only;
         * the rest reserved. x2APIC raises #GP, xAPIC ignores. */
        if (x2)
            return false;
        a->ignored_accesses++;
        return true;
    }
}

/* --- access paths ------------------------------------------------------- */

bool vlapic_mmio_read(struct vlapic *a, uint32_t offset, unsigned size, uint64_t *val)
{
    if (offset > 0xFFF || (size != 1 && size != 2 && size != 4 && size != 8) || !val)
        return false;
    if (!vlapic_hw_enabled(a) || vlapic_x2apic_mode(a)) {
        *val = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
        return true;
    }
    /* Byte by byte: registers are dwords at 16-byte strides. */
    uint64_t out = 0;
    unsigned cached_reg = ~0u;
    uint64_t reg_val = 0;
    for (unsigned i = 0; i < size; i++) {
        uint32_t off = offset + i;
        if (off > 0xFFF || (off & 0xF) >= 4)
            continue;
        unsigned reg = off >> 4;
        if (reg != cached_reg) {
            cached_reg = reg;
            reg_val = 0;
            reg_read(a, reg, &reg_val);
        }
        out |= ((reg_val >> ((off & 3) * 8)) & 0xFF) << (i * 8);
    }
    *val = out;
    return true;
}

bool vlapic_mmio_write(struct vlapic *a, uint32_t offset, unsigned size, uint64_t val)
{
    if (offset > 0xFFF || (size != 1 && size != 2 && size != 4 && size != 8))
        return false;
    if (!vlapic_hw_enabled(a) || vlapic_x2apic_mode(a))
        return true;
    if (size != 4 || (offset & 0xF)) {
        /* Registers take aligned dword writes only; anything else is dropped. */
        if (!a->ignored_accesses++)
            pr_debug("vlapic %u: ignoring %u-byte write at %#x\n", a->id, size, offset);
        return true;
    }
    reg_write(a, offset >> 4, val & 0xFFFFFFFFu);
    return true;
}

bool vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *val)
{
    if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST || !val || !vlapic_x2apic_mode(a))
        return false;
    return reg_read(a, msr - X2APIC_MSR_FIRST, val);
}

bool vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t val)
{
    if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST || !vlapic_x2apic_mode(a))
        return false;
    return reg_write(a, msr - X2APIC_MSR_FIRST, val);
}
