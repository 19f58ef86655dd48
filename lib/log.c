#include "lib/log.h"

#include <stdarg.h>
#include <stdint.h>

#include "lib/format.h"
#include "lib/spinlock.h"
#include "lib/string.h"

#define LOG_RING_SIZE (64 * 1024)
#define LOG_MAX_SINKS 4
#define LOG_LINE_MAX  512
/* Bounded: a CPU interrupted while holding the lock must not deadlock itself. */
#define LOG_LOCK_TRIES 2000000

static char ring[LOG_RING_SIZE];
static unsigned long long ring_head; /* total bytes ever written */
static log_sink_fn sinks[LOG_MAX_SINKS];
static int nr_sinks;
static int current_level = LOG_INFO;
static spinlock_t log_lock = SPINLOCK_INIT;
static volatile int in_panic;

static const char *const level_names[] = {"err", "warn", "info", "debug", "trace"};

void log_set_level(int level)
{
    if (level >= LOG_ERR && level <= LOG_TRACE)
        current_level = level;
}

int log_get_level(void)
{
    return current_level;
}

const char *log_level_name(int level)
{
    if (level < LOG_ERR || level > LOG_TRACE)
        return "?";
    return level_names[level];
}

int log_level_from_name(const char *name, size_t len)
{
    if (len == 1 && name[0] >= '0' && name[0] <= '4')
        return name[0] - '0';
    for (int i = 0; i <= LOG_TRACE; i++)
        if (strlen(level_names[i]) == len && !strncmp(level_names[i], name, len))
            return i;
    if (len == 7 && !strncmp(name, "warning", 7))
        return LOG_WARN;
    if (len == 5 && !strncmp(name, "error", 5))
        return LOG_ERR;
    return -1;
}

int log_add_sink(log_sink_fn fn)
{
    if (nr_sinks >= LOG_MAX_SINKS)
        return -1;
    sinks[nr_sinks++] = fn;
    return 0;
}

void log_enter_panic(void)
{
    in_panic = 1;
}

static int lock_log(void)
{
    if (in_panic)
        return 0;
    for (long i = 0; i < LOG_LOCK_TRIES; i++) {
        if (spin_trylock(&log_lock))
            return 1;
        __builtin_ia32_pause();
    }
    return 0;
}

static void emit(const char *s, size_t n, int to_sinks)
{
    int locked = lock_log();
    for (size_t i = 0; i < n; i++)
        ring[(ring_head + i) % LOG_RING_SIZE] = s[i];
    ring_head += n;
    if (to_sinks)
        for (int i = 0; i < nr_sinks; i++)
            sinks[i](s, n);
    if (locked)
        spin_unlock(&log_lock);
}

void log_sinks_write(const char *s, size_t n)
{
    int locked = lock_log();
    for (int i = 0; i < nr_sinks; i++)
        sinks[i](s, n);
    if (locked)
        spin_unlock(&log_lock);
}

void log_puts(const char *s, size_t n)
{
    emit(s, n, 1);
}

void log_write(int level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    size_t off = 0;
    va_list ap;

    if (level == LOG_ERR)
        off = (size_t)fmt_snprintf(line, sizeof(line), "error: ");
    else if (level == LOG_WARN)
        off = (size_t)fmt_snprintf(line, sizeof(line), "warning: ");
    va_start(ap, fmt);
    int n = fmt_vsnprintf(line + off, sizeof(line) - off, fmt, ap);
    va_end(ap);
    size_t len = off + (size_t)n;
    if (len >= sizeof(line) - 1) {
        len = sizeof(line) - 2;
        line[len] = '\0';
    }
    if (len == 0 || line[len - 1] != '\n') {
        line[len++] = '\n';
        line[len] = '\0';
    }
    emit(line, len, level <= current_level);
}

unsigned long long log_ring_head(void)
{
    return ring_head;
}

size_t log_ring_read(unsigned long long *pos, char *buf, size_t len)
{
    unsigned long long head = ring_head;
    if (*pos > head)
        *pos = head;
    if (head - *pos > LOG_RING_SIZE)
        *pos = head - LOG_RING_SIZE;
    size_t n = 0;
    while (n < len && *pos < head) {
        buf[n++] = ring[*pos % LOG_RING_SIZE];
        (*pos)++;
    }
    return n;
}
