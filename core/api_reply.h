/* What the API's route files share (core/api_http.c answers, the define and
 * upload routes in core/api_define.c use them). */
#ifndef CORE_API_REPLY_H
#define CORE_API_REPLY_H

#include <stdbool.h>
#include <stddef.h>

struct http_request;
struct http_response;
struct vm;

/* {"error": msg} with this status (replaces any body written so far). */
void api_error(struct http_response *r, int status, const char *msg);
/* The VM as GET /api/vms/NAME shows it. */
void api_vm_answer(struct http_response *r, int status, const struct vm *vm);
/* True with the right bearer token; else a 401 answer is in r. */
bool api_authorized(const struct http_request *req, struct http_response *r);
/* The next path segment after *p (up to '/'), %XX decoded into out; false
 * when empty, too long, or with a NUL or a bad escape. */
bool api_segment(const char **p, const char *end, char *out, size_t size);

#endif
