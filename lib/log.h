/* Levelled logging into an in-memory ring (read back by the console's `log`)
 * and into registered output sinks (serial port, port 0xE9). */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stddef.h>

enum log_level {
    LOG_ERR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
    LOG_TRACE = 4,
};

typedef void (*log_sink_fn)(const char *s, size_t n);

void log_set_level(int level);
int log_get_level(void);
/* Parses "err|warn|info|debug|trace" or a digit; -1 when unknown. */
int log_level_from_name(const char *name, size_t len);
const char *log_level_name(int level);
int log_add_sink(log_sink_fn fn);

/* Messages above the current level go to the ring only. */
void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Raw text to the ring and every sink, whatever the level (banner, panics). */
void log_puts(const char *s, size_t n);
/* Text to the sinks only (console replies, which do not belong in the log). */
void log_sinks_write(const char *s, size_t n);
/* In a panic: stop taking the lock so a stuck holder cannot silence us. */
void log_enter_panic(void);

/* Copies ring contents from *pos on; returns bytes copied and advances *pos.
 * A reader that fell behind by more than the ring size skips ahead. */
size_t log_ring_read(unsigned long long *pos, char *buf, size_t len);
unsigned long long log_ring_head(void);

#define pr_err(...)   log_write(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define pr_trace(...) log_write(LOG_TRACE, __VA_ARGS__)

#endif
