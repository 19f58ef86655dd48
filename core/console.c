#include "core/console.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h"
#include "core/api_http.h"
#include "core/command.h"
#include "core/cmd_define.h"
#include "core/command_split.h"
#include "core/lineedit.h"
#include "core/netconsole.h"
#include "drivers/uart16550.h"
#include "vm/vm.h"
#include "vm/vm_output.h"
#include "lib/log.h"
#include "lib/string.h"

#define PROMPT         "bulkhead> "
#define SCRIPT_MAX     2048
#define POLL_PERIOD_US 20000 /* wake the console CPU this often when it waits */
#define POLL_BUSY_US   5000  /* ... or this often while guest output waits */
/* Guest output bytes per console turn (~22 ms at 115200 baud): a typed
 * command waits for at most about that much output before it runs. */
#define DRAIN_PER_TURN 256
/* Queued, not waited for: a turn costs ~16 us of CPU a line (in Bochs), so
 * at most ~0.5 ms, and turns come often enough to keep the line busy. */
#define DRAIN_QUEUED_PER_TURN 512
/* Queued output is kept to about this much (~45 ms of the line, while
 * console turns come every 10 ms at most): what a command typed meanwhile
 * waits for before its answer shows. */
#define QUEUE_AHEAD          512
#define FLUSH_BEFORE_COMMAND 4096 /* at most ~0.35 s of queued output before a command */
#define CTRL_C               0x03
#define CTRL_RBRACKET        0x1d /* leaves an attached console, as in virsh */

enum console_mode {
    MODE_PROMPT,
    MODE_WAITING, /* a command's condition is pending */
    MODE_ATTACHED,
    MODE_FOLLOW_LOG,
};

static struct lineedit editor;
static enum console_mode mode;
static volatile bool prompt_visible;
static char script[SCRIPT_MAX];
static bool script_typed; /* the script is a line typed at the prompt */
static size_t script_pos, script_len;

static bool (*wait_done)(void *);
static void (*wait_timeout)(void *);
static void *wait_ctx;
static uint64_t wait_deadline;

static struct vm *attached;
static struct define_input define_in; /* `define` typed at the serial console */
static int pending_rx = -1;
static unsigned long long follow_pos;
static struct timer wake_timer;
static bool wake_armed;

/* Set on the console CPU inside console_poll: what the console writes
 * there comes after all queued output, in order. Outside a command's run
 * (queue_writes) it is queued for the UART's interrupt instead of waited
 * for (guest output, the prompt, the echo of typed keys), so a guest
 * sharing this CPU keeps it and gets its timer ticks on time. A command
 * writes and waits: it may stop the machine right after. */
static bool in_console;
static bool queue_writes;

static void raw_write(const char *s, size_t n)
{
    if (!in_console || this_cpu_id() != 0) {
        /* A log line from anywhere else (an exit handler, another CPU):
         * out of band, as it was before guest output had a queue, but never
         * inside a guest's line, and without waiting for the whole queue. */
        uart_write_between_lines(s, n);
        return;
    }
    if (queue_writes && uart_write_queued(s, n))
        return;
    uart_write(s, n);
}

/* Output while the prompt shows replaces the prompt's line; the console
 * draws the prompt and the line being edited again below it at its next
 * step (console_poll, poll_prompt_input). */
void console_sink(const char *s, size_t n)
{
    char buf[sizeof(LINEEDIT_HIDE) - 1 + 1024];
    const size_t hide = sizeof(LINEEDIT_HIDE) - 1;
    if (__atomic_exchange_n(&prompt_visible, false, __ATOMIC_ACQ_REL)) {
        if (n > sizeof(buf) - hide) {
            lineedit_hide(&editor);
        } else { /* one write: the console CPU's redraw cannot come between */
            memcpy(buf, LINEEDIT_HIDE, hide);
            memcpy(buf + hide, s, n);
            s = buf;
            n += hide;
        }
    }
    raw_write(s, n);
}

static void editor_write(void *ctx, const char *s, size_t n)
{
    raw_write(s, n);
}

static void wake(struct timer *t, void *arg)
{
    wake_armed = false;
}

void console_init(void)
{
    /* Guests on this CPU exit at least twice per receive-FIFO fill time, so
     * the receive interrupt is taken in time whatever they do (percpu.h). */
    if (uart_rx_interrupt_enabled())
        this_cpu()->guest_run_max_tsc = tsc_khz() * uart_rx_fifo_fill_us() / 2000;
    lineedit_init(&editor, editor_write, NULL);
    timer_setup(&wake_timer, wake, NULL);
    mode = MODE_PROMPT;
}

void console_run_script(const char *s)
{
    size_t n = strlen(s);
    if (script_len - script_pos + n + 2 > SCRIPT_MAX) {
        pr_err("exec: script longer than %d bytes ignored", SCRIPT_MAX);
        return;
    }
    /* Compact, then append with a separator. */
    memmove(script, script + script_pos, script_len - script_pos);
    script_len -= script_pos;
    script_pos = 0;
    if (script_len)
        script[script_len++] = ';';
    memcpy(script + script_len, s, n);
    script_len += n;
}

static bool next_script_command(char *line, size_t len)
{
    const char *p = script + script_pos, *end = script + script_len;
    enum command_split_result r;
    while ((r = command_split_next(&p, end, line, len)) != SPLIT_END) {
        script_pos = (size_t)(p - script);
        if (r == SPLIT_COMMAND)
            return true;
        cprintf("error: command longer than %zu bytes skipped\n", len - 1);
    }
    script_pos = script_len = 0;
    script_typed = false;
    return false;
}

void console_wait(bool (*done)(void *), void (*on_timeout)(void *), void *ctx,
                  uint64_t deadline_tsc)
{
    if (netconsole_in_command()) { /* a network session's command */
        netconsole_wait(done, on_timeout, ctx, deadline_tsc);
        return;
    }
    wait_done = done;
    wait_timeout = on_timeout;
    wait_ctx = ctx;
    wait_deadline = deadline_tsc;
    mode = MODE_WAITING;
}

bool console_attach(struct vm *vm)
{
    if (netconsole_in_command())
        return netconsole_attach(vm);
    if (vm->attached || netconsole_attached()) { /* one attached console at a time */
        cprintf("error: a VM console is attached elsewhere (one at a time)\n");
        return false;
    }
    attached = vm;
    vm_output_set_attached(vm);
    vm->attached = true;
    vm->uarts[0].raw = true;
    pending_rx = -1;
    mode = MODE_ATTACHED;
    return true;
}

void *console_wait_scratch(void)
{
    static uint64_t scratch[CONSOLE_WAIT_SCRATCH / 8];
    if (netconsole_in_command())
        return netconsole_wait_scratch();
    return scratch;
}

bool console_serial_attached(void)
{
    return attached != NULL;
}

struct define_input *console_define_input(void)
{
    if (netconsole_in_command())
        return netconsole_define_input();
    return &define_in;
}

void console_follow_log(void)
{
    if (netconsole_in_command()) {
        netconsole_follow_log();
        return;
    }
    follow_pos = log_ring_head();
    mode = MODE_FOLLOW_LOG;
}

static void detach(const char *why)
{
    if (attached) {
        attached->uarts[0].raw = false;
        attached->attached = false;
    }
    attached = NULL;
    vm_output_set_attached(NULL);
    mode = MODE_PROMPT;
    cprintf("\n%s\n", why);
}

static void run_line(const char *line, bool typed)
{
    __atomic_store_n(&prompt_visible, false, __ATOMIC_RELEASE);
    /* What happened before the command shows before its output (a script's
     * `wait x shutoff; list` lists after the stop line): bounded, so a VM
     * flooding the console cannot hold a command up for long. A typed line
     * had its flush before Enter was echoed (poll_prompt_input). */
    queue_writes = false;
    if (!typed)
        vm_output_flush(FLUSH_BEFORE_COMMAND);
    vm_output_set_direct(true);
    command_run_line(line);
    vm_output_set_direct(false);
    queue_writes = true;
}

/* Typed while a command waits: kept for the prompt (type-ahead). */
static char typeahead[256];
static unsigned ta_head, ta_len;

static int next_input(void)
{
    if (ta_len) {
        int c = (unsigned char)typeahead[ta_head];
        ta_head = (ta_head + 1) % sizeof(typeahead);
        ta_len--;
        return c;
    }
    return uart_getc();
}

/* Input while a command waits or the log is followed: Ctrl-C aborts it,
 * anything else waits for the prompt. */
static void poll_busy_input(void)
{
    int c;
    while ((c = uart_getc()) >= 0) {
        if (c == CTRL_C) {
            cprintf("^C\n");
            mode = MODE_PROMPT;
            script_pos = script_len = 0; /* abort the rest of a script too */
            script_typed = false;
            ta_len = 0;
            return;
        }
        if (ta_len < sizeof(typeahead)) {
            typeahead[(ta_head + ta_len) % sizeof(typeahead)] = (char)c;
            ta_len++;
        }
    }
}

static void poll_attached(void)
{
    int c;
    if (!attached || (attached->state != VM_RUNNING && attached->state != VM_PAUSED)) {
        detach("console: the VM stopped; detached");
        return;
    }
    for (;;) {
        if (pending_rx < 0 && (pending_rx = uart_getc()) < 0)
            break;
        c = pending_rx;
        if (c == CTRL_RBRACKET) {
            pending_rx = -1;
            detach("console: detached");
            return;
        }
        if (!vm_uart_input(attached, (uint8_t)c))
            break; /* the guest's FIFO is full: keep the byte for later */
        pending_rx = -1;
    }
}

static void poll_follow_log(void)
{
    char buf[256];
    size_t n;
    poll_busy_input();
    while ((n = log_ring_read(&follow_pos, buf, sizeof(buf))) > 0)
        raw_write(buf, n);
}

static void show_prompt(void)
{
    if (mode == MODE_PROMPT && !__atomic_load_n(&prompt_visible, __ATOMIC_ACQUIRE)) {
        lineedit_redraw(&editor, define_in.active ? DEFINE_PROMPT : PROMPT);
        __atomic_store_n(&prompt_visible, true, __ATOMIC_RELEASE);
    }
}

/* Scripted commands (exec=, or a typed line with `;`) run one after the
 * other; one that waits (sleep, wait, console, log -f) holds the rest. */
static void run_script(void)
{
    char line[CMD_LINE_MAX];
    while (mode == MODE_PROMPT && next_script_command(line, sizeof(line)))
        run_line(line, script_typed);
}

static void poll_prompt_input(void)
{
    int c;
    while (mode == MODE_PROMPT && (c = next_input()) >= 0) {
        if (c == '\r' || c == '\n') /* above the line about to run, not inside its output */
            vm_output_flush(DRAIN_PER_TURN);
        show_prompt(); /* output came since the last key: draw the line again first */
        enum lineedit_event ev = lineedit_feed(&editor, (char)c);
        if (ev == LE_NONE)
            continue;
        __atomic_store_n(&prompt_visible, false, __ATOMIC_RELEASE);
        if (define_in.active) { /* lines of a `define` (not split at ';') */
            if (ev == LE_LINE)
                define_console_line(&define_in, lineedit_line(&editor));
            else
                define_console_abort(&define_in,
                                     ev == LE_INTERRUPT ? "cancelled" : "line too long");
        } else if (ev == LE_LINE) {
            console_run_script(lineedit_line(&editor));
            script_typed = true;
            run_script();
        } else if (ev == LE_TOO_LONG) {
            cprintf("error: line longer than %d characters: not run\n", LINEEDIT_MAX);
        }
        show_prompt();
    }
}

/* Re-armed on every pass: the console also has work that no interrupt
 * announces (guest output queued by other CPUs, VMs stopping), so it looks
 * at least once per POLL_PERIOD_US even while the CPU would sleep. */
static void arm_wake_timer(bool busy)
{
    uint64_t us = busy ? POLL_BUSY_US : POLL_PERIOD_US;
    wake_armed = true;
    timer_add(&wake_timer, rdtsc() + tsc_khz() * us / 1000);
}

/* Input must never vanish silently: say when the UART lost bytes. */
static void report_lost_input(void)
{
    static unsigned long long reported;
    unsigned long long lost = uart_rx_lost();
    if (lost != reported) {
        pr_warn("console: input lost (%llu receive overruns or full-buffer bytes so far)", lost);
        reported = lost;
    }
}

static struct console_drain_stats drain_stats;

static size_t queue_room(void)
{
    return uart_tx_queued() < QUEUE_AHEAD ? uart_tx_room() : 0;
}

/* Guest output for this turn. With a transmit queue: only what it takes
 * without waiting (the rest waits for the next turn, about 5 ms later at
 * most: arm_wake_timer); busy-waiting here would hold a guest on this CPU
 * out for ~22 ms per 256 bytes, and a Linux guest's periodic tick, re-armed
 * from its handler, would lose that time: its jiffies fall behind its TSC
 * and it marks the TSC unstable. Without one: DRAIN_PER_TURN, waiting. */
static void drain_output(void)
{
    uint64_t t0 = rdtsc();
    unsigned n;
    if (!uart_tx_queue_enabled()) {
        n = vm_output_drain(DRAIN_PER_TURN);
    } else {
        uart_tx_pump(); /* in case an interrupt edge was missed */
        n = vm_output_drain_fitting(DRAIN_QUEUED_PER_TURN, queue_room);
    }
    if (!n)
        return;
    uint64_t d = rdtsc() - t0;
    drain_stats.turns++;
    drain_stats.bytes += n;
    drain_stats.cycles += d;
    if (d > drain_stats.longest)
        drain_stats.longest = d;
}

void console_drain_stats(struct console_drain_stats *out)
{
    *out = drain_stats;
    out->queued = uart_tx_queue_enabled();
}

static void console_step(void)
{
    netconsole_poll();
    api_http_poll();
    report_lost_input();
    drain_output();
    bool more_output = vm_output_pending() || uart_tx_queued() != 0;
    vm_lifecycle_poll();
    arm_wake_timer(more_output);
    switch (mode) {
    case MODE_ATTACHED:
        poll_attached();
        return;
    case MODE_FOLLOW_LOG:
        poll_follow_log();
        if (mode == MODE_FOLLOW_LOG)
            return;
        break;
    case MODE_WAITING:
        poll_busy_input();
        if (mode != MODE_WAITING)
            break;
        if (wait_done(wait_ctx)) {
            mode = MODE_PROMPT;
        } else if (rdtsc() >= wait_deadline) {
            mode = MODE_PROMPT;
            if (wait_timeout)
                wait_timeout(wait_ctx);
        } else {
            return;
        }
        break;
    case MODE_PROMPT:
        break;
    }
    /* Scripted commands run before the prompt takes input. */
    run_script();
    if (mode != MODE_PROMPT)
        return;
    show_prompt();
    poll_prompt_input();
}

void console_poll(void)
{
    in_console = queue_writes = true;
    console_step();
    in_console = queue_writes = false;
}
