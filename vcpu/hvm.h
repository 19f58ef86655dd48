/* The machine-level face of virtualization for core/ and vm/: which
 * backend runs guests (chosen by probing, vmx first), its banner text,
 * root mode on each CPU, its boot options. Nothing above vcpu/ includes a
 * backend's header. */
#ifndef VCPU_HVM_H
#define VCPU_HVM_H

#include <stdbool.h>

/* Probes the backends in order and selects the first that can run
 * guests; when none can, the first stays selected to report why. */
void hvm_init(void);
bool hvm_available(void);
const char *hvm_unavailable_reason(void);
/* The banner's "<backend>: <features>" or "<backend>: unavailable (<why>)". */
void hvm_describe(char *buf, unsigned len);
/* Root mode on the calling CPU: 0, or -1 (also when none is available). */
int hvm_cpu_enable(void);
/* Root mode off on every CPU (power-off, reboot). */
void hvm_disable_all_cpus(void);
/* Large pages the second-level tables may use. */
void hvm_npt_page_sizes(bool *pg_2m, bool *pg_1g);
/* The second-level table format of the backend in use; NULL: EPT. */
struct ept_format;
const struct ept_format *hvm_npt_format(void);
/* A boot option "<backend>.<key>=<value>" (e.g. vmx.preemption_timer=off):
 * 1 taken, 0 not a backend option, -1 a bad value (logged). */
int hvm_set_option(const char *option, const char *value);

#endif
