/* kernel_main: brings the machine up in root mode, in dependency order. */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/panic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/platform.h"
#include "boot/mb2info.h"
#include "core/banner.h"
#include "core/cmdline.h"
#include "core/boot_vms.h"
#include "core/command.h"
#include "core/console.h"
#include "core/netconsole.h"
#include "net/net.h"
#include "drivers/fbcon.h"
#include "core/power.h"
#include "core/sched.h"
#include "core/vmspec.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/spec_ctrl.h"
#include "loader/modules.h"
#include "hvm/backend.h"
#include "vcpu/hvm.h"
#include "vm/vm.h"
#include "vm/vm_output.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "drivers/uart16550.h"
#include "drivers/vtd.h"
#include "drivers/vtd_sm.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/memmap.h"
#include "mm/pmm.h"

extern char __image_start[], __image_end[];

static struct boot_info boot_info;
static struct cmdline cmdline;
static char errbuf[160];

static void sink_e9(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        outb(0xe9, (uint8_t)s[i]);
}

static void *phys_to_virt(uint64_t phys)
{
    return (void *)phys;
}

static const void *acpi_map(uint64_t phys, uint64_t len)
{
    /* Tables live in RAM or reserved ranges below the identity-mapped top;
     * make sure anything else (high MMIO-ish ranges) is mapped first. */
    if (phys + len < phys)
        return NULL;
    if (paging_root() && paging_map_mmio(phys, len))
        return NULL;
    return (const void *)phys;
}

static bool want_fb;

/* console=UART[,fb] or fb[,UART]: "fb" adds the screen (the serial port
 * stays: COM1 when no other is named). */
static void apply_console_option(void)
{
    const char *v = cmdline_get(&cmdline, "console");
    struct uart_config cfg;
    if (!v)
        return;
    size_t len = strlen(v);
    if (len >= 2 && !strcmp(v + len - 2, "fb") && (len == 2 || v[len - 3] == ',')) {
        want_fb = true;
        len = len > 2 ? len - 3 : 0;
    } else if (!strncmp(v, "fb,", 3)) {
        want_fb = true;
        v += 3;
        len -= 3;
    }
    if (!len)
        return;
    if (uart_parse_console(v, len, &cfg)) {
        pr_err("console=%s: expected com1, com2, 0xPORT or mmio,0xADDR; keeping com1", v);
        return;
    }
    uart_init(&cfg);
}

static void apply_options(void)
{
    const char *v;
    if ((v = cmdline_get(&cmdline, "loglevel"))) {
        int l = log_level_from_name(v, strlen(v));
        if (l < 0)
            pr_err("loglevel=%s: expected err, warn, info, debug or trace", v);
        else
            log_set_level(l);
    }
    if ((v = cmdline_get(&cmdline, "panic"))) {
        if (!strcmp(v, "halt"))
            panic_set_policy(PANIC_HALT);
        else if (!strcmp(v, "reboot"))
            panic_set_policy(PANIC_REBOOT);
        else if (!strcmp(v, "poweroff"))
            panic_set_policy(PANIC_POWEROFF);
        else
            pr_err("panic=%s: expected halt, reboot or poweroff", v);
    }
    if ((v = cmdline_get(&cmdline, "vmx.preemption_timer")))
        hvm_set_option("vmx.preemption_timer", v);
    if ((v = cmdline_get(&cmdline, "vmx.apicv")))
        hvm_set_option("vmx.apicv", v);
    if ((v = cmdline_get(&cmdline, "iommu.qi"))) {
        if (!strcmp(v, "off"))
            vtd_use_queued_invalidation = false;
        else if (strcmp(v, "on"))
            pr_err("iommu.qi=%s: expected on or off", v);
    }
    if ((v = cmdline_get(&cmdline, "iommu.mode")) && vtd_sm_parse_mode(v, &vtd_want_scalable))
        pr_err("iommu.mode=%s: expected legacy or scalable", v);
    if ((v = cmdline_get(&cmdline, "net.irq"))) {
        if (!strcmp(v, "off"))
            net_use_irq = false;
        else if (strcmp(v, "on"))
            pr_err("net.irq=%s: expected on or off", v);
    }
    if ((v = cmdline_get(&cmdline, "spec.force")) && spec_ctrl_parse_force(v, &spec_force))
        pr_err("spec.force=%s: expected a comma-separated list of verw, bhb_clear, l1d_flush", v);
    if ((v = cmdline_get(&cmdline, "poweroff"))) {
        if (!strcmp(v, "acpi"))
            power_set_acpi_only(true);
        else
            pr_err("poweroff=%s: expected acpi", v);
    }
}

static void setup_memory(void)
{
    unsigned n = boot_info.nr_mmap;
    struct mem_region *map = boot_info.mmap;

    if (memmap_normalize(map, &n, MB2_MAX_REGIONS))
        panic("memory map: cannot normalise %u regions", boot_info.nr_mmap);
    boot_info.nr_mmap = n;
    /* Reservations first: the allocator places its own table around them. */
    pmm_reserve((uint64_t)__image_start, (uint64_t)(__image_end - __image_start), "hypervisor");
    pmm_reserve(boot_info.mbi_phys, boot_info.mbi_size, "boot information");
    for (unsigned i = 0; i < boot_info.nr_modules; i++)
        pmm_reserve(boot_info.modules[i].start,
                    boot_info.modules[i].end - boot_info.modules[i].start, "boot module");
    if (pmm_init(map, n, phys_to_virt))
        panic("memory: no usable memory for the page allocator");
    struct banner_facts f = {memmap_usable_bytes(map, n), memmap_usable_count(map, n)};
    banner_set_facts(&f);
    paging_init(map, n);
    percpu_guard_boot_stacks();
}

static void ap_scheduler(void)
{
    sched_cpu_loop(false, NULL);
}

static void uart_irq(struct irq_frame *f, void *arg)
{
    uart_rx_interrupt();
}

static void setup_uart_interrupt(void)
{
    const struct uart_config *c = uart_get_config();
    int vec;
    if (c->mmio || !c->irq || (vec = irq_alloc_vector()) < 0)
        return;
    irq_register((uint8_t)vec, uart_irq, NULL);
    if (ioapic_route_isa_irq(c->irq, (uint8_t)vec, 0) == 0)
        uart_enable_rx_interrupt();
}

/* `test.fault=pf|gp|ud`: a deliberate fault for the panic-report tests. */
static void run_test_fault(void)
{
    const char *v = cmdline_get(&cmdline, "test.fault");
    if (!v)
        return;
    pr_info("test.fault=%s: raising it now", v);
    uintptr_t addr = 0;
    if (!strcmp(v, "pf"))
        addr = 0x10; /* page 0 is never mapped */
    else if (!strcmp(v, "gp"))
        addr = 0x8000000000000000ULL; /* non-canonical */
    /* Hide the address from the compiler, which would reject the access. */
    __asm__ volatile("" : "+r"(addr));
    if (addr)
        (void)*(volatile uint64_t *)addr;
    else if (0)
        ;
    else if (!strcmp(v, "ud"))
        __asm__ volatile("ud2");
    else
        pr_err("test.fault=%s: expected pf, gp or ud", v);
}

/* console=fb: the log so far, then everything after it, on the screen. */
static void start_fb_console(void)
{
    const struct mb2_tag_framebuffer *t = &boot_info.fb;
    if (!want_fb)
        return;
    if (t->fb_type != MB2_FB_TYPE_RGB) {
        pr_warn("console=fb: the boot loader gave no linear RGB framebuffer; serial only");
        return;
    }
    const struct mb2_fb_rgb *c = &boot_info.fb_rgb;
    struct fb_info fb = {t->addr,       t->pitch,    t->width,    t->height,
                         t->bpp,        c->red_pos,  c->red_size, c->green_pos,
                         c->green_size, c->blue_pos, c->blue_size};
    if (fbcon_boot_init(&fb, errbuf, sizeof(errbuf))) {
        pr_warn("console=fb: framebuffer at 0x%llx: %s; serial only", (unsigned long long)t->addr,
                errbuf);
        return;
    }
    char buf[256];
    size_t n;
    unsigned long long pos = 0;
    while ((n = log_ring_read(&pos, buf, sizeof(buf))) > 0)
        fbcon_write(buf, n);
    log_add_sink(fbcon_write);
    pr_info("fb: %ux%u, %u bpp at 0x%llx: the console is on the screen too", t->width, t->height,
            t->bpp, (unsigned long long)t->addr);
}

__attribute__((noreturn)) void kernel_main(uint32_t magic, uint32_t mbi);
void kernel_main(uint32_t magic, uint32_t mbi)
{
    struct uart_config com1 = {false, 0x3f8, 0, 115200, 4};
    struct percpu *bsp = percpu_boot_cpu();

    idt_init();
    percpu_init_cpu(bsp);
    uart_init(&com1);
    log_add_sink(console_sink);
    log_add_sink(netconsole_sink);
    if (inb(0xe9) == 0xe9)
        log_add_sink(sink_e9);

    if (mb2_parse(magic, (const void *)(uintptr_t)mbi, mbi, &boot_info, errbuf, sizeof(errbuf)))
        panic("%s", errbuf);
    if (cmdline_parse(boot_info.cmdline, &cmdline, errbuf, sizeof(errbuf)))
        pr_err("command line: %s; options ignored", errbuf);
    apply_console_option();
    apply_options();
    power_init();
    pr_info("bulkhead: booting (loader %s)", boot_info.loader_name ? boot_info.loader_name : "?");

    setup_memory();
    start_fb_console();
    if (acpi_init(&acpi, boot_info.rsdp_len ? boot_info.rsdp : NULL, boot_info.rsdp_len, acpi_map,
                  errbuf, sizeof(errbuf)))
        pr_warn("acpi: %s", errbuf);
    for (unsigned i = 0; i < boot_info.nr_modules; i++)
        guest_modules_add(boot_info.modules[i].name, boot_info.modules[i].start,
                          boot_info.modules[i].end);
    platform_init_interrupts();
    hvm_init();
    sched_init();
    power_register_shutdown_hook(hvm_disable_all_cpus);
    ap_idle_hook = ap_scheduler;
    platform_start_aps();
    pci_init();
    banner_print();
    vtd_init();
    setup_uart_interrupt();
    irq_enable();
    run_test_fault();

    console_init();
    bool vms_ran = hvm_cpu_enable() == 0;
    if (vms_ran) {
        boot_vms_from_config(&cmdline);
        boot_vms_from_cmdline(&cmdline);
    } else if (cmdline_get(&cmdline, "vm") || guest_module_find("bulkhead.cfg")) {
        pr_warn("vms: none can run: %s %s", vcpu_backend->name,
                hvm_available() ? "failed to start" : hvm_unavailable_reason());
    }
    netconsole_boot(!vms_ran); /* (with VMX, boot_vms.c reported the file's errors) */
    const char *script = cmdline_get(&cmdline, "exec");
    if (script)
        console_run_script(script);
    sched_cpu_loop(true, console_poll);
}
