/* libFuzzer target: Ethernet frames from the network as the SYN-flood
 * counters read them (net/tcp_syn.c), and failed logins from many
 * addresses as the login limiter records them (net/login_limit.c). Input:
 * one byte of flags, a 16-bit length and the frame (with FIX_IP and FIX_TCP
 * the harness writes valid IPv4 and TCP checksums, which the fuzzer would
 * hardly find), then logins for the limiter: each a failure or a success
 * from an address, some time later; a failure is recorded only when the
 * address may try, as the console does.
 * Besides the sanitizers it checks: a frame taken for a SYN is IPv4, TCP,
 * unfragmented, long enough, with SYN alone of SYN/ACK/RST/FIN, and the
 * addresses, ports and sequence number read are the frame's; the limiter
 * never delays longer than its lock, its table never holds an address
 * twice, and a locked address stays locked while other addresses fail. */
/* clang-format off */
/* fuzz-srcs: net/tcp_syn.c net/login_limit.c */
/* clang-format on */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/login_limit.h"
#include "net/tcp_syn.h"
#include "tests/fuzz/fuzz_input.h"

enum { FIX_IP = 1, FIX_TCP = 2 };

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += be16(p);
    if (n)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void fix_checksums(uint8_t *f, size_t len, uint8_t flags)
{
    if (len < 34)
        return;
    uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 15u) * 4, total = be16(ip + 2);
    if (flags & FIX_IP && ihl >= 20 && 14 + ihl <= len) {
        ip[10] = ip[11] = 0;
        uint16_t c = csum(ip, ihl, 0);
        ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
    }
    if (flags & FIX_TCP && ihl >= 20 && total >= ihl + 20 && 14 + total <= len) {
        uint8_t *tcp = ip + ihl;
        size_t tcp_len = total - ihl;
        tcp[16] = tcp[17] = 0;
        uint32_t pseudo = 6 + (uint32_t)tcp_len;
        for (unsigned i = 12; i < 20; i += 2)
            pseudo += be16(ip + i);
        uint16_t c = csum(tcp, tcp_len, pseudo);
        tcp[16] = (uint8_t)(c >> 8), tcp[17] = (uint8_t)c;
    }
}

static void check_syn(const uint8_t *f, size_t len, const struct tcp_syn *s)
{
    FUZZ_CHECK(len >= 14 + 20 + 20 && be16(f + 12) == 0x0800);
    const uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 15u) * 4;
    FUZZ_CHECK((ip[0] >> 4) == 4 && ihl >= 20 && ip[9] == 6);
    FUZZ_CHECK(!(be16(ip + 6) & 0x3fff) && 14 + (size_t)be16(ip + 2) <= len);
    const uint8_t *tcp = ip + ihl;
    FUZZ_CHECK((tcp[13] & 0x17) == 0x02);
    FUZZ_CHECK(s->src_ip == be32(ip + 12) && s->dst_ip == be32(ip + 16));
    FUZZ_CHECK(s->src_port == be16(tcp) && s->dst_port == be16(tcp + 2));
    FUZZ_CHECK(s->seq == be32(tcp + 4));
}

static void limiter(struct fuzz_input *in)
{
    static struct login_limit l;
    login_limit_init(&l);
    uint64_t now = 0, locked_until = 0;
    uint32_t locked = 0;
    while (fuzz_left(in)) {
        uint8_t op = fuzz_u8(in);
        uint32_t addr = op & 0x80 ? fuzz_u32(in) : 0x0a000000u + (op & 0x3f);
        now += fuzz_u16(in);
        if (op & 0x40 && !login_limit_wait(&l, addr, now)) {
            uint64_t d = login_limit_fail(&l, addr, now);
            FUZZ_CHECK(d >= LOGIN_DELAY_MS && d <= LOGIN_LOCK_MS);
            if (d == LOGIN_LOCK_MS && !locked) {
                locked = addr;
                locked_until = now + d;
            }
        } else if (!(op & 0x40) && addr != locked && !login_limit_wait(&l, addr, now)) {
            login_limit_success(&l, addr);
        }
        FUZZ_CHECK(login_limit_wait(&l, addr, now) <= LOGIN_LOCK_MS);
        /* A lock holds until it runs out, whatever other addresses do. */
        if (locked && now < locked_until)
            FUZZ_CHECK(login_limit_wait(&l, locked, now) == locked_until - now);
    }
    for (unsigned i = 0; i < LOGIN_LIMIT_PEERS; i++)
        for (unsigned j = i + 1; j < LOGIN_LIMIT_PEERS; j++)
            FUZZ_CHECK(!l.peers[i].used || !l.peers[j].used || l.peers[i].addr != l.peers[j].addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    uint8_t flags = fuzz_u8(&in);
    size_t len = fuzz_u16(&in) % 1600;
    if (len > fuzz_left(&in))
        len = fuzz_left(&in);
    /* A private copy of exactly the frame: reads past it hit ASan's redzone. */
    uint8_t *f = malloc(len ? len : 1);
    if (!f)
        return 0;
    memcpy(f, data + in.pos, len);
    in.pos += len;
    fix_checksums(f, len, flags);
    struct tcp_syn s;
    if (tcp_syn_parse(f, (unsigned)len, &s))
        check_syn(f, len, &s);
    free(f);
    limiter(&in);
    return 0;
}
