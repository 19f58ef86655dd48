/* The network's connection-request recogniser (net/tcp_syn.c): a good SYN
 * is read whole; a bad checksum, a truncated or fragmented datagram, other
 * flags or protocols are not SYNs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/tcp_syn.h"

static uint8_t frame[128];
static unsigned frame_len;

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void fix_checksums(void)
{
    uint8_t *ip = frame + 14, *tcp = ip + 20;
    unsigned tcp_len = (unsigned)(ip[2] << 8 | ip[3]) - 20;
    if (tcp_len > sizeof(frame) - 14 - 20) /* a length beyond the frame: checked first */
        tcp_len = sizeof(frame) - 14 - 20;
    put16(ip + 10, 0);
    put16(ip + 10, csum(ip, 20, 0));
    put16(tcp + 16, 0);
    uint32_t pseudo = 6 + tcp_len;
    for (int i = 12; i < 20; i += 2)
        pseudo += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    put16(tcp + 16, csum(tcp, tcp_len, pseudo));
}

/* 10.0.2.2:40123 -> 10.0.2.15:2323, seq 0x12345678, an MSS option. */
static void build_syn(uint8_t flags)
{
    memset(frame, 0, sizeof(frame));
    put16(frame + 12, 0x0800);
    uint8_t *ip = frame + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, 20 + 24);
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, (uint8_t[]){10, 0, 2, 2, 10, 0, 2, 15}, 8);
    put16(tcp, 40123);
    put16(tcp + 2, 2323);
    memcpy(tcp + 4, (uint8_t[]){0x12, 0x34, 0x56, 0x78}, 4);
    tcp[12] = 6 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 64240);
    memcpy(tcp + 20, (uint8_t[]){2, 4, 0x05, 0xb4}, 4);
    frame_len = 14 + 20 + 24;
    fix_checksums();
}

static void test_good_syn_read(void **state)
{
    (void)state;
    struct tcp_syn s;
    build_syn(0x02);
    assert_true(tcp_syn_parse(frame, frame_len, &s));
    assert_int_equal(s.src_ip, 0x0A000202);
    assert_int_equal(s.dst_ip, 0x0A00020F);
    assert_int_equal(s.src_port, 40123);
    assert_int_equal(s.dst_port, 2323);
    assert_int_equal(s.seq, 0x12345678);
    /* Ethernet padding after the datagram is allowed. */
    assert_true(tcp_syn_parse(frame, frame_len + 6, &s));
}

static void test_other_flags_are_not_syn(void **state)
{
    (void)state;
    struct tcp_syn s;
    static const uint8_t flags[] = {
        0x12 /* SYN+ACK */, 0x06 /* SYN+RST */, 0x03 /* SYN+FIN */, 0x10, 0x18, 0x01, 0x04, 0x00};
    for (unsigned i = 0; i < sizeof(flags); i++) {
        build_syn(flags[i]);
        assert_false(tcp_syn_parse(frame, frame_len, &s));
    }
    build_syn(0x02 | 0x08 | 0x20); /* PSH, URG with SYN: still a SYN */
    assert_true(tcp_syn_parse(frame, frame_len, &s));
}

static void test_bad_checksums_refused(void **state)
{
    (void)state;
    struct tcp_syn s;
    build_syn(0x02);
    frame[14 + 20 + 16] ^= 1; /* TCP checksum */
    assert_false(tcp_syn_parse(frame, frame_len, &s));
    build_syn(0x02);
    frame[14 + 10] ^= 1; /* IP header checksum */
    assert_false(tcp_syn_parse(frame, frame_len, &s));
    build_syn(0x02);
    frame[14 + 20 + 5] ^= 0x40; /* a forged sequence number */
    assert_false(tcp_syn_parse(frame, frame_len, &s));
}

static void test_malformed_refused(void **state)
{
    (void)state;
    struct tcp_syn s;
    build_syn(0x02);
    for (unsigned n = 0; n < frame_len; n++) /* every truncation */
        assert_false(tcp_syn_parse(frame, n, &s));
    assert_false(tcp_syn_parse(NULL, frame_len, &s));

    build_syn(0x02);
    put16(frame + 12, 0x86DD); /* IPv6 */
    assert_false(tcp_syn_parse(frame, frame_len, &s));

    build_syn(0x02);
    frame[14 + 9] = 17; /* UDP */
    fix_checksums();
    assert_false(tcp_syn_parse(frame, frame_len, &s));

    build_syn(0x02);
    put16(frame + 14 + 6, 0x2000); /* more fragments */
    fix_checksums();
    assert_false(tcp_syn_parse(frame, frame_len, &s));

    build_syn(0x02);
    put16(frame + 14 + 2, 200); /* total length beyond the frame */
    fix_checksums();
    assert_false(tcp_syn_parse(frame, frame_len, &s));

    build_syn(0x02);
    frame[14] = 0x44; /* IHL 4 */
    assert_false(tcp_syn_parse(frame, frame_len, &s));

    build_syn(0x02);
    frame[14 + 20 + 12] = 15 << 4; /* data offset 60 > 24 bytes of segment */
    fix_checksums();
    assert_false(tcp_syn_parse(frame, frame_len, &s));

    build_syn(0x02);
    frame[14 + 20 + 12] = 4 << 4; /* data offset 16 < 20 */
    fix_checksums();
    assert_false(tcp_syn_parse(frame, frame_len, &s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_syn_read),
        cmocka_unit_test(test_other_flags_are_not_syn),
        cmocka_unit_test(test_bad_checksums_refused),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
