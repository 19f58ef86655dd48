/* The API's run-time definitions (docs/api.md), on core/vm_define.h as the
 * console's define, undefine and modules: PUT and DELETE /api/vms/NAME,
 * GET /api/modules, PUT and DELETE /api/modules/NAME (an upload over
 * HTTP_BODY_MAX streams in pieces through api_upload_ops). */
#ifndef CORE_API_DEFINE_H
#define CORE_API_DEFINE_H

#include <stddef.h>

struct http_response;
struct http_stream_ops;

void api_put_vm(const char *name, const char *body, size_t len, struct http_response *r);
void api_delete_vm(const char *name, struct http_response *r);
void api_get_modules(struct http_response *r);
void api_put_module(const char *name, const char *body, size_t len, struct http_response *r);
void api_delete_module(const char *name, struct http_response *r);
extern const struct http_stream_ops api_upload_ops;

#endif
