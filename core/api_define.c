/* The API's run-time definitions (api_define.h): the same functions as the
 * console's define, undefine and modules (core/vm_define.h), with their
 * messages as the errors. */
#include "core/api_define.h"

#include "core/api_actions.h"
#include "core/api_json.h"
#include "core/api_reply.h"
#include "core/vm_define.h"
#include "vm/vm.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "net/http_server.h"

#define NAME_MAX_LEN 64

static char err[VM_DEFINE_ERR_MAX];

/* {"error": first line, "errors": [every line]} for the checker's messages. */
static void errors_answer(struct http_response *r, int status, const char *text)
{
    struct json j;
    size_t first = 0;
    while (text[first] && text[first] != '\n')
        first++;
    r->status = status;
    r->len = 0;
    json_init(&j, r->body, HTTP_OUT_MAX - 1);
    json_obj_begin(&j);
    json_key(&j, "error");
    json_strn(&j, text, first);
    json_key(&j, "errors");
    json_arr_begin(&j);
    for (const char *s = text; *s;) {
        size_t n = 0;
        while (s[n] && s[n] != '\n')
            n++;
        if (n)
            json_strn(&j, s, n);
        s += n + (s[n] == '\n');
    }
    json_arr_end(&j);
    json_obj_end(&j);
    if (!json_ok(&j)) {
        api_error(r, status, "the checker's messages do not fit an answer");
        return;
    }
    r->len = j.len;
    http_resp_write(r, "\n", 1);
}

void api_put_vm(const char *name, const char *body, size_t len, struct http_response *r)
{
    bool existed = vm_find(name) != NULL;
    err[0] = '\0';
    if (vm_define_from_text(body, len, name, err, sizeof(err))) {
        /* Already there, or defined but not started: a conflict with the
         * machine's state; else the section itself is wrong. */
        errors_answer(r, existed || vm_find(name) ? 409 : 400, err[0] ? err : "not defined");
        return;
    }
    const struct vm *vm = vm_find(name);
    pr_info("api: define %s", name);
    if (vm)
        api_vm_answer(r, 201, vm);
    else
        api_error(r, 500, "defined, but not found afterwards");
}

void api_delete_vm(const char *name, struct http_response *r)
{
    if (!vm_find(name)) {
        vm_no_such(name, err, sizeof(err));
        api_error(r, 404, err);
        return;
    }
    if (vm_undefine(name, err, sizeof(err))) {
        api_error(r, 409, err);
        return;
    }
    pr_info("api: undefine %s", name);
    struct json j;
    json_init(&j, r->body, HTTP_OUT_MAX - 1);
    json_obj_begin(&j);
    json_kv_str(&j, "undefined", name);
    json_obj_end(&j);
    r->len = j.len;
    http_resp_write(r, "\n", 1);
}

void api_get_modules(struct http_response *r)
{
    static struct module_info list[MODULE_STORE_MAX + 64];
    unsigned n = module_store_list(list, sizeof(list) / sizeof(list[0]));
    if (n > sizeof(list) / sizeof(list[0]))
        n = sizeof(list) / sizeof(list[0]);
    struct json j;
    json_init(&j, r->body, HTTP_OUT_MAX - 1);
    json_obj_begin(&j);
    json_kv_u64(&j, "uploaded_bytes", module_store_used());
    json_kv_u64(&j, "limit_bytes", module_store_limit());
    json_key(&j, "modules");
    json_arr_begin(&j);
    for (unsigned i = 0; i < n; i++) {
        json_obj_begin(&j);
        json_kv_str(&j, "name", list[i].name);
        json_kv_u64(&j, "size", list[i].size);
        json_key(&j, "uploaded");
        json_bool(&j, list[i].uploaded);
        json_kv_str(&j, "used_by", list[i].used_by);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    if (!json_ok(&j)) {
        r->overflow = true;
        return;
    }
    r->len = j.len;
    http_resp_write(r, "\n", 1);
}

static void uploaded_answer(struct http_response *r, const char *name, uint64_t size)
{
    struct json j;
    r->status = 201;
    json_init(&j, r->body, HTTP_OUT_MAX - 1);
    json_obj_begin(&j);
    json_kv_str(&j, "name", name);
    json_kv_u64(&j, "size", size);
    json_obj_end(&j);
    r->len = j.len;
    http_resp_write(r, "\n", 1);
}

/* An upload over the limit is 413; other refusals (in use, a boot module's
 * name, too many) are 409. */
static int upload_status(uint64_t size)
{
    return size > module_store_limit() ? 413 : 409;
}

void api_put_module(const char *name, const char *body, size_t len, struct http_response *r)
{
    if (module_store_put(name, body, len, err, sizeof(err))) {
        api_error(r, len ? upload_status(len) : 400, err);
        return;
    }
    pr_info("api: module %s uploaded (%llu bytes)", name, (unsigned long long)len);
    uploaded_answer(r, name, len);
}

void api_delete_module(const char *name, struct http_response *r)
{
    if (module_store_delete(name, err, sizeof(err))) {
        api_error(r, 409, err);
        return;
    }
    struct json j;
    json_init(&j, r->body, HTTP_OUT_MAX - 1);
    json_obj_begin(&j);
    json_kv_str(&j, "deleted", name);
    json_obj_end(&j);
    r->len = j.len;
    http_resp_write(r, "\n", 1);
}

/* ---- uploads over HTTP_BODY_MAX, in pieces ---- */

static struct {
    char name[NAME_MAX_LEN + 1];
    uint64_t size;
} up;

static bool upload_wants(const struct http_request *req)
{
    return req->method == HTTP_PUT && req->target_len > 13 &&
           !memcmp(req->target, "/api/modules/", 13);
}

static int upload_begin(const struct http_request *req, struct http_response *r)
{
    if (!api_authorized(req, r))
        return -1;
    const char *s = req->target + 13, *end = req->target + req->target_len;
    const char *q = memchr(s, '?', (size_t)(end - s));
    if (q)
        end = q;
    if (!api_segment(&s, end, up.name, sizeof(up.name)) || s != end) {
        api_error(r, 404, "no such module name (bad characters or too long)");
        return -1;
    }
    up.size = req->content_length;
    if (module_upload_begin(up.name, up.size, err, sizeof(err))) {
        api_error(r, upload_status(up.size), err);
        return -1;
    }
    return 0;
}

static int upload_data(const void *p, size_t n, struct http_response *r)
{
    if (module_upload_write(p, n, err, sizeof(err))) {
        api_error(r, 409, err);
        return -1;
    }
    return 0;
}

static void upload_end(struct http_response *r)
{
    if (module_upload_finish(err, sizeof(err))) {
        api_error(r, 409, err);
        return;
    }
    pr_info("api: module %s uploaded (%llu bytes)", up.name, (unsigned long long)up.size);
    uploaded_answer(r, up.name, up.size);
}

static void upload_abort(void)
{
    module_upload_abort();
    pr_warn("api: upload of module %s abandoned by the client", up.name);
}

const struct http_stream_ops api_upload_ops = {
    .wants = upload_wants,
    .begin = upload_begin,
    .data = upload_data,
    .end = upload_end,
    .abort = upload_abort,
};
