/* The hypervisor's HTTP service (docs/api.md): the JSON API under /api/
 * (bearer token), /metrics (Prometheus text, no token) and the status page
 * at /, on net.http_port. */
#ifndef CORE_API_HTTP_H
#define CORE_API_HTTP_H

struct config_net;

/* Starts the service once the network runs (netconsole_boot.c). */
int api_http_start(const struct config_net *net);
/* The console CPU's loop. */
void api_http_poll(void);

#endif
