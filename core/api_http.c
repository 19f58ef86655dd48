/* The HTTP API's routes (api_http.h, docs/api.md). Every handler runs on
 * the console CPU, between console commands, and calls the same code as
 * the console (core/api_actions.h). */
#include "core/api_http.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "core/api_actions.h"
#include "core/api_auth.h"
#include "core/api_define.h"
#include "core/api_json.h"
#include "core/api_page.h"
#include "core/api_reply.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/sched.h"
#include "core/time_share.h"
#include "vm/vm.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "net/http_server.h"

#define NAME_MAX_LEN 64
#define LOG_TAIL_MAX (24 * 1024) /* the newest log bytes /api/log returns */

static struct api_token token;

/* ---- answers ---- */

static void begin_json(struct http_response *r, struct json *j)
{
    json_init(j, r->body + r->len, HTTP_OUT_MAX - r->len);
}

static void end_json(struct http_response *r, struct json *j)
{
    if (!json_ok(j) || j->len + 1 > HTTP_OUT_MAX - r->len) {
        r->overflow = true;
        return;
    }
    r->len += j->len;
    http_resp_write(r, "\n", 1);
}

void api_error(struct http_response *r, int status, const char *msg)
{
    struct json j;
    r->status = status;
    r->len = 0;
    begin_json(r, &j);
    json_obj_begin(&j);
    json_kv_str(&j, "error", msg);
    json_obj_end(&j);
    end_json(r, &j);
}

static void not_allowed(struct http_response *r, const char *allow)
{
    fmt_snprintf(r->headers, sizeof(r->headers), "Allow: %s\r\n", allow);
    api_error(r, 405, "method not allowed");
}

/* ---- VMs ---- */

static unsigned cpu_percent(const struct vm *vm)
{
    if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
        return 0;
    uint64_t busy = 0, up = rdtsc() - vm->start_tsc;
    unsigned n = 0;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        const struct vcpu *v = vm->vcpus[i];
        if (v) {
            busy += v->guest_cycles + v->root_cycles;
            n++;
        }
    }
    return share_percent(busy, up * (n ? n : 1));
}

/* The state as one word for programs (state_text is for people). */
static const char *state_token(const struct vm *vm)
{
    static const char *const names[] = {[VM_DEFINED] = "defined",
                                        [VM_RUNNING] = "running",
                                        [VM_PAUSED] = "paused",
                                        [VM_SHUTOFF] = "shutoff",
                                        [VM_CRASHED] = "crashed"};
    if (vm_is_stopping(vm))
        return "stopping";
    return (unsigned)vm->state < sizeof(names) / sizeof(names[0]) ? names[vm->state] : "unknown";
}

static void vm_json(struct json *j, const struct vm *vm)
{
    char st[160];
    struct exit_stat ex[VCPU_EXIT_STATS];
    uint64_t guest, root, exits = 0, khz = tsc_khz() ? tsc_khz() : 1;
    vm_exit_totals(vm, ex, &guest, &root);
    for (unsigned r = 0; r < VCPU_EXIT_STATS; r++)
        exits += ex[r].count;
    json_obj_begin(j);
    json_kv_str(j, "name", vm->cfg.name);
    json_kv_u64(j, "id", vm->id);
    json_kv_str(j, "state", state_token(vm));
    json_kv_str(j, "state_text", vm_state_text(vm, st, sizeof(st)));
    json_kv_str(j, "reason", vm->reason);
    json_kv_u64(j, "vcpus", vm->cfg.nr_vcpus);
    json_key(j, "cpus");
    json_arr_begin(j);
    for (unsigned i = 0; i < vm->cfg.nr_vcpus && i < MAX_VCPUS; i++)
        json_u64(j, vm->cfg.pcpu[i]);
    json_arr_end(j);
    json_kv_u64(j, "memory_mib", vm->cfg.mem_size >> 20);
    json_kv_u64(j, "uptime_ms", vm_uptime_ms(vm));
    json_kv_u64(j, "starts", vm->starts);
    json_kv_u64(j, "exits", exits);
    json_kv_u64(j, "guest_ms", guest / khz);
    json_kv_u64(j, "root_ms", root / khz);
    json_kv_u64(j, "cpu_percent", cpu_percent(vm));
    json_obj_end(j);
}

static void get_vms(struct http_response *r)
{
    struct json j;
    begin_json(r, &j);
    json_arr_begin(&j);
    for (unsigned i = 0; i < nr_vms; i++)
        if (vms[i]) /* (a slot freed by undefine) */
            vm_json(&j, vms[i]);
    json_arr_end(&j);
    end_json(r, &j);
}

void api_vm_answer(struct http_response *r, int status, const struct vm *vm)
{
    r->status = status;
    struct json j;
    begin_json(r, &j);
    vm_json(&j, vm);
    end_json(r, &j);
}

/* The query of an action: shutdown takes "timeout=30s" (as the console's
 * `shutdown NAME 30s`), nothing else takes one. */
static bool action_query(enum vm_action a, const char *q, size_t n, uint64_t *timeout_ms)
{
    *timeout_ms = VM_DEFAULT_SHUTDOWN_TIMEOUT_MS;
    if (!q)
        return true;
    return a == VM_ACTION_SHUTDOWN && n > 8 && !memcmp(q, "timeout=", 8) &&
           vm_parse_ms(q + 8, n - 8, timeout_ms);
}

static void post_action(struct http_response *r, struct vm *vm, enum vm_action a,
                        uint64_t timeout_ms)
{
    char err[160];
    if (vm_action_run(vm, a, timeout_ms, err, sizeof(err))) {
        api_error(r, 409, err); /* the VM exists: its state does not allow it */
        return;
    }
    pr_info("api: %s %s", vm_action_name(a), vm->cfg.name);
    r->status = a == VM_ACTION_SHUTDOWN ? 202 : 200; /* a shutdown takes its time */
    api_vm_answer(r, r->status, vm);
}

/* ---- CPUs and log ---- */

static void get_cpus(struct http_response *r)
{
    struct json j;
    uint64_t khz = tsc_khz() ? tsc_khz() : 1;
    begin_json(r, &j);
    json_arr_begin(&j);
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        struct percpu *pc = cpus[c];
        if (!pc)
            continue;
        uint64_t busy, since, now;
        sched_cpu_time(c, &busy, &since, &now);
        json_obj_begin(&j);
        json_kv_u64(&j, "cpu", c);
        json_kv_u64(&j, "apic_id", pc->apic_id);
        json_kv_u64(&j, "busy_ms", busy / khz);
        json_kv_u64(&j, "scheduling_ms", since && now > since ? (now - since) / khz : 0);
        json_kv_u64(&j, "load_percent", since ? share_percent(busy, now - since) : 0);
        json_kv_u64(&j, "vcpus_queued", sched_queue_length(c));
        json_key(&j, "console");
        json_bool(&j, c == 0);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    end_json(r, &j);
}

/* The newest `want` bytes of the log as {"lines": [...]}; false when the
 * escaped text does not fit the answer. */
static bool log_tail(struct http_response *r, size_t want)
{
    static char tail[LOG_TAIL_MAX];
    unsigned long long head = log_ring_head();
    unsigned long long pos = head > want ? head - want : 0;
    size_t n = log_ring_read(&pos, tail, want);
    size_t i = 0;
    if (pos - n > 0 && n) /* started mid-line: skip to the next line */
        while (i < n && tail[i++] != '\n')
            ;
    struct json j;
    begin_json(r, &j);
    json_obj_begin(&j);
    json_key(&j, "lines");
    json_arr_begin(&j);
    while (i < n) {
        size_t e = i;
        while (e < n && tail[e] != '\n')
            e++;
        json_strn(&j, tail + i, e - i);
        i = e + 1;
    }
    json_arr_end(&j);
    json_obj_end(&j);
    if (!json_ok(&j))
        return false;
    end_json(r, &j);
    return true;
}

static void get_log(struct http_response *r)
{
    /* Escaping may grow the text up to six times: fewer lines then. */
    for (size_t want = LOG_TAIL_MAX; want >= 1024; want /= 2)
        if (log_tail(r, want))
            return;
    api_error(r, 500, "the log's newest lines do not fit an answer");
}

/* ---- routing ---- */

/* The next path segment after *p (up to '/'), %XX decoded into out. */
bool api_segment(const char **p, const char *end, char *out, size_t size)
{
    size_t n = 0;
    const char *s = *p;
    while (s < end && *s != '/') {
        char c = *s++;
        if (c == '%') {
            int hi, lo;
            if (end - s < 2)
                return false;
            hi = s[0] >= 'a' ? s[0] - 'a' + 10 : s[0] >= 'A' ? s[0] - 'A' + 10 : s[0] - '0';
            lo = s[1] >= 'a' ? s[1] - 'a' + 10 : s[1] >= 'A' ? s[1] - 'A' + 10 : s[1] - '0';
            if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
                return false;
            c = (char)(hi << 4 | lo);
            s += 2;
        }
        if (!c || n + 1 >= size)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    *p = s;
    return n > 0;
}

static bool path_is(const char *p, size_t n, const char *want)
{
    return strlen(want) == n && !memcmp(p, want, n);
}

bool api_authorized(const struct http_request *req, struct http_response *r)
{
    if (api_auth_check(&token, req->authorization, req->authorization_len))
        return true;
    fmt_snprintf(r->headers, sizeof(r->headers), "WWW-Authenticate: Bearer\r\n");
    api_error(r, 401,
              token.set ? "missing or wrong token: send Authorization: Bearer <token>"
                        : "no net.api_token in the configuration: the API is off");
    return false;
}

static void route_api(const struct http_request *req, const char *p, const char *end,
                      const char *query, size_t query_len, const char *body, size_t body_len,
                      struct http_response *r)
{
    bool get = req->method == HTTP_GET || req->method == HTTP_HEAD;
    size_t n = (size_t)(end - p);
    if (!api_authorized(req, r))
        return;
    if (path_is(p, n, "/api/vms") || path_is(p, n, "/api/vms/")) {
        get ? get_vms(r) : not_allowed(r, "GET, HEAD");
        return;
    }
    if (path_is(p, n, "/api/cpus")) {
        get ? get_cpus(r) : not_allowed(r, "GET, HEAD");
        return;
    }
    if (path_is(p, n, "/api/log")) {
        get ? get_log(r) : not_allowed(r, "GET, HEAD");
        return;
    }
    if (path_is(p, n, "/api/modules") || path_is(p, n, "/api/modules/")) {
        get ? api_get_modules(r) : not_allowed(r, "GET, HEAD");
        return;
    }
    if (n > 13 && !memcmp(p, "/api/modules/", 13)) {
        char name[NAME_MAX_LEN + 1];
        const char *s = p + 13;
        if (!api_segment(&s, end, name, sizeof(name)) || s != end)
            api_error(r, 404, "no such module name (bad characters or too long)");
        else if (req->method == HTTP_PUT)
            api_put_module(name, body, body_len, r);
        else if (req->method == HTTP_DELETE)
            api_delete_module(name, r);
        else
            not_allowed(r, "PUT, DELETE");
        return;
    }
    if (n > 9 && !memcmp(p, "/api/vms/", 9)) {
        char name[NAME_MAX_LEN + 1], act[16], err[120];
        const char *s = p + 9;
        if (!api_segment(&s, end, name, sizeof(name))) {
            api_error(r, 404, "no such VM name (bad characters or too long)");
            return;
        }
        struct vm *vm = vm_find(name);
        if (s == end || (s + 1 == end && *s == '/')) {
            if (req->method == HTTP_PUT) {
                api_put_vm(name, body, body_len, r);
            } else if (req->method == HTTP_DELETE) {
                api_delete_vm(name, r);
            } else if (!vm) {
                vm_no_such(name, err, sizeof(err));
                api_error(r, 404, err);
            } else {
                get ? api_vm_answer(r, r->status, vm) : not_allowed(r, "GET, HEAD, PUT, DELETE");
            }
            return;
        }
        s++;
        uint64_t timeout_ms;
        int a = api_segment(&s, end, act, sizeof(act)) && s == end
                    ? vm_action_parse(act, strlen(act))
                    : -1;
        if (a < 0) {
            api_error(r, 404,
                      "no such action: use start, shutdown, destroy, suspend, resume or reset");
        } else if (req->method != HTTP_POST) {
            not_allowed(r, "POST");
        } else if (!vm) {
            vm_no_such(name, err, sizeof(err));
            api_error(r, 404, err);
        } else if (!action_query((enum vm_action)a, query, query_len, &timeout_ms)) {
            api_error(r, 400,
                      a == VM_ACTION_SHUTDOWN
                          ? "usage: shutdown?timeout=T, T like 30s or 500ms (at most a day)"
                          : "this action takes no query");
        } else {
            post_action(r, vm, (enum vm_action)a, timeout_ms);
        }
        return;
    }
    api_error(r, 404, "no such API path: see docs/api.md");
}

static void handle(const struct http_request *req, const char *body, size_t body_len,
                   struct http_response *r)
{
    const char *p = req->target, *end = req->target + req->target_len;
    const char *q = memchr(p, '?', req->target_len);
    size_t qn = q ? (size_t)(req->target + req->target_len - q - 1) : 0;
    if (q)
        end = q; /* only the shutdown action reads its query */
    size_t n = (size_t)(end - p);
    bool get = req->method == HTTP_GET || req->method == HTTP_HEAD;
    if (n >= 5 && !memcmp(p, "/api/", 5)) {
        route_api(req, p, end, q ? q + 1 : NULL, qn, body, body_len, r);
    } else if (!get &&
               (path_is(p, n, "/") || path_is(p, n, "/index.html") || path_is(p, n, "/metrics"))) {
        not_allowed(r, "GET, HEAD");
    } else if (path_is(p, n, "/") || path_is(p, n, "/index.html")) {
        r->content_type = "text/html; charset=utf-8";
        r->static_body = api_page_html;
        r->static_len = api_page_html_len;
        fmt_snprintf(r->headers, sizeof(r->headers),
                     "Content-Security-Policy: default-src 'self'; script-src 'unsafe-inline'; "
                     "style-src 'unsafe-inline'\r\n");
    } else if (path_is(p, n, "/metrics")) {
        r->content_type = "text/plain; version=0.0.4; charset=utf-8";
        metrics_write(r);
    } else {
        api_error(r, 404, "not found");
    }
}

int api_http_start(const struct config_net *net)
{
    char why[120];
    token.set = net->have_api_token;
    token.salt_len = net->api_token_salt_len;
    memcpy(token.salt, net->api_token_salt, sizeof(token.salt));
    memcpy(token.hash, net->api_token_hash, sizeof(token.hash));
    if (http_server_start((uint16_t)net->http_port, net->http_timeout, handle, &api_upload_ops, why,
                          sizeof(why))) {
        pr_err("net: http: %s", why);
        return -1;
    }
    pr_info("net: http listening on TCP port %u%s", net->http_port,
            token.set ? "" : " (no net.api_token: /api/ refuses every request)");
    return 0;
}

void api_http_poll(void)
{
    http_server_poll();
}
