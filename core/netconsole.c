#include "core/netconsole.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "core/cmd_define.h"
#include "core/command.h"
#include "core/command_split.h"
#include "core/console.h"
#include "core/lineedit.h"
#include "vm/vm.h"
#include "vm/vm_output.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "net/login_limit.h"
#include "net/net.h"
#include "net/tcp_server.h"
#include "net/telnet.h"

#define PROMPT        "bulkhead> "
#define OUT_SIZE      (16 * 1024) /* per session; more is dropped (and said) */
#define IN_SIZE       2048        /* received, not yet processed */
#define PASSWORD_MAX  128
#define CTRL_C        0x03
#define CTRL_D        0x04
#define CTRL_RBRACKET 0x1d

enum state {
    S_FREE,
    S_PASSWORD,    /* reading the password */
    S_LOGIN_DELAY, /* after a wrong one: input ignored until delay_until */
    S_PROMPT,      /* logged in, at the prompt */
    S_WAITING,     /* a command waits (sleep, wait) */
    S_ATTACHED,    /* console NAME */
    S_FOLLOW_LOG,  /* log -f */
    S_CLOSING,     /* output flushes, then the connection closes */
};

struct session {
    enum state st;
    struct net_conn *conn;
    uint32_t peer;
    unsigned tries;
    bool skip_lf; /* the password ended with CR: an LF after it is part of that Enter */
    uint64_t last_input, delay_until, login_deadline; /* ms */
    struct telnet tn;
    struct lineedit le;
    char pw[PASSWORD_MAX + 1];
    unsigned pw_len;
    bool pw_long;
    uint8_t in[IN_SIZE];
    unsigned in_len;
    /* Output: written by the sink from any CPU, drained by the console CPU. */
    spinlock_t lock;
    char out[OUT_SIZE];
    unsigned out_head, out_len;
    unsigned long long out_dropped, out_dropped_told;
    volatile bool prompt_visible;
    /* The commands of a typed line, run one after the other. */
    char script[LINEEDIT_MAX + 1];
    unsigned script_pos, script_len;
    bool (*wait_done)(void *);
    void (*wait_timeout)(void *);
    void *wait_ctx;
    uint64_t wait_deadline; /* TSC */
    uint64_t wait_scratch[CONSOLE_WAIT_SCRATCH / 8];
    struct vm *attached;
    unsigned long long follow_pos;
    struct define_input def; /* lines of a `define` */
};

static struct session sessions[NETCONSOLE_MAX_CONNS];
static struct session *current; /* whose command runs now */
static struct pwhash password;
static struct login_limit limits;
static bool started;
static unsigned port;
static uint64_t login_ms, idle_ms; /* net.login_timeout, net.idle_timeout */

static uint64_t now_ms(void)
{
    uint64_t khz = tsc_khz();
    return khz ? rdtsc() / khz : 0;
}

static unsigned logged_in(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < NETCONSOLE_MAX_CONNS; i++)
        n += sessions[i].st >= S_PROMPT && sessions[i].st != S_CLOSING;
    return n;
}

/* ---- output ---- */

static bool lock_out(struct session *s, bool wait)
{
    /* The sink may run in an interrupt on this CPU or under the log lock on
     * another: never wait on a holder that may be us. */
    for (unsigned i = 0; i < (wait ? 100000u : 1000u); i++) {
        if (spin_trylock(&s->lock))
            return true;
        cpu_relax();
    }
    return false;
}

/* Appends n bytes, turning "\n" into "\r\n" unless raw. */
static void out_put_locked(struct session *s, const char *p, size_t n, bool raw)
{
    for (size_t i = 0; i < n; i++) {
        unsigned need = (!raw && p[i] == '\n') ? 2 : 1;
        if (s->out_len + need > OUT_SIZE) {
            s->out_dropped += n - i;
            return;
        }
        if (need == 2)
            s->out[(s->out_head + s->out_len++) % OUT_SIZE] = '\r';
        s->out[(s->out_head + s->out_len++) % OUT_SIZE] = p[i];
    }
}

static void out_write(struct session *s, const char *p, size_t n, bool raw)
{
    bool on = irq_enabled();
    irq_disable();
    if (lock_out(s, true)) {
        out_put_locked(s, p, n, raw);
        spin_unlock(&s->lock);
    } else {
        __atomic_fetch_add(&s->out_dropped, n, __ATOMIC_RELAXED);
    }
    if (on)
        irq_enable();
}

static void out_str(struct session *s, const char *p)
{
    out_write(s, p, strlen(p), false);
}

static void out_fmt(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct session *s, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    out_write(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, false);
}

static void editor_write(void *ctx, const char *p, size_t n)
{
    out_write(ctx, p, n, true); /* the editor writes its own CR LF */
}

static void command_out(void *ctx, const char *p, size_t n)
{
    out_write(ctx, p, n, false);
}

void netconsole_sink(const char *p, size_t n)
{
    if (!started)
        return;
    for (unsigned i = 0; i < NETCONSOLE_MAX_CONNS; i++) {
        struct session *s = &sessions[i];
        enum state st = __atomic_load_n(&s->st, __ATOMIC_ACQUIRE);
        /* The console's output is for logged-in sessions; one following the
         * log reads the ring itself; one attached gets only its VM's bytes,
         * which the output queue lets through alone then. */
        if (st != S_PROMPT && st != S_WAITING && st != S_ATTACHED)
            continue;
        if (!lock_out(s, false)) {
            __atomic_fetch_add(&s->out_dropped, n, __ATOMIC_RELAXED);
            continue;
        }
        if (st == S_PROMPT && __atomic_exchange_n(&s->prompt_visible, false, __ATOMIC_ACQ_REL))
            out_put_locked(s, LINEEDIT_HIDE, sizeof(LINEEDIT_HIDE) - 1, true);
        out_put_locked(s, p, n, st == S_ATTACHED);
        spin_unlock(&s->lock);
    }
}

/* Moves queued output into TCP as far as it has room. */
static void flush(struct session *s)
{
    char chunk[1024];
    for (;;) {
        size_t room = net_conn_space(s->conn);
        if (!room)
            return;
        bool on = irq_enabled();
        irq_disable();
        if (!lock_out(s, true)) {
            if (on)
                irq_enable();
            return;
        }
        unsigned n = s->out_len;
        if (n > sizeof(chunk))
            n = sizeof(chunk);
        if (n > room)
            n = (unsigned)room;
        for (unsigned i = 0; i < n; i++)
            chunk[i] = s->out[(s->out_head + i) % OUT_SIZE];
        spin_unlock(&s->lock);
        if (on)
            irq_enable();
        if (!n)
            return;
        size_t sent = net_conn_write(s->conn, chunk, n);
        irq_disable();
        if (lock_out(s, true)) {
            s->out_head = (s->out_head + (unsigned)sent) % OUT_SIZE;
            s->out_len -= (unsigned)sent;
            spin_unlock(&s->lock);
        }
        if (on)
            irq_enable();
        if (sent < n)
            return;
    }
}

/* ---- sessions ---- */

/* The VM console the session is attached to goes back to the console. */
static void release_vm(struct session *s)
{
    if (!s->attached)
        return;
    s->attached->uarts[0].raw = false;
    s->attached->attached = false;
    s->attached = NULL;
    vm_output_set_attached(NULL);
}

static void close_session(struct session *s, const char *why)
{
    if (why)
        out_fmt(s, "%s\n", why);
    release_vm(s);
    __atomic_store_n(&s->st, S_CLOSING, __ATOMIC_RELEASE);
}

static void free_session(struct session *s)
{
    release_vm(s);
    memset(s->pw, 0, sizeof(s->pw)); /* a password typed half-way */
    __atomic_store_n(&s->st, S_FREE, __ATOMIC_RELEASE);
    s->conn = NULL;
}

static void ask_password(struct session *s)
{
    s->pw_len = 0;
    s->pw_long = false;
    out_str(s, "password: ");
    s->st = S_PASSWORD;
}

static void *on_accept(struct net_conn *c, uint32_t peer)
{
    struct session *s = NULL;
    uint64_t now = now_ms(), wait = login_limit_wait(&limits, peer, now);
    char msg[96];
    if (wait) {
        int n = fmt_snprintf(msg, sizeof(msg),
                             "too many failed logins from your address: try again in %llu s\r\n",
                             (unsigned long long)(wait + 999) / 1000);
        net_conn_write(c, msg, (size_t)n);
        net_conn_close(c);
        return NULL;
    }
    for (unsigned i = 0; i < NETCONSOLE_MAX_CONNS && !s; i++)
        if (sessions[i].st == S_FREE)
            s = &sessions[i];
    if (!s) {
        static const char busy[] = "too many connections: try again later\r\n";
        net_conn_write(c, busy, sizeof(busy) - 1);
        net_conn_close(c);
        return NULL;
    }
    memset(s, 0, offsetof(struct session, lock));
    s->conn = c;
    s->peer = peer;
    s->last_input = now;
    s->login_deadline = now + login_ms;
    bool on = irq_enabled();
    irq_disable();
    if (lock_out(s, true)) { /* (a sink that saw the session before it ended may still write) */
        s->out_head = s->out_len = 0;
        spin_unlock(&s->lock);
    }
    if (on)
        irq_enable();
    s->out_dropped = s->out_dropped_told = 0;
    s->prompt_visible = false;
    s->script_pos = s->script_len = 0;
    s->attached = NULL;
    telnet_init(&s->tn);
    lineedit_init(&s->le, editor_write, s);
    define_input_cancel(&s->def); /* (a closed session's half-typed define) */
    out_write(s, TELNET_GREETING, sizeof(TELNET_GREETING) - 1, true);
    out_fmt(s, "bulkhead %s network console\n", BULKHEAD_VERSION);
    ask_password(s);
    return s;
}

/* Received bytes, telnet stripped, into the session's input while it has
 * room (the rest waits in TCP: the peer is slowed down, nothing is lost). */
static size_t pull_input(struct session *s)
{
    uint8_t raw[512], plain[sizeof(raw)], reply[3 * sizeof(raw)];
    size_t total = 0;
    while (IN_SIZE - s->in_len >= sizeof(raw)) {
        size_t n = net_conn_read(s->conn, raw, sizeof(raw)), rlen;
        if (!n)
            break;
        total += n;
        size_t d = telnet_filter(&s->tn, raw, n, plain, reply, &rlen);
        if (rlen)
            out_write(s, (const char *)reply, rlen, true);
        memcpy(s->in + s->in_len, plain, d);
        s->in_len += (unsigned)d;
    }
    return total;
}

static void on_closed(void *sess)
{
    free_session(sess);
}

static const struct net_server_ops server_ops = {on_accept, on_closed};

/* ---- login ---- */

static void login_ok(struct session *s)
{
    login_limit_success(&limits, s->peer);
    if (logged_in() >= NETCONSOLE_MAX_SESSIONS) {
        out_fmt(s, "\ntoo many sessions: at most %u at once\n", NETCONSOLE_MAX_SESSIONS);
        close_session(s, NULL);
        return;
    }
    pr_info("net: console session from %u.%u.%u.%u logged in", s->peer >> 24, (s->peer >> 16) & 255,
            (s->peer >> 8) & 255, s->peer & 255);
    out_str(s, "\nlogged in; 'help' lists the commands, 'exit' ends the session\n");
    __atomic_store_n(&s->st, S_PROMPT, __ATOMIC_RELEASE);
}

static void check_password(struct session *s)
{
    /* A peer still serving a delay (its other connections failed) gets no
     * comparison at all: one hash computation per peer and delay at most. */
    uint64_t now = now_ms(), wait = login_limit_wait(&limits, s->peer, now);
    bool ok = !wait && !s->pw_long && s->pw_len && pwhash_verify(&password, s->pw, s->pw_len);
    memset(s->pw, 0, sizeof(s->pw));
    if (ok) {
        login_ok(s);
        return;
    }
    s->tries++;
    if (wait) {
        s->delay_until = now + wait;
        s->st = S_LOGIN_DELAY;
        return;
    }
    pr_warn("net: failed console login from %u.%u.%u.%u", s->peer >> 24, (s->peer >> 16) & 255,
            (s->peer >> 8) & 255, s->peer & 255);
    s->delay_until = now_ms() + login_limit_fail(&limits, s->peer, now_ms());
    s->st = S_LOGIN_DELAY;
}

static void poll_password(struct session *s, uint64_t now)
{
    if (s->st == S_LOGIN_DELAY) {
        s->in_len = 0; /* guesses typed during the delay count for nothing */
        if (now < s->delay_until)
            return;
        out_str(s, "\nlogin incorrect\n");
        if (s->tries >= NETCONSOLE_TRIES) {
            close_session(s, "too many wrong passwords");
            return;
        }
        ask_password(s);
        return;
    }
    unsigned i = 0;
    for (; i < s->in_len && s->st == S_PASSWORD; i++) {
        char c = (char)s->in[i];
        bool after_cr = s->skip_lf;
        s->skip_lf = false;
        if (c == '\n' && after_cr)
            continue;
        if (c == '\r' || c == '\n') {
            s->skip_lf = c == '\r';
            check_password(s);
        } else if (c == 0x7f || c == 0x08) {
            if (s->pw_len)
                s->pw_len--;
        } else if (c == CTRL_C || c == CTRL_D) {
            close_session(s, NULL);
        } else if (s->pw_len < PASSWORD_MAX) {
            s->pw[s->pw_len++] = c;
        } else {
            s->pw_long = true;
        }
    }
    memmove(s->in, s->in + i, s->in_len - i);
    s->in_len -= i;
    if (s->st == S_LOGIN_DELAY)
        s->in_len = 0;
}

/* ---- commands ---- */

static void run_command(struct session *s, const char *line)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if ((n == 4 && !memcmp(p, "exit", 4)) || (n == 6 && !memcmp(p, "logout", 6))) {
        close_session(s, "bye");
        return;
    }
    current = s;
    command_set_output(command_out, s);
    vm_output_set_direct(true);
    command_run_line(line);
    vm_output_set_direct(false);
    command_set_output(NULL, NULL);
    current = NULL;
}

/* The typed line's commands, until one waits or the session ends. */
static void run_script(struct session *s)
{
    char line[CMD_LINE_MAX];
    while (s->st == S_PROMPT && s->script_pos < s->script_len) {
        const char *p = s->script + s->script_pos, *end = s->script + s->script_len;
        enum command_split_result r = command_split_next(&p, end, line, sizeof(line));
        s->script_pos = (unsigned)(p - s->script);
        if (r == SPLIT_END) {
            s->script_pos = s->script_len; /* (only blanks or separators were left) */
            break;
        }
        if (r == SPLIT_TOO_LONG)
            out_fmt(s, "error: command longer than %zu bytes skipped\n", sizeof(line) - 1);
        else
            run_command(s, line);
    }
    if (s->script_pos >= s->script_len)
        s->script_pos = s->script_len = 0;
}

/* A line (or Ctrl-C, or a refused line) of a `define`, with the output
 * going to this session as a command's does. */
static void define_line(struct session *s, enum lineedit_event ev)
{
    current = s;
    command_set_output(command_out, s);
    if (ev == LE_LINE)
        define_console_line(&s->def, lineedit_line(&s->le));
    else
        define_console_abort(&s->def, ev == LE_INTERRUPT ? "cancelled" : "line too long");
    command_set_output(NULL, NULL);
    current = NULL;
}

static void show_prompt(struct session *s)
{
    if (s->st == S_PROMPT && !s->script_len && !s->prompt_visible) {
        lineedit_redraw(&s->le, s->def.active ? DEFINE_PROMPT : PROMPT);
        s->prompt_visible = true;
    }
}

static void poll_prompt(struct session *s)
{
    unsigned i = 0;
    if (s->skip_lf && s->in_len) {
        s->skip_lf = false;
        i = s->in[0] == '\n';
    }
    run_script(s);
    for (; i < s->in_len && s->st == S_PROMPT && !s->script_len; i++) {
        show_prompt(s);
        enum lineedit_event ev = lineedit_feed(&s->le, (char)s->in[i]);
        if (ev == LE_NONE)
            continue;
        s->prompt_visible = false;
        if (s->def.active) {
            define_line(s, ev);
        } else if (ev == LE_LINE) {
            str_copy(s->script, lineedit_line(&s->le), sizeof(s->script));
            s->script_pos = 0;
            s->script_len = (unsigned)strlen(s->script);
            run_script(s);
        } else if (ev == LE_TOO_LONG) {
            out_fmt(s, "error: line longer than %d characters: not run\n", LINEEDIT_MAX);
        }
    }
    /* (After `console NAME` the rest of the input is the VM's.) */
    memmove(s->in, s->in + i, s->in_len - i);
    s->in_len -= i;
    show_prompt(s);
}

static void stop_waiting(struct session *s, const char *why)
{
    if (why)
        out_str(s, why);
    s->script_pos = s->script_len = 0;
    s->st = S_PROMPT;
}

static bool take_ctrl_c(struct session *s)
{
    bool seen = memchr(s->in, CTRL_C, s->in_len) != NULL;
    s->in_len = 0; /* type-ahead while busy is not kept on the network */
    return seen;
}

static void poll_waiting(struct session *s)
{
    if (take_ctrl_c(s)) {
        stop_waiting(s, "^C\n");
    } else if (s->wait_done(s->wait_ctx)) {
        s->st = S_PROMPT;
    } else if (rdtsc() >= s->wait_deadline) {
        s->st = S_PROMPT;
        if (s->wait_timeout) {
            current = s;
            command_set_output(command_out, s);
            s->wait_timeout(s->wait_ctx);
            command_set_output(NULL, NULL);
            current = NULL;
        }
    }
}

static void detach(struct session *s, const char *why)
{
    release_vm(s);
    s->st = S_PROMPT;
    out_fmt(s, "\n%s\n", why);
}

static void poll_attached(struct session *s)
{
    struct vm *vm = s->attached;
    if (!vm || (vm->state != VM_RUNNING && vm->state != VM_PAUSED)) {
        detach(s, "console: the VM stopped; detached");
        return;
    }
    unsigned i = 0;
    for (; i < s->in_len; i++) {
        if (s->in[i] == CTRL_RBRACKET) {
            i++;
            detach(s, "console: detached");
            break;
        }
        if (!vm_uart_input(vm, s->in[i]))
            break; /* the guest's FIFO is full: the rest waits */
    }
    memmove(s->in, s->in + i, s->in_len - i);
    s->in_len -= i;
}

static void poll_follow(struct session *s)
{
    char buf[256];
    size_t n;
    if (take_ctrl_c(s)) {
        stop_waiting(s, "^C\n");
        return;
    }
    while (net_conn_space(s->conn) > 2 * sizeof(buf) &&
           (n = log_ring_read(&s->follow_pos, buf, sizeof(buf))) > 0)
        out_write(s, buf, n, false);
}

static void step_session(struct session *s, uint64_t now)
{
    switch (s->st) {
    case S_PASSWORD:
    case S_LOGIN_DELAY:
        if (now >= s->login_deadline && s->st == S_PASSWORD)
            close_session(s, "\nno password given in time");
        else
            poll_password(s, now);
        break;
    case S_PROMPT:
        poll_prompt(s);
        break;
    case S_WAITING:
        poll_waiting(s);
        break;
    case S_ATTACHED:
        poll_attached(s);
        break;
    case S_FOLLOW_LOG:
        poll_follow(s);
        break;
    case S_FREE:
    case S_CLOSING:
        break;
    }
}

/* Input in rounds (a long paste or a flood is worked through in
 * IN_SIZE pieces), then the session's timers. */
static void poll_session(struct session *s, uint64_t now)
{
    for (unsigned round = 0; round < 16 && s->st != S_CLOSING; round++) {
        size_t got = pull_input(s);
        if (got)
            s->last_input = now;
        unsigned before = s->in_len;
        step_session(s, now);
        if (!got && s->in_len == before)
            break;
    }
    /* The peer closed its side: once its input is worked through, ours too. */
    if (net_conn_eof(s->conn) && !s->in_len && s->st != S_CLOSING && s->st != S_WAITING &&
        !s->script_len)
        close_session(s, NULL);
    if (s->st >= S_PROMPT && s->st != S_CLOSING && now - s->last_input > idle_ms)
        close_session(s, "\nidle for too long: session closed");
    if (s->out_dropped != s->out_dropped_told && s->out_len < OUT_SIZE / 2) {
        unsigned long long d = s->out_dropped - s->out_dropped_told;
        s->out_dropped_told = s->out_dropped;
        out_fmt(s, "\n[%llu bytes of output dropped: the connection is too slow]\n", d);
    }
}

void netconsole_poll(void)
{
    if (!started)
        return;
    net_poll();
    uint64_t now = now_ms();
    for (unsigned i = 0; i < NETCONSOLE_MAX_CONNS; i++) {
        struct session *s = &sessions[i];
        if (s->st == S_FREE)
            continue;
        poll_session(s, now);
        flush(s);
        if (s->st == S_CLOSING && (!s->out_len || !net_conn_space(s->conn))) {
            net_conn_close(s->conn);
            free_session(s);
        }
    }
    net_poll(); /* what the sessions wrote goes out now */
}

/* ---- hooks for commands run by a session ---- */

bool netconsole_in_command(void)
{
    return current != NULL;
}

void netconsole_wait(bool (*done)(void *), void (*on_timeout)(void *), void *ctx,
                     uint64_t deadline_tsc)
{
    current->wait_done = done;
    current->wait_timeout = on_timeout;
    current->wait_ctx = ctx;
    current->wait_deadline = deadline_tsc;
    current->st = S_WAITING;
}

void *netconsole_wait_scratch(void)
{
    return current->wait_scratch;
}

bool netconsole_attached(void)
{
    for (unsigned i = 0; i < NETCONSOLE_MAX_CONNS; i++)
        if (sessions[i].st == S_ATTACHED)
            return true;
    return false;
}

bool netconsole_attach(struct vm *vm)
{
    if (vm->attached || console_serial_attached() || netconsole_attached()) {
        out_fmt(current, "error: a VM console is attached elsewhere (one at a time)\n");
        return false;
    }
    current->attached = vm;
    vm_output_set_attached(vm);
    vm->attached = true;
    vm->uarts[0].raw = true;
    current->st = S_ATTACHED;
    return true;
}

struct define_input *netconsole_define_input(void)
{
    return &current->def;
}

void netconsole_follow_log(void)
{
    current->follow_pos = log_ring_head();
    current->st = S_FOLLOW_LOG;
}

/* ---- start ---- */

int netconsole_listen(const struct pwhash *pw, unsigned console_port, unsigned login_timeout_s,
                      unsigned idle_timeout_s)
{
    char why[120];
    password = *pw;
    login_ms = (uint64_t)login_timeout_s * 1000;
    idle_ms = (uint64_t)idle_timeout_s * 1000;
    login_limit_init(&limits);
    port = console_port;
    if (net_listen((uint16_t)port, &server_ops, why, sizeof(why))) {
        pr_err("net: console: %s", why);
        return -1;
    }
    started = true;
    pr_info("net: console listening on TCP port %u", port);
    return 0;
}
