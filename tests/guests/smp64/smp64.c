/* smp64: the SMP test guest (64-bit runtime). Command line:
 *   vcpus=N      how many vCPUs the VM has (2-8, default 4)
 *   rounds=R     IPI rounds (default 20)
 *   x2apic=1     send the IPIs through the x2APIC ICR (MSR 0x830)
 *   mode=nmi-wait  instead: leave AP 1 waiting for its SIPI, send it NMIs
 *                and an INIT, then halt (its CPU must stay idle)
 *   mode=spin [spin_ms=M]  two vCPUs spin for each other (spin.c)
 *   mode=init-bsp  AP 1 sends INIT to the BSP (spin.c)
 * The default run starts the APs with INIT-SIPI-SIPI back to back, restarts
 * the last one the same way while it runs, then passes a fixed IPI around
 * the ring of vCPUs R laps, and has every vCPU in turn do R TLB-shootdown
 * style rounds (a fixed IPI to all but itself, spinning until every other
 * vCPU answered). It prints per-vCPU counts and "smp64: PASS" or
 * "smp64: FAIL ..." lines, then stops itself (0 = pass). */
#include "tests/guests/lib64/lib64.h"

#define LAPIC_BASE 0xfee00000ull
#define X2APIC_MSR 0x800u
#define REG_ID     0x02
#define REG_EOI    0x0B
#define REG_SVR    0x0F
#define REG_ICR_LO 0x30
#define REG_ICR_HI 0x31

#define VEC_RING  64 /* the token passed around the ring */
#define VEC_SHOOT 65 /* "flush": answered by an acknowledgement */
#define VEC_TURN  66 /* the BSP tells an AP to do its shootdown round */
#define VEC_WAKE  67 /* leave the idle loop (to stop) */

#define ICR_FIXED        0x4000u /* fixed, edge, assert */
#define ICR_NMI          0x4400u
#define ICR_INIT         0x4500u
#define ICR_ALL_BUT_SELF (3u << 18)

void smp64_irq64(void);
void smp64_irq65(void);
void smp64_irq66(void);
void smp64_irq67(void);
void smp64_irq(unsigned vec);
void smp64_spin(uint32_t ms, uint64_t tsc_khz);
void smp64_init_bsp(uint64_t tsc_khz);

static unsigned g_n = 4, g_rounds = 20;
static volatile bool g_x2apic;
static volatile uint32_t g_ring[LIB64_MAX_CPUS], g_shot[LIB64_MAX_CPUS], g_starts[LIB64_MAX_CPUS];
static volatile uint32_t g_turn[LIB64_MAX_CPUS];
static volatile uint32_t g_ring_left, g_ring_done, g_acks, g_turn_done, g_ready, g_quit;
static volatile uint32_t g_fail;
static uint64_t g_tsc_khz;

static inline volatile uint32_t *xapic(unsigned reg)
{
    return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg * 16);
}

static unsigned apic_id(void)
{
    return g_x2apic ? (unsigned)rdmsr(X2APIC_MSR + REG_ID) : *xapic(REG_ID) >> 24;
}

static void apic_write(unsigned reg, uint32_t v)
{
    if (g_x2apic)
        wrmsr(X2APIC_MSR + reg, v);
    else
        *xapic(reg) = v;
}

static inline uint64_t irq_save(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
    return f;
}

static inline void irq_restore(uint64_t f)
{
    if (f & RFLAGS_IF)
        __asm__ volatile("sti" : : : "memory");
}

/* One IPI; interrupts off so a handler's own IPI cannot split the xAPIC's
 * two ICR writes. */
static void send_ipi(unsigned dest, uint32_t lo)
{
    uint64_t f = irq_save();
    if (g_x2apic) {
        wrmsr(X2APIC_MSR + REG_ICR_LO, ((uint64_t)dest << 32) | lo);
    } else {
        *xapic(REG_ICR_HI) = dest << 24;
        *xapic(REG_ICR_LO) = lo;
    }
    irq_restore(f);
}

/* Spins until *p reaches want or about `ms` of guest time passed. */
static bool wait_for(volatile uint32_t *p, uint32_t want, uint32_t ms)
{
    uint64_t t0 = rdtsc(), limit = g_tsc_khz * ms;
    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < want) {
        if (rdtsc() - t0 > limit)
            return false;
        cpu_relax();
    }
    return true;
}

static void fail(const char *what, unsigned cpu, uint32_t got, uint32_t want)
{
    printf("smp64: FAIL %s on cpu %u: %u of %u\n", what, cpu, got, want);
    __atomic_store_n(&g_fail, 1, __ATOMIC_RELEASE);
}

void smp64_irq(unsigned vec)
{
    unsigned me = apic_id();
    if (me >= LIB64_MAX_CPUS)
        me = 0;
    switch (vec) {
    case VEC_RING:
        g_ring[me]++;
        if (__atomic_sub_fetch(&g_ring_left, 1, __ATOMIC_ACQ_REL) > 0)
            send_ipi((me + 1) % g_n, ICR_FIXED | VEC_RING);
        else
            __atomic_store_n(&g_ring_done, 1, __ATOMIC_RELEASE);
        break;
    case VEC_SHOOT:
        g_shot[me]++;
        __atomic_add_fetch(&g_acks, 1, __ATOMIC_ACQ_REL);
        break;
    case VEC_TURN:
        g_turn[me] = 1;
        break;
    default:
        break;
    }
    apic_write(REG_EOI, 0);
}

static void set_gate(unsigned vec, void (*fn)(void))
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    uint64_t h = (uint64_t)(uintptr_t)fn;
    volatile uint32_t *g = (volatile uint32_t *)(uintptr_t)(idtr.base + vec * 16);
    g[0] = (uint32_t)(SEL_KCODE << 16) | (uint16_t)h;
    g[1] = (uint32_t)(h & 0xffff0000u) | 0x8e00u; /* present, DPL 0, interrupt gate */
    g[2] = (uint32_t)(h >> 32);
    g[3] = 0;
}

/* One shootdown: IPI everyone else, wait until all of them answered. */
static void shootdown(unsigned me)
{
    uint32_t want = g_n - 1;
    __atomic_store_n(&g_acks, 0, __ATOMIC_RELEASE);
    send_ipi(0, ICR_FIXED | ICR_ALL_BUT_SELF | VEC_SHOOT);
    if (!wait_for(&g_acks, want, 5000))
        fail("shootdown answers", me, g_acks, want);
}

static void enable_apic(void)
{
    if (g_x2apic)
        wrmsr(0x1b, rdmsr(0x1b) | (1u << 10)); /* xAPIC -> x2APIC */
    apic_write(REG_SVR, 0x1ff);
}

static void ap_main(unsigned cpu)
{
    g_starts[cpu]++;
    enable_apic();
    __atomic_add_fetch(&g_ready, 1, __ATOMIC_ACQ_REL);
    for (;;) {
        __asm__ volatile("cli" : : : "memory");
        if (g_quit)
            break;
        if (g_turn[cpu]) {
            g_turn[cpu] = 0;
            __asm__ volatile("sti" : : : "memory");
            shootdown(cpu);
            __atomic_store_n(&g_turn_done, 1, __ATOMIC_RELEASE);
            continue;
        }
        __asm__ volatile("sti; hlt" : : : "memory"); /* back to back: no lost wake-up */
    }
    halt_forever();
}

static void print_counts(const char *what, volatile uint32_t *c)
{
    printf("smp64: %s:", what);
    for (unsigned i = 0; i < g_n; i++)
        printf(" cpu%u %u", i, c[i]);
    printf("\n");
}

static void check_counts(const char *what, volatile uint32_t *c, uint32_t want)
{
    for (unsigned i = 0; i < g_n; i++)
        if (c[i] != want)
            fail(what, i, c[i], want);
}

/* AP 1 never started: NMIs to it and an INIT must not make its CPU spin. */
static void nmi_wait(void)
{
    *xapic(REG_SVR) = 0x1ff;
    send_ipi(1, ICR_NMI);
    send_ipi(1, ICR_INIT);
    send_ipi(1, ICR_NMI);
    send_ipi(1, ICR_NMI);
    printf("smp64: nmi and init sent to waiting cpu 1, halting\n");
    halt_forever();
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    static char mode[16];
    (void)magic;
    (void)mbi;
    g_n = cmdline_get_u32("vcpus", 4);
    g_rounds = cmdline_get_u32("rounds", 20);
    if (g_n < 2 || g_n > LIB64_MAX_CPUS || !g_rounds) {
        printf("smp64: FAIL bad vcpus=%u or rounds=%u\n", g_n, g_rounds);
        guest_exit(2);
    }
    int32_t khz = hypercall(HC_GET_TSC_KHZ, 0, 0, 0, 0);
    g_tsc_khz = khz > 0 ? (uint32_t)khz : 1000000u;
    bool have_mode = cmdline_get("mode", mode, sizeof(mode));
    if (have_mode && !strcmp(mode, "nmi-wait"))
        nmi_wait();
    if (have_mode && !strcmp(mode, "spin"))
        smp64_spin(cmdline_get_u32("spin_ms", 200), g_tsc_khz);
    if (have_mode && !strcmp(mode, "init-bsp")) {
        printf("smp64: init-bsp: starting\n");
        smp64_init_bsp(g_tsc_khz);
    }

    bool want_x2 = cmdline_get_u32("x2apic", 0) != 0;
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (want_x2 && !(c & (1u << 21))) {
        printf("smp64: FAIL x2apic=1 but CPUID.1:ECX.x2APIC is clear\n");
        guest_exit(1);
    }
    set_gate(VEC_RING, smp64_irq64);
    set_gate(VEC_SHOOT, smp64_irq65);
    set_gate(VEC_TURN, smp64_irq66);
    set_gate(VEC_WAKE, smp64_irq67);

    printf("smp64: starting %u vcpus with INIT-SIPI-SIPI back to back\n", g_n);
    unsigned up = 1 + smp_start_aps_back_to_back(g_n, ap_main);
    printf("smp64: %u of %u cpus online\n", up, g_n);
    if (up != g_n || !wait_for(&g_ready, g_n - 1, 5000)) {
        fail("cpus online", 0, up, g_n);
        guest_exit(1);
    }
    /* INIT while it runs (halted in its idle loop), SIPI right after. */
    unsigned last = g_n - 1;
    if (!smp_restart_ap_back_to_back(last) || !wait_for(&g_ready, g_n, 5000) || g_starts[last] != 2)
        fail("restart by INIT-SIPI-SIPI", last, g_starts[last], 2);
    else
        printf("smp64: cpu %u restarted by INIT-SIPI-SIPI while running\n", last);

    if (want_x2) {
        /* Every CPU switches itself: the APs when they next start. */
        g_x2apic = true;
        g_ready = 0;
        for (unsigned i = 1; i < g_n; i++) /* through the xAPIC ICR, still */
            if (!smp_restart_ap_back_to_back(i))
                fail("restart for x2apic", i, 0, 1);
        if (!wait_for(&g_ready, g_n - 1, 5000))
            fail("x2apic ready", 0, g_ready, g_n - 1);
        enable_apic();
        printf("smp64: x2apic mode, ICR through MSR 0x830\n");
    }
    __asm__ volatile("sti" : : : "memory");

    /* The ring: rounds laps, one IPI in flight at a time. */
    __atomic_store_n(&g_ring_left, g_rounds * g_n, __ATOMIC_RELEASE);
    send_ipi(1, ICR_FIXED | VEC_RING);
    if (!wait_for(&g_ring_done, 1, 20000))
        fail("ring", 0, g_ring_left, 0);
    print_counts("ring ipis received", g_ring);
    check_counts("ring ipis received", g_ring, g_rounds);

    /* Shootdowns: each vCPU in turn, rounds times. */
    for (unsigned r = 0; r < g_rounds && !g_fail; r++) {
        shootdown(0);
        for (unsigned i = 1; i < g_n && !g_fail; i++) {
            __atomic_store_n(&g_turn_done, 0, __ATOMIC_RELEASE);
            send_ipi(i, ICR_FIXED | VEC_TURN);
            if (!wait_for(&g_turn_done, 1, 10000))
                fail("shootdown turn", i, 0, 1);
        }
    }
    print_counts("shootdown ipis received", g_shot);
    check_counts("shootdown ipis received", g_shot, g_rounds * (g_n - 1));

    g_quit = 1;
    send_ipi(0, ICR_FIXED | ICR_ALL_BUT_SELF | VEC_WAKE);
    if (g_fail)
        guest_exit(1);
    printf("smp64: PASS %u vcpus, %u rounds%s\n", g_n, g_rounds, g_x2apic ? ", x2apic" : "");
    guest_exit(0);
}
