/* Guest console output: one buffer per VM plus one for lifecycle events
 * (see vm_output.h). Records carry a global sequence number; the drain
 * always takes the oldest showable record, so lines come out in the order
 * they were produced. Exit handlers only append under the buffer's lock. */
#include "vm/vm_output.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "vm/outq.h"
#include "vm/vm.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/spinlock.h"

#define EVENT_BUDGET     (32 * 1024) /* lifecycle lines are few but must not be lost */
#define REPORT_PERIOD_MS 1000        /* at most one "lines dropped" warning per VM per second */

enum { REC_LINE, REC_RAW, REC_EVENT };

struct out_buffer {
    spinlock_t lock;
    struct outq q;
    bool ready;
    bool muted;
    uint64_t reported;    /* `refused` when the last warning was printed */
    uint64_t reported_at; /* TSC of that warning */
};

static struct out_buffer vm_bufs[MAX_VMS];
static char vm_storage[MAX_VMS][VM_OUTPUT_BUDGET];
static struct out_buffer event_buf;
static char event_storage[EVENT_BUDGET];
static uint64_t next_seq;
static struct vm *attached;
static bool direct;

static struct out_buffer *buffer_of(const struct vm *vm)
{
    return vm && vm->id < MAX_VMS ? &vm_bufs[vm->id] : NULL;
}

/* Call with b->lock held. */
static void ready(struct out_buffer *b)
{
    if (b->ready)
        return;
    if (b == &event_buf)
        outq_init(&b->q, event_storage, sizeof(event_storage));
    else
        outq_init(&b->q, vm_storage[b - vm_bufs], VM_OUTPUT_BUDGET);
    b->ready = true;
}

static void enqueue(struct out_buffer *b, unsigned kind, const char *data, unsigned len)
{
    if (!b || !len)
        return;
    spin_lock(&b->lock);
    ready(b);
    if (!(b->muted && kind == REC_LINE)) {
        uint64_t seq = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED);
        if (kind == REC_RAW)
            outq_append(&b->q, seq, kind, data, len);
        else
            outq_put(&b->q, seq, kind, data, len);
    }
    spin_unlock(&b->lock);
}

static void enqueue_formatted(struct out_buffer *b, unsigned kind, char *buf, int n, size_t size)
{
    if (n < 0)
        return;
    if ((size_t)n >= size) { /* cut: still a whole line, ending in a newline */
        n = (int)size - 1;
        buf[n - 1] = '\n';
    }
    enqueue(b, kind, buf, (unsigned)n);
}

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
    enqueue_formatted(buffer_of(vm), REC_LINE, buf, n, sizeof(buf));
}

void vm_output_raw(struct vm *vm, const char *bytes, unsigned len)
{
    enqueue(buffer_of(vm), REC_RAW, bytes, len);
}

void vm_output_set_direct(bool on)
{
    direct = on;
}

void vm_output_set_attached(struct vm *vm)
{
    __atomic_store_n(&attached, vm, __ATOMIC_RELEASE);
}

void vm_output_set_muted(struct vm *vm, bool muted)
{
    struct out_buffer *b = buffer_of(vm);
    if (!b)
        return;
    spin_lock(&b->lock);
    b->muted = muted;
    spin_unlock(&b->lock);
}

bool vm_output_muted(const struct vm *vm)
{
    struct out_buffer *b = buffer_of(vm);
    return b && b->muted;
}

unsigned long long vm_output_dropped(const struct vm *vm)
{
    struct out_buffer *b = buffer_of(vm);
    return b ? b->q.refused : 0;
}

void vm_output_new_owner(const struct vm *vm)
{
    struct out_buffer *b = buffer_of(vm);
    if (!b)
        return;
    spin_lock(&b->lock);
    b->muted = false;
    b->q.refused = 0;
    b->reported = 0;
    b->reported_at = 0;
    spin_unlock(&b->lock);
}

/* The buffer holding the oldest record the console may show now (attached:
 * only that VM's), or NULL. */
static struct out_buffer *oldest(uint64_t before)
{
    struct out_buffer *best = NULL;
    uint64_t best_seq = before;
    struct vm *only = __atomic_load_n(&attached, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i <= MAX_VMS; i++) {
        struct out_buffer *b = i < MAX_VMS ? &vm_bufs[i] : &event_buf;
        if (only && b != buffer_of(only))
            continue;
        struct outq_rec r;
        spin_lock(&b->lock);
        bool have = b->ready && outq_peek(&b->q, &r);
        spin_unlock(&b->lock);
        if (have && r.seq < best_seq) {
            best = b;
            best_seq = r.seq;
        }
    }
    return best;
}

/* Writes the oldest showable record older than `before`; its length, or
 * 0 when there is none or (room given) it would not fit in room() bytes:
 * each newline may become two bytes, and the sink may add a few. */
static unsigned write_one_fitting(uint64_t before, size_t (*room)(void))
{
    char buf[OUTQ_REC_MAX];
    struct outq_rec r;
    struct out_buffer *b = oldest(before);
    if (!b)
        return 0;
    spin_lock(&b->lock);
    /* Only the console CPU consumes: the oldest record stays the oldest. */
    if (room && outq_peek(&b->q, &r) && 2 * (size_t)r.len + VM_OUTPUT_SINK_EXTRA > room()) {
        spin_unlock(&b->lock);
        return 0;
    }
    unsigned n = outq_get(&b->q, &r, buf, sizeof(buf));
    bool muted = b->muted;
    spin_unlock(&b->lock);
    if (!n)
        return OUTQ_HEADER; /* an empty record: count it as work done */
    if (r.kind == REC_RAW)
        log_sinks_write(buf, n); /* the guest's own bytes: not for the log ring */
    else if (!(muted && r.kind == REC_LINE))
        log_puts(buf, n);
    return n;
}

static unsigned write_one(uint64_t before)
{
    return write_one_fitting(before, NULL);
}

static void report_drops(void)
{
    uint64_t now = rdtsc(), period = tsc_khz() * REPORT_PERIOD_MS;
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++) {
        struct out_buffer *b = &vm_bufs[i];
        if (!vms[i])
            continue;
        uint64_t refused = __atomic_load_n(&b->q.refused, __ATOMIC_RELAXED);
        if (refused == b->reported || (b->reported_at && now - b->reported_at < period))
            continue;
        pr_warn("console: vm %s: %llu output lines dropped so far (more than %u bytes waiting; "
                "see 'stats')",
                vms[i]->cfg.name, (unsigned long long)refused, VM_OUTPUT_BUDGET);
        b->reported = refused;
        b->reported_at = now;
    }
}

unsigned vm_output_drain_fitting(unsigned max_bytes, size_t (*room)(void))
{
    unsigned done = 0, n;
    while (done < max_bytes && (n = write_one_fitting(UINT64_MAX, room)))
        done += n;
    if (!__atomic_load_n(&attached, __ATOMIC_ACQUIRE))
        report_drops();
    static uint64_t events_reported;
    uint64_t lost = __atomic_load_n(&event_buf.q.refused, __ATOMIC_RELAXED);
    if (lost != events_reported) {
        pr_warn("console: %llu lifecycle lines dropped so far (more than %u bytes waiting)",
                (unsigned long long)lost, EVENT_BUDGET);
        events_reported = lost;
    }
    return done;
}

unsigned vm_output_drain(unsigned max_bytes)
{
    return vm_output_drain_fitting(max_bytes, NULL);
}

void vm_output_flush(unsigned max_bytes)
{
    uint64_t now = __atomic_load_n(&next_seq, __ATOMIC_ACQUIRE);
    unsigned done = 0, n;
    while (done < max_bytes && (n = write_one(now)))
        done += n;
}

bool vm_output_pending(void)
{
    return oldest(UINT64_MAX) != NULL;
}

void vm_output_event(const char *line)
{
    char buf[300];
    int n = fmt_snprintf(buf, sizeof(buf), "%s\n", line);
    if (direct && this_cpu_id() == 0 && n > 0) {
        /* A console command's own event: in order, right away (after at
         * most every VM's budget of older lines). */
        vm_output_flush(~0U);
        log_puts(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
        return;
    }
    enqueue_formatted(&event_buf, REC_EVENT, buf, n, sizeof(buf));
}
