/* lwIP's port header for the freestanding hypervisor (no libc). */
#ifndef NET_LWIP_ARCH_CC_H
#define NET_LWIP_ARCH_CC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define BYTE_ORDER         LITTLE_ENDIAN
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H    1
#define LWIP_NO_UNISTD_H   1
#define X8_F               "02x"
#define U16_F              "u"
#define S16_F              "d"
#define X16_F              "x"
#define U32_F              "u"
#define S32_F              "d"
#define X32_F              "x"
#define SZT_F              "zu"

#define SSIZE_MAX LONG_MAX
typedef long ssize_t;

void net_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void net_lwip_assert(const char *msg, int line, const char *file);
#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
        net_lwip_diag x;                                                                           \
    } while (0)
/* An internal inconsistency in lwIP: logged, never a hypervisor panic. */
#define LWIP_PLATFORM_ASSERT(x) net_lwip_assert((x), __LINE__, __FILE__)

#endif
