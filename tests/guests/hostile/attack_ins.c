/* attack=ins-ro: string port input into pages the caller may not write.
 *
 * The guest turns on 32-bit paging (CR0.WP set) with three adjacent pages:
 * user read-write, user read-only and supervisor-only. A ring-3 process
 * with IOPL 3 (so it owns every port, as a process given ports by its
 * kernel) then runs `rep insb` from the vUART's scratch register, an
 * emulated port, into each; ring 0 does the same into the read-only page.
 * The hypervisor emulates INS and must walk the guest's page tables as the
 * CPU would: the forbidden cases get #PF with the CPU's error code and CR2
 * and leave the page untouched; the allowed ones work. */
#include "tests/guests/lib/guest.h"

#include "tests/guests/hostile/attacks.h"

#define SCRATCH_PORT 0x3ff /* the vUART at 0x3f8: a register that holds a byte */
#define FILL         0xa5
#define SENTINEL     0x5a

static uint32_t g_pd[1024] __attribute__((aligned(4096)));
static uint32_t g_pt[1024] __attribute__((aligned(4096)));
/* [0] user read-write, [1] user read-only, [2] supervisor read-write. */
static uint8_t g_pages[3][4096] __attribute__((aligned(4096)));
static uint8_t g_ins_stack[4096] __attribute__((aligned(16)));
static volatile uint32_t g_cr2, g_err;
static int g_breaches;

static inline uint32_t read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void pf_handler(struct trap_frame *f)
{
    g_cr2 = read_cr2();
    g_err = f->error;
    if (!trap_resume_eip) {
        printf("hostile: unexpected #PF at eip 0x%x cr2 0x%x error 0x%x\n", f->eip, g_cr2,
               f->error);
        guest_exit(0x10e);
    }
    trap_last_vector = VEC_PF;
    f->eip = trap_resume_eip;
    trap_resume_eip = 0;
}

/* rep insb of count bytes to dst; returns the vector (or -1), *left the
 * ECX the instruction stopped with. */
static int try_rep_insb(void *dst, uint32_t count, uint32_t *left)
{
    uint32_t c = count;
    void *d = dst;
    trap_last_vector = -1;
    g_cr2 = g_err = 0;
    __asm__ volatile("movl $1f, %[resume]\n\tcld\n\trep insb\n1:\tmovl $0, %[resume]"
                     : [resume] "=m"(trap_resume_eip), "+c"(c), "+D"(d)
                     : "d"(SCRATCH_PORT)
                     : "memory");
    *left = c;
    return trap_last_vector;
}

static int try_rep_outsb(const void *src, uint32_t count)
{
    uint32_t c = count;
    const void *s = src;
    trap_last_vector = -1;
    g_cr2 = g_err = 0;
    __asm__ volatile("movl $1f, %[resume]\n\tcld\n\trep outsb\n1:\tmovl $0, %[resume]"
                     : [resume] "=m"(trap_resume_eip), "+c"(c), "+S"(s)
                     : "d"(SCRATCH_PORT)
                     : "memory");
    return trap_last_vector;
}

static unsigned count_bytes(const uint8_t *p, unsigned n, uint8_t val)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        k += p[i] == val;
    return k;
}

static void breach(const char *what, uint32_t a, uint32_t b)
{
    printf("hostile: BREACH ins-ro: %s (0x%x, 0x%x)\n", what, a, b);
    g_breaches++;
}

/* One forbidden rep insb: #PF with `err` at `fault_at`, and only the first
 * `allowed` bytes (those before the forbidden page) written. A supervisor
 * page cannot be read back from ring 3: ring 0 checks it at the end. */
static void expect_fault(const char *what, uint8_t *dst, uint32_t count, uint32_t allowed,
                         uint32_t err, uint8_t *fault_at)
{
    uint32_t left;
    int vec = try_rep_insb(dst, count, &left);
    bool readable = dst != g_pages[2];
    unsigned written = readable ? count_bytes(dst, count, FILL) : 0;
    printf("hostile: ins-ro %s -> %s error 0x%x cr2 0x%x, ecx %u, %u bytes written\n", what,
           vec < 0 ? "ok" : vector_name((unsigned)vec), g_err, g_cr2, left, written);
    if (vec != VEC_PF)
        breach("rep insb into a forbidden page did not fault", (uint32_t)vec, 0);
    else if (g_err != err || g_cr2 != (uint32_t)(uintptr_t)fault_at)
        breach("wrong #PF error code or CR2", g_err, g_cr2);
    if (readable &&
        (written != allowed || count_bytes(fault_at, count - allowed, SENTINEL) != count - allowed))
        breach("forbidden page was written", written, allowed);
    if (vec == VEC_PF && left != count - allowed)
        breach("ECX does not count the bytes left", left, count - allowed);
}

static void ring3_cases(void)
{
    uint32_t left;

    /* Control: a user read-write page takes the input. */
    int vec = try_rep_insb(g_pages[0], 16, &left);
    unsigned written = count_bytes(g_pages[0], 16, FILL);
    printf("hostile: ins-ro user rw page -> %s, ecx %u, %u bytes written\n",
           vec < 0 ? "ok" : vector_name((unsigned)vec), left, written);
    if (vec >= 0 || left || written != 16)
        printf("hostile: ins-ro allowed rep insb failed (vector %d)\n", vec);
    memset(g_pages[0], SENTINEL, sizeof(g_pages[0]));

    /* P|W|U: a user write to a present page it may not write. */
    expect_fault("cpl3 read-only page", g_pages[1], 16, 0, 7, g_pages[1]);
    expect_fault("cpl3 supervisor page", g_pages[2], 16, 0, 7, g_pages[2]);
    /* Across a page boundary: the first 8 bytes land, then #PF at the
     * read-only page with ECX counting what is left. */
    expect_fault("cpl3 rw->read-only straddle", g_pages[0] + 4096 - 8, 16, 8, 7, g_pages[1]);
    memset(g_pages[0], SENTINEL, sizeof(g_pages[0]));

    /* OUTS reads memory: a supervisor page is off limits to CPL 3 (P|U). */
    vec = try_rep_outsb(g_pages[2], 4);
    printf("hostile: ins-ro cpl3 outsb from supervisor page -> %s error 0x%x cr2 0x%x\n",
           vec < 0 ? "ok" : vector_name((unsigned)vec), g_err, g_cr2);
    if (vec != VEC_PF || g_err != 5 || g_cr2 != (uint32_t)(uintptr_t)g_pages[2])
        breach("rep outsb read a supervisor page from CPL 3", (uint32_t)vec, g_err);
    __asm__ volatile("int $0x80");
    for (;;)
        ;
}

static void back_in_ring0(struct trap_frame *f)
{
    (void)f;
    set_trap_handler(VEC_SYSCALL, NULL);
    set_trap_handler(VEC_PF, NULL);
    unsigned intact = count_bytes(g_pages[2], sizeof(g_pages[2]), SENTINEL);
    printf("hostile: ins-ro supervisor page intact: %u of 4096 bytes\n", intact);
    if (intact != sizeof(g_pages[2]))
        breach("the supervisor page was written from CPL 3", intact, 0);
    printf("hostile: ins-ro %d breaches\n", g_breaches);
    attack_survived();
}

void attack_ins_ro(void)
{
    desc_init();
    /* Identity-map the first 4 MiB (the guest and its stacks) as user RW. */
    for (unsigned i = 0; i < 1024; i++)
        g_pt[i] = (i << 12) | 7;
    g_pd[0] = (uint32_t)(uintptr_t)g_pt | 7;
    g_pt[(uint32_t)(uintptr_t)g_pages[1] >> 12] &= ~2u; /* read-only */
    g_pt[(uint32_t)(uintptr_t)g_pages[2] >> 12] &= ~4u; /* supervisor */
    memset(g_pages, SENTINEL, sizeof(g_pages));
    __asm__ volatile("mov %0, %%cr3" : : "r"(g_pd) : "memory");
    write_cr0(read_cr0() | 0x80010000u); /* PG and WP */
    set_trap_handler(VEC_PF, pf_handler);
    outb(SCRATCH_PORT, FILL);
    printf("hostile: ins-ro paging on; pages rw 0x%x, ro 0x%x, supervisor 0x%x\n",
           (uint32_t)(uintptr_t)g_pages[0], (uint32_t)(uintptr_t)g_pages[1],
           (uint32_t)(uintptr_t)g_pages[2]);

    /* Ring 0 with CR0.WP: a read-only page is read-only to the kernel too (P|W). */
    expect_fault("cpl0 read-only page with WP", g_pages[1], 16, 0, 3, g_pages[1]);

    set_trap_handler(VEC_SYSCALL, back_in_ring0);
    printf("hostile: ins-ro entering ring 3 with IOPL 3\n");
    enter_ring3(ring3_cases, g_ins_stack + sizeof(g_ins_stack), 0x3002);
}
