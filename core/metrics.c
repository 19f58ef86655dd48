/* GET /metrics (metrics.h). Counters are read without stopping anyone:
 * each is a 64-bit load, and a scrape may see one exit more here than
 * there, never a torn value. */
#include "core/metrics.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "core/sched.h"
#include "hvm/backend.h"
#include "vm/vm.h"
#include "vm/vm_output.h"
#include "lib/string.h"
#include "net/http_server.h"
#include "net/net.h"

static void help(struct http_response *r, const char *name, const char *type, const char *text)
{
    http_resp_printf(r, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* Cycles as seconds with millisecond precision (no floating point here). */
static void seconds(struct http_response *r, uint64_t cycles)
{
    uint64_t khz = tsc_khz() ? tsc_khz() : 1, ms = cycles / khz;
    http_resp_printf(r, "%llu.%03llu\n", (unsigned long long)(ms / 1000),
                     (unsigned long long)(ms % 1000));
}

struct vm_row {
    char name[2 * sizeof(((struct vm_config *)0)->name) + 1];
    struct exit_stat ex[VCPU_EXIT_STATS];
    uint64_t guest, root;
};

static struct vm_row rows[MAX_VMS];

static void vm_metrics(struct http_response *r)
{
    static const char *const states[] = {"defined", "running", "paused", "shutoff", "crashed"};
    unsigned n = 0;
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++) {
        if (!vms[i])
            continue;
        metrics_label_escape(vms[i]->cfg.name, rows[i].name, sizeof(rows[i].name));
        vm_exit_totals(vms[i], rows[i].ex, &rows[i].guest, &rows[i].root);
        n++;
    }
    if (!n)
        return;
    help(r, "bulkhead_vm_state", "gauge",
         "1 for the VM's current state (stopping: on its way to shutoff or crashed)");
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++) {
        const struct vm *vm = vms[i];
        if (!vm)
            continue;
        bool stopping = vm_is_stopping(vm);
        for (unsigned s = 0; s < 5; s++)
            http_resp_printf(r, "bulkhead_vm_state{vm=\"%s\",state=\"%s\"} %d\n", rows[i].name,
                             states[s], !stopping && (unsigned)vm->state == s);
        http_resp_printf(r, "bulkhead_vm_state{vm=\"%s\",state=\"stopping\"} %d\n", rows[i].name,
                         stopping);
    }
    help(r, "bulkhead_vm_exits_total", "counter", "VM exits by reason (reasons seen so far)");
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++) {
        if (!vms[i])
            continue;
        for (unsigned e = 0; e < VCPU_EXIT_STATS; e++)
            if (rows[i].ex[e].count)
                http_resp_printf(r, "bulkhead_vm_exits_total{vm=\"%s\",reason=\"%s\"} %llu\n",
                                 rows[i].name,
                                 vcpu_backend ? vcpu_backend->exit_reason_name(e) : "?",
                                 (unsigned long long)rows[i].ex[e].count);
    }
    help(r, "bulkhead_vm_guest_seconds_total", "counter", "time the VM's vCPUs ran in the guest");
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++)
        if (vms[i]) {
            http_resp_printf(r, "bulkhead_vm_guest_seconds_total{vm=\"%s\"} ", rows[i].name);
            seconds(r, rows[i].guest);
        }
    help(r, "bulkhead_vm_root_seconds_total", "counter",
         "time spent in root mode handling the VM's exits");
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++)
        if (vms[i]) {
            http_resp_printf(r, "bulkhead_vm_root_seconds_total{vm=\"%s\"} ", rows[i].name);
            seconds(r, rows[i].root);
        }
    help(r, "bulkhead_vm_starts_total", "counter", "starts since boot (restarts included)");
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++)
        if (vms[i])
            http_resp_printf(r, "bulkhead_vm_starts_total{vm=\"%s\"} %u\n", rows[i].name,
                             vms[i]->starts);
    help(r, "bulkhead_vm_restarts_total", "counter",
         "starts after the first (restarts on crash or reset, and starts by hand)");
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++)
        if (vms[i])
            http_resp_printf(r, "bulkhead_vm_restarts_total{vm=\"%s\"} %u\n", rows[i].name,
                             vms[i]->starts ? vms[i]->starts - 1 : 0);
    help(r, "bulkhead_vm_output_dropped_lines_total", "counter",
         "guest console lines dropped over the output budget");
    for (unsigned i = 0; i < nr_vms && i < MAX_VMS; i++)
        if (vms[i])
            http_resp_printf(r, "bulkhead_vm_output_dropped_lines_total{vm=\"%s\"} %llu\n",
                             rows[i].name, vm_output_dropped(vms[i]));
}

static void cpu_metrics(struct http_response *r)
{
    help(r, "bulkhead_cpu_busy_seconds_total", "counter",
         "time the CPU ran vCPUs (guest and root time for them)");
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        if (!cpus[c])
            continue;
        uint64_t busy, since, now;
        sched_cpu_time(c, &busy, &since, &now);
        http_resp_printf(r, "bulkhead_cpu_busy_seconds_total{cpu=\"%u\"} ", c);
        seconds(r, busy);
    }
    help(r, "bulkhead_cpu_scheduling_seconds_total", "counter",
         "time since the CPU started scheduling (busy / this = its use)");
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        if (!cpus[c])
            continue;
        uint64_t busy, since, now;
        sched_cpu_time(c, &busy, &since, &now);
        http_resp_printf(r, "bulkhead_cpu_scheduling_seconds_total{cpu=\"%u\"} ", c);
        seconds(r, since && now > since ? now - since : 0);
    }
}

static void nic_counter(struct http_response *r, const char *nic, const char *name,
                        const char *text, uint64_t v)
{
    help(r, name, "counter", text);
    http_resp_printf(r, "%s{nic=\"%s\"} %llu\n", name, nic, (unsigned long long)v);
}

static void nic_metrics(struct http_response *r)
{
    struct net_nic_stats s;
    if (!net_nic_stats(&s))
        return;
    nic_counter(r, s.name, "bulkhead_nic_rx_packets_total", "packets received", s.rx_packets);
    nic_counter(r, s.name, "bulkhead_nic_rx_bytes_total", "bytes received", s.rx_bytes);
    nic_counter(r, s.name, "bulkhead_nic_rx_errors_total", "receive errors", s.rx_errors);
    nic_counter(r, s.name, "bulkhead_nic_rx_dropped_total", "received packets dropped",
                s.rx_dropped);
    nic_counter(r, s.name, "bulkhead_nic_rx_missed_total", "packets missed: no free descriptor",
                s.rx_missed);
    nic_counter(r, s.name, "bulkhead_nic_tx_packets_total", "packets sent", s.tx_packets);
    nic_counter(r, s.name, "bulkhead_nic_tx_bytes_total", "bytes sent", s.tx_bytes);
    nic_counter(r, s.name, "bulkhead_nic_tx_ring_full_total", "sends refused: ring full",
                s.tx_ring_full);
    nic_counter(r, s.name, "bulkhead_nic_tx_dropped_total", "packets dropped before sending",
                s.tx_dropped);
    nic_counter(r, s.name, "bulkhead_nic_interrupts_total", "receive interrupts", s.irqs);
    nic_counter(r, s.name, "bulkhead_nic_link_changes_total", "link state changes", s.link_changes);
    help(r, "bulkhead_nic_link_up", "gauge", "1 while the link is up");
    http_resp_printf(r, "bulkhead_nic_link_up{nic=\"%s\"} %d\n", s.name, s.link_up);
}

static void http_metrics(struct http_response *r)
{
    struct http_server_stats s;
    http_server_stats(&s);
    help(r, "bulkhead_http_requests_total", "counter", "HTTP requests answered");
    http_resp_printf(r, "bulkhead_http_requests_total %llu\n", s.requests);
    help(r, "bulkhead_http_bad_requests_total", "counter",
         "HTTP requests refused as malformed or over a limit");
    http_resp_printf(r, "bulkhead_http_bad_requests_total %llu\n", s.errors);
    help(r, "bulkhead_http_refused_connections_total", "counter",
         "HTTP connections refused with 503: all in use");
    http_resp_printf(r, "bulkhead_http_refused_connections_total %llu\n", s.refused);
    help(r, "bulkhead_http_timeouts_total", "counter", "HTTP connections closed for idling");
    http_resp_printf(r, "bulkhead_http_timeouts_total %llu\n", s.timeouts);
    help(r, "bulkhead_http_connections", "gauge", "HTTP connections open");
    http_resp_printf(r, "bulkhead_http_connections %u\n", s.open);
}

void metrics_write(struct http_response *r)
{
    vm_metrics(r);
    cpu_metrics(r);
    nic_metrics(r);
    http_metrics(r);
}
