/* The argument checks of the hypercalls, apart from the vCPU and the VM:
 * they see guest memory only through a read callback, so the host fuzzer
 * (tests/fuzz/fuzz_hypercall.c) runs them against a fake guest memory. */
#ifndef VCPU_HYPERCALL_ARGS_H
#define VCPU_HYPERCALL_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#define HC_CONSOLE_MAX   4096 /* bytes per console-write call */
#define HC_CONSOLE_CHUNK 256

/* Guest-physical memory as the hypercalls see it: read() copies len bytes
 * at gpa into buf and returns 0, or non-zero when any byte of the range is
 * not the VM's RAM (vm_read_guest). */
struct hc_guest_mem {
    void *ctx;
    int (*read)(void *ctx, uint64_t gpa, void *buf, uint64_t len);
};

/* A register argument: 32-bit guests do not define the upper halves. */
static inline uint64_t hc_arg(uint64_t reg, bool long_mode)
{
    return long_mode ? reg : reg & 0xffffffffULL;
}

/* HC_CONSOLE_WRITE: checks the whole buffer [gpa, gpa + len) first (a bad
 * tail must not print a head), then hands the bytes to put() in chunks of
 * at most HC_CONSOLE_CHUNK. Returns len,
 * HC_EINVAL (len over HC_CONSOLE_MAX) or HC_EFAULT (a byte outside RAM, or
 * a range that wraps), with no byte put on error. */
int64_t hc_console_write(const struct hc_guest_mem *mem, uint64_t gpa, uint64_t len,
                         void (*put)(void *ctx, const char *bytes, unsigned len), void *put_ctx);

#endif
