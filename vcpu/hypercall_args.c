/* Hypercall argument checks; see hypercall_args.h. */
#include "vcpu/hypercall_args.h"

#include "include/bulkhead/hypercall.h"

int64_t hc_console_write(const struct hc_guest_mem *mem, uint64_t gpa, uint64_t len,
                         void (*put)(void *ctx, const char *bytes, unsigned len), void *put_ctx)
{
    char buf[HC_CONSOLE_CHUNK];
    uint64_t done = 0;

    if (len > HC_CONSOLE_MAX)
        return HC_EINVAL;
    if (gpa + len < gpa)
        return HC_EFAULT;
    /* Check the whole range first: one byte per page, and the last byte. */
    for (uint64_t off = 0; off < len; off += 4096) {
        uint8_t probe;
        if (mem->read(mem->ctx, gpa + off, &probe, 1))
            return HC_EFAULT;
    }
    if (len && mem->read(mem->ctx, gpa + len - 1, buf, 1))
        return HC_EFAULT;
    while (done < len) {
        uint64_t chunk = len - done < sizeof(buf) ? len - done : sizeof(buf);
        if (mem->read(mem->ctx, gpa + done, buf, chunk))
            return HC_EFAULT;
        put(put_ctx, buf, (unsigned)chunk);
        done += chunk;
    }
    return (int64_t)done;
}
