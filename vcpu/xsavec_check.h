/* Is the CPU's XSAVEC (the compacted XSAVE format) right? Guests are shown
 * XSAVEC (CPUID.(EAX=0xD,ECX=1):EAX[1]) only when it is: Bochs 2.7 writes
 * every component after SSE 160 bytes too low (the AVX state at offset 416
 * instead of 576, over the XSAVE header), so a guest kernel that switches
 * tasks with XSAVEC and XRSTOR loses its tasks' AVX/AVX-512 registers or
 * takes a #GP on XRSTOR (docs/linux-guests.md). */
#ifndef VCPU_XSAVEC_CHECK_H
#define VCPU_XSAVEC_CHECK_H

#include <stdbool.h>
#include <stdint.h>

/* The probe's register pattern: YMM0's upper 128 bits, one byte repeated. */
#define XSAVEC_PROBE_BYTE 0xa5
/* Components the probe saves: x87, SSE, AVX. */
#define XSAVEC_XCR0_AVX   (1ULL << 2)
#define XSAVEC_PROBE_RFBM (3ULL | XSAVEC_XCR0_AVX)

/* Checks an XSAVEC image of RFBM XSAVEC_PROBE_RFBM taken with YMM0's upper
 * half full of XSAVEC_PROBE_BYTE: XCOMP_BV says compacted with exactly those
 * components, the header's reserved bytes are 0, and the AVX component
 * (the first after the 576-byte legacy area and header) starts at 576.
 * Pure: the boot-time probe and the unit test share it. */
bool xsavec_image_ok(const uint8_t *area);

/* Per CPU, in vcpu_switch_cpu_init once it has XSAVE enabled (root mode,
 * before any guest state is loaded there; XCR0 holds the switch mask): runs
 * XSAVEC on a known YMM0 and checks the image. A CPU without XSAVEC or AVX
 * has nothing to check. */
void xsavec_probe_cpu(void);
/* False once a CPU's XSAVEC failed the probe: guests are not shown it. */
bool xsavec_usable(void);

#endif
