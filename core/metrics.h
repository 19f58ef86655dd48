/* GET /metrics: the Prometheus text exposition format 0.0.4 (docs/api.md
 * lists every metric): per VM its state, exits by reason, guest and root
 * CPU time, starts and restarts, dropped output lines; per CPU its busy
 * time; per NIC its counters; the HTTP server's own. */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H

#include <stddef.h>

struct http_response;

void metrics_write(struct http_response *r);
/* A label value escaped as the format asks (\\, \", \n) into out (always
 * terminated; cut to fit). Pure, unit-tested. */
void metrics_label_escape(const char *s, char *out, size_t size);

#endif
