/* Guest console output: exit handlers queue whole lines here; the console
 * CPU drains them to the physical UART, so no exit handler waits on it. */
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/percpu.h"
#include "guest/vm.h"
#include "guest/vm_output.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/spinlock.h"

#define OUTQ_SIZE (32 * 1024)

static char outq[OUTQ_SIZE];
static unsigned long long head, tail; /* bytes written, bytes drained */
static spinlock_t outq_lock = SPINLOCK_INIT;
static unsigned long long dropped;

static void enqueue(const char *buf, int n);

void vm_console_output(struct vm *vm, const char *line, unsigned len)
{
    vm_console_output_tty(vm, 0, line, len);
}

void vm_console_output_tty(struct vm *vm, unsigned tty, const char *line, unsigned len)
{
    char buf[VM_NAME_MAX + 300];
    int n = tty ? fmt_snprintf(buf, sizeof(buf), "[%s:ttyS%u] %.*s\n", vm->cfg.name, tty, (int)len,
                               line)
                : fmt_snprintf(buf, sizeof(buf), "[%s] %.*s\n", vm->cfg.name, (int)len, line);
    enqueue(buf, n);
}

void vm_output_event(const char *line)
{
    char buf[300];
    int n = fmt_snprintf(buf, sizeof(buf), "%s\n", line);
    if (this_cpu_id() == 0 && n > 0) {
        /* On the console CPU (console commands): in order, right away. */
        vm_output_drain();
        log_puts(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
        return;
    }
    enqueue(buf, n);
}

void vm_output_raw(const char *bytes, unsigned len)
{
    enqueue(bytes, (int)len);
}

static void enqueue(const char *buf, int n)
{
    if (n < 0)
        return;
    if (n > 299)
        n = 299;
    spin_lock(&outq_lock);
    if (head - tail + (unsigned)n > OUTQ_SIZE) {
        dropped++; /* the console is far behind: lose this line, count it */
    } else {
        for (int i = 0; i < n; i++)
            outq[(head + (unsigned)i) % OUTQ_SIZE] = buf[i];
        head += (unsigned)n;
    }
    spin_unlock(&outq_lock);
    /* The console CPU may be asleep in its idle loop: wake it to drain. */
    if (this_cpu_id() != 0)
        ipi_resched(0);
}

bool vm_output_pending(void)
{
    return head != tail;
}

void vm_output_drain(void)
{
    char chunk[256];
    for (;;) {
        spin_lock(&outq_lock);
        unsigned n = 0;
        /* One whole line per write, so log lines never land inside it. */
        while (n < sizeof(chunk) && tail < head) {
            char c = outq[tail++ % OUTQ_SIZE];
            chunk[n++] = c;
            if (c == '\n')
                break;
        }
        unsigned long long lost = dropped;
        dropped = 0;
        spin_unlock(&outq_lock);
        if (lost)
            pr_warn("console: %llu guest output lines dropped (console too slow)", lost);
        if (!n)
            return;
        log_puts(chunk, n);
    }
}
