/* hostile: one attack on the hypervisor per run, chosen by attack=. Prints
 * "hostile: attack NAME", attacks, and, if it is still running, prints
 * "hostile: survived NAME" and stops itself with code 0. See
 * docs/test-guests.md for what each attack expects from the hypervisor. */
#include "tests/guests/lib/guest.h"

/* ring-3 code in user.S */
void user_vmcall(void);
void user_ac_loop(void);
extern const char user_vmcall_insn[], user_ac_insn[], user_ac_after[];

static const char *g_attack;
static uint8_t g_user_stack[4096] __attribute__((aligned(16)));
static uint8_t g_page[4096] __attribute__((aligned(4096)));

#define USER_STACK_TOP ((void *)(g_user_stack + sizeof(g_user_stack)))

static __attribute__((noreturn)) void survived(void)
{
    printf("hostile: survived %s\n", g_attack);
    guest_exit(0);
}

/* Runs one instruction that may fault: the default trap handler resumes
 * after it and records the vector. Evaluates to the vector, or -1. ECX is
 * free for the instruction to use. */
#define TRY_ASM(insn, ...)                                                                         \
    ({                                                                                             \
        trap_last_vector = -1;                                                                     \
        __asm__ volatile("movl $1f, %[resume]\n\t" insn "\n1:\tmovl $0, %[resume]"                 \
                         : [resume] "=m"(trap_resume_eip)                                          \
                         : __VA_ARGS__                                                             \
                         : "memory", "ecx");                                                       \
        trap_last_vector;                                                                          \
    })

static const char *outcome(int vec)
{
    return vec < 0 ? "ok" : vector_name((unsigned)vec);
}

/* ---- memory ---- */

static void attack_outside_ram(void)
{
    uint32_t addrs[2] = {0x40000000u, 0};
    int n = 1;
    char buf[16];
    if (cmdline_get("addr", buf, sizeof(buf)) && parse_u32(buf, &addrs[1]))
        n++;

    printf("hostile: ram ends at 0x%x\n", ram_end());
    for (int i = 0; i < n; i++) {
        volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)addrs[i];
        printf("hostile: write 0x%x\n", addrs[i]);
        *p = 0xdeadbeefu;
        uint32_t v = *p;
        printf("hostile: outside-ram 0x%x reads back 0x%x\n", addrs[i], v);
    }
}

static void attack_hv_memory(void)
{
    uint32_t addr = cmdline_get_u32("addr", 0x01000000u);
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)addr;

    printf("hostile: ram ends at 0x%x, reading 0x%x\n", ram_end(), addr);
    uint32_t w0 = p[0], w1 = p[1], w2 = p[2], w3 = p[3];
    printf("hostile: hv-memory 0x%x: %08x %08x %08x %08x\n", addr, w0, w1, w2, w3);
}

/* ---- I/O ports ---- */

static void show_inb(uint16_t port)
{
    printf("hostile: inb 0x%x -> 0x%02x\n", port, inb(port));
}

static void attack_io_ports(void)
{
    show_inb(0x60); /* keyboard data */
    show_inb(0x64); /* keyboard status */
    printf("hostile: inl 0xcf8 -> 0x%08x\n", inl(0xcf8));
    outl(0xcf8, 0x80000000u); /* 00:00.0 vendor/device */
    printf("hostile: inl 0xcfc -> 0x%08x\n", inl(0xcfc));
    outb(0x70, 0x00); /* CMOS seconds */
    show_inb(0x71);
    show_inb(0x70);
    printf("hostile: inw 0x1f0 -> 0x%04x\n", inw(0x1f0));
    show_inb(0x1f7); /* ATA status */
    show_inb(0xe9);  /* Bochs/QEMU debug port */
    show_inb(0x80);  /* POST code */
    show_inb(0x92);  /* fast A20 / reset */
    show_inb(0xcf9); /* reset control */
    show_inb(0x2f8); /* COM2: not this VM's */

    /* Writes that reset or reconfigure a real machine. */
    printf("hostile: outb 0xe9 <- 0x21\n");
    outb(0xe9, '!');
    printf("hostile: outl 0xcfc <- 0xffffffff (00:00.0 BAR0)\n");
    outl(0xcf8, 0x80000010u);
    outl(0xcfc, 0xffffffffu);
    printf("hostile: outb 0x64 <- 0xfe (keyboard controller reset)\n");
    outb(0x64, 0xfe);
    printf("hostile: outb 0xcf9 <- 0x06 (hard reset)\n");
    outb(0xcf9, 0x06);
    printf("hostile: outb 0xcf9 <- 0x0e (full reset)\n");
    outb(0xcf9, 0x0e);
    printf("hostile: outb 0x92 <- 0x01 (fast reset)\n");
    outb(0x92, 0x01);
}

/* ---- MSRs ---- */

static int try_wrmsr(uint32_t msr, uint64_t val)
{
    /* MSR index goes in ECX, which TRY_ASM reserves: load it inside. */
    return TRY_ASM("movl %[msr], %%ecx\n\twrmsr", [msr] "r"(msr), "a"((uint32_t)val),
                   "d"((uint32_t)(val >> 32)));
}

static int try_rdmsr(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    trap_last_vector = -1;
    __asm__ volatile("movl $1f, %[resume]\n\trdmsr\n1:\tmovl $0, %[resume]"
                     : [resume] "=m"(trap_resume_eip), "+a"(lo), "+d"(hi)
                     : "c"(msr)
                     : "memory");
    *val = ((uint64_t)hi << 32) | lo;
    return trap_last_vector;
}

/* A write the hypervisor absorbs into the VM's own state reads back as
 * written: print what the VM sees after each MTRR write. */
static void msr_read_back(uint32_t msr, uint64_t wrote)
{
    uint64_t v;
    int vec = try_rdmsr(msr, &v);
    if (vec >= 0)
        printf("hostile: rdmsr 0x%x after the write -> %s\n", msr, outcome(vec));
    else
        printf("hostile: rdmsr 0x%x after the write -> ok 0x%llx (%s)\n", msr, v,
               v == wrote ? "as written" : "NOT as written");
}

static void attack_msr(void)
{
    static const struct {
        uint32_t msr;
        uint64_t val;
        const char *what;
    } writes[] = {
        {0x3a, 0x5, "IA32_FEATURE_CONTROL: lock, VMX on"},
        {0x79, 0, "IA32_BIOS_UPDT_TRIG: load microcode"},
        {0x2ff, 0, "IA32_MTRR_DEF_TYPE: MTRRs off, all UC"},
        {0x200, 0x6, "IA32_MTRR_PHYSBASE0: WB at 0"},
        {0x10, 0, "IA32_TSC: reset"},
        {0x12345678, 1, "unknown MSR"},
    };
    int gp = 0;
    uint64_t v;

    desc_init();
    int vec = try_rdmsr(0x3a, &v);
    printf("hostile: rdmsr 0x3a -> %s 0x%llx\n", outcome(vec), vec < 0 ? v : 0);
    for (unsigned i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        uint32_t msr = writes[i].msr;
        uint64_t val = writes[i].val;
        if (msr == 0x79)
            val = (uint32_t)(uintptr_t)g_page; /* a "microcode update" of zeros */
        printf("hostile: wrmsr 0x%x (%s)\n", msr, writes[i].what);
        uint64_t tsc_before = rdtsc();
        vec = try_wrmsr(msr, val);
        uint64_t tsc_after = rdtsc();
        gp += vec == VEC_GP;
        printf("hostile: wrmsr 0x%x -> %s\n", msr, outcome(vec));
        if (vec < 0 && (msr == 0x2ff || msr == 0x200))
            msr_read_back(msr, val);
        /* Absorbed, the write restarts this VM's TSC near 0: it reads less
         * after the write than before. Refused, the TSC goes on. */
        if (msr == 0x10)
            printf("hostile: tsc 0x%llx before the write, 0x%llx after (%s)\n", tsc_before,
                   tsc_after, tsc_after < tsc_before ? "restarted" : "went on");
    }
    vec = try_rdmsr(0x12345678, &v);
    gp += vec == VEC_GP;
    if (vec < 0)
        printf("hostile: rdmsr 0x12345678 -> ok 0x%llx\n", v);
    else
        printf("hostile: rdmsr 0x12345678 -> %s\n", outcome(vec));
    printf("hostile: msr #GP count %d\n", gp);
}

/* ---- VMX instructions ---- */

static void attack_vmx(void)
{
    uint32_t p = (uint32_t)(uintptr_t)g_page;
    int vec[10], all_ud = 1;
    static const char *const names[10] = {
        "vmxon",  "vmptrld", "vmclear",  "vmread",   "vmwrite",
        "invept", "invvpid", "vmlaunch", "vmresume", "vmxoff",
    };

    desc_init();
    g_page[0] = 1; /* a plausible VMCS revision id */
    vec[0] = TRY_ASM("vmxon (%[p])", [p] "r"(p));
    vec[1] = TRY_ASM("vmptrld (%[p])", [p] "r"(p));
    vec[2] = TRY_ASM("vmclear (%[p])", [p] "r"(p));
    vec[3] = TRY_ASM("vmread %[p], %%ecx", [p] "r"(0x681e)); /* GUEST_RIP */
    vec[4] = TRY_ASM("movl $0x681e, %%ecx\n\tvmwrite %[p], %%ecx", [p] "r"(p));
    vec[5] = TRY_ASM("movl $2, %%ecx\n\tinvept (%[p]), %%ecx", [p] "r"(p));
    vec[6] = TRY_ASM("movl $2, %%ecx\n\tinvvpid (%[p]), %%ecx", [p] "r"(p));
    vec[7] = TRY_ASM("vmlaunch", [p] "r"(p));
    vec[8] = TRY_ASM("vmresume", [p] "r"(p));
    vec[9] = TRY_ASM("vmxoff", [p] "r"(p));
    for (int i = 0; i < 10; i++) {
        printf("hostile: %s -> %s\n", names[i], outcome(vec[i]));
        if (vec[i] != VEC_UD)
            all_ud = 0;
    }
    printf("hostile: vmx instruction -> %s\n", all_ud ? "#UD" : "NOT always #UD");
}

static void attack_vmx_noidt(void)
{
    uint32_t p = (uint32_t)(uintptr_t)g_page;
    load_empty_idt(); /* the injected #UD now triple-faults */
    __asm__ volatile("vmxon (%0)" : : "r"(p) : "memory");
}

/* ---- hypercall arguments ---- */

/* A bad call the hypervisor accepted would have read memory that is not
 * the VM's. */
static void hc_must_fail(const char *what, int32_t r)
{
    if (r >= 0)
        printf("hostile: BREACH hc-badptr: %s accepted (%d)\n", what, r);
}

static void attack_hc_badptr(void)
{
    static const char msg[] = "hostile: hc-badptr console write\n";
    uint32_t end = ram_end();
    int32_t r;

    r = hc_console_write((uint32_t)(uintptr_t)msg, sizeof(msg) - 1);
    printf("hostile: hc-badptr valid -> %d\n", r);
    r = hc_console_write(0xfffff000u, 64);
    printf("hostile: hc-badptr outside 0xfffff000+64 -> %d\n", r);
    hc_must_fail("outside", r);
    r = hc_console_write((uint32_t)(uintptr_t)msg, 0x7fffffffu);
    printf("hostile: hc-badptr huge length 0x7fffffff -> %d\n", r);
    hc_must_fail("huge length", r);
    /* Inside RAM up to its end: none of it may be printed. */
    memcpy((void *)(uintptr_t)(end - 16), "straddle-the-end", 16);
    r = hc_console_write(end - 16, 64);
    printf("hostile: hc-badptr straddle 0x%x+64 (ram ends 0x%x) -> %d\n", end - 16, end, r);
    hc_must_fail("straddle", r);
    r = hc_console_write(0xffffffc0u, 0x80);
    printf("hostile: hc-badptr wrap 0xffffffc0+0x80 -> %d\n", r);
    hc_must_fail("wrap", r);
    r = hypercall(0x7fffffffu, 0, 0, 0, 0);
    printf("hostile: hc-badptr unknown call 0x7fffffff -> %d\n", r);
    hc_must_fail("unknown call", r);
}

/* ---- VMCALL from ring 3 ---- */

static void cpl3_ud(struct trap_frame *f)
{
    set_trap_handler(VEC_UD, NULL); /* a later #UD (no hypervisor) is fatal */
    if (f->eip == (uint32_t)(uintptr_t)user_vmcall_insn && (f->cs & 3) == 3) {
        printf("hostile: vmcall from cpl3 -> #UD\n");
        survived();
    }
    printf("hostile: unexpected #UD at eip 0x%x cs 0x%x\n", f->eip, f->cs);
    guest_exit(0x106);
}

static void cpl3_returned(struct trap_frame *f)
{
    printf("hostile: vmcall from cpl3 returned %d (not refused!)\n", (int32_t)f->eax);
    guest_exit(1);
}

static void attack_hc_cpl3(void)
{
    desc_init();
    set_trap_handler(VEC_UD, cpl3_ud);
    set_trap_handler(VEC_SYSCALL, cpl3_returned);
    printf("hostile: entering ring 3\n");
    enter_ring3(user_vmcall, USER_STACK_TOP, 0x2);
}

/* ---- triple fault ---- */

static void attack_triple_fault(void)
{
    char how[8] = "ud2";
    cmdline_get("how", how, sizeof(how));
    printf("hostile: triple-fault via %s with an empty IDT\n", how);
    load_empty_idt();
    if (strcmp(how, "int3") == 0)
        __asm__ volatile("int3");
    else
        __asm__ volatile("ud2");
}

/* ---- exception storms ---- */

static uint64_t g_db, g_ac;
static uint32_t g_storm_left = 100000, g_storm_limit;
static bool g_ac_skip;

static void storm_tick(struct trap_frame *f)
{
    if (--g_storm_left == 0) {
        g_storm_left = 100000;
        printf("hostile: ex-storm %llu exceptions (#DB %llu, #AC %llu)\n", g_db + g_ac, g_db, g_ac);
    }
    if (g_storm_limit && g_db + g_ac >= g_storm_limit) {
        f->eflags &= ~EFLAGS_TF;
        printf("hostile: ex-storm limit %u reached (#DB %llu, #AC %llu)\n", g_storm_limit, g_db,
               g_ac);
        survived();
    }
}

/* Returns with TF still set in the saved EFLAGS: the next instruction traps
 * again. */
static void storm_db(struct trap_frame *f)
{
    g_db++;
    storm_tick(f);
}

/* Returning to the same misaligned load re-raises #AC at once; with TF on
 * skip it so single-steps interleave. */
static void storm_ac(struct trap_frame *f)
{
    g_ac++;
    if (g_ac_skip && f->eip == (uint32_t)(uintptr_t)user_ac_insn)
        f->eip = (uint32_t)(uintptr_t)user_ac_after;
    storm_tick(f);
}

static void attack_ex_storm(void)
{
    char kind[8] = "both";
    cmdline_get("kind", kind, sizeof(kind));
    g_storm_limit = cmdline_get_u32("limit", 0);

    desc_init();
    set_trap_handler(VEC_DB, storm_db);
    set_trap_handler(VEC_AC, storm_ac);
    printf("hostile: ex-storm kind %s\n", kind);
    if (strcmp(kind, "db") == 0) {
        /* Ring 0: every instruction of this loop single-steps. */
        __asm__ volatile("pushfl\n\torl %0, (%%esp)\n\tpopfl\n"
                         "2:\tincl %%eax\n\tjmp 2b"
                         :
                         : "i"(EFLAGS_TF)
                         : "eax", "memory");
    }
    /* #AC needs CPL 3 with CR0.AM and EFLAGS.AC. */
    write_cr0(read_cr0() | CR0_AM);
    if (strcmp(kind, "ac") == 0) {
        enter_ring3(user_ac_loop, USER_STACK_TOP, 0x2 | EFLAGS_AC);
    }
    g_ac_skip = true;
    enter_ring3(user_ac_loop, USER_STACK_TOP, 0x2 | EFLAGS_AC | EFLAGS_TF);
}

/* ---- dispatch ---- */

static const struct {
    const char *name;
    void (*fn)(void);
} g_attacks[] = {
    {"outside-ram", attack_outside_ram},
    {"hv-memory", attack_hv_memory},
    {"io-ports", attack_io_ports},
    {"msr", attack_msr},
    {"vmx", attack_vmx},
    {"vmx-noidt", attack_vmx_noidt},
    {"hc-badptr", attack_hc_badptr},
    {"hc-cpl3", attack_hc_cpl3},
    {"triple-fault", attack_triple_fault},
    {"ex-storm", attack_ex_storm},
};

void guest_main(uint32_t magic, uint32_t mbi)
{
    static char name[32];
    (void)magic;
    (void)mbi;

    if (!cmdline_get("attack", name, sizeof(name)))
        name[0] = '\0';
    for (unsigned i = 0; i < sizeof(g_attacks) / sizeof(g_attacks[0]); i++) {
        if (strcmp(name, g_attacks[i].name) != 0)
            continue;
        g_attack = g_attacks[i].name;
        printf("hostile: attack %s\n", g_attack);
        g_attacks[i].fn();
        survived();
    }
    printf("hostile: unknown attack '%s'; one of:", name);
    for (unsigned i = 0; i < sizeof(g_attacks) / sizeof(g_attacks[0]); i++)
        printf(" %s", g_attacks[i].name);
    printf("\n");
    guest_exit(2);
}
