/* A small TCP server on top of lwIP's raw API for the console (and later
 * services): connections are opaque, data is copied in and out, and
 * closing is deferred to the next net_poll so that a callback may close
 * its own connection. Received data waits in lwIP's buffers until the
 * session reads it, and the TCP window opens only as it does: a peer that
 * sends faster than the console reads is slowed down, never served out of
 * an unbounded queue. Console CPU only. */
#ifndef NET_TCP_SERVER_H
#define NET_TCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_conn;

struct net_server_ops {
    /* A new connection from peer (IPv4, host order). Returns the session
     * pointer given to the other callbacks, or NULL to refuse (the
     * connection is reset). It may write and net_conn_close at once. */
    void *(*accept)(struct net_conn *c, uint32_t peer);
    /* The connection is gone (the peer closed or reset it, or an error):
     * the session must forget c. Not called after net_conn_close. */
    void (*closed)(void *session);
};

/* Listens on port on every address. 0, or -1 with the reason in why. */
int net_listen(uint16_t port, const struct net_server_ops *ops, char *why, size_t whylen);
/* Up to n received bytes into buf; how many. */
size_t net_conn_read(struct net_conn *c, void *buf, size_t n);
/* The peer closed its side and every byte it sent has been read. */
bool net_conn_eof(const struct net_conn *c);
/* Room for output now (bytes). */
size_t net_conn_space(const struct net_conn *c);
/* Queues up to n bytes (copied); returns how many were taken. */
size_t net_conn_write(struct net_conn *c, const void *data, size_t n);
/* Sends what is queued, then closes; no callback comes for c after this. */
void net_conn_close(struct net_conn *c);
uint32_t net_conn_peer(const struct net_conn *c);
/* Connections open now, and accepted since boot. */
unsigned net_conn_count(void);
unsigned long long net_conn_accepted(void);
/* Each received frame, before lwIP: a new connection request for a port
 * pair still in TIME_WAIT ends that TIME_WAIT (RFC 6191). */
void net_tcp_timewait_check(const void *frame, unsigned len);
unsigned long long net_tcp_timewait_reused(void);

/* net.c: deferred closes and pending output (called from net_poll). */
void net_tcp_server_poll(void);

#endif
