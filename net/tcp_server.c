#include "net/tcp_server.h"

#include <stdbool.h>

#include "lib/format.h"
#include "lib/log.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "net/tcp_syn.h"

#define MAX_CONNS     MEMP_NUM_TCP_PCB
#define KEEPALIVE_MS  60000 /* half-open peers are found and dropped */
#define KEEPALIVE_CNT 4

struct net_conn {
    struct tcp_pcb *pcb;
    const struct net_server_ops *ops;
    void *session;
    uint32_t peer;
    struct pbuf *pending; /* received, not yet read */
    bool used, closing, fin;
};

static struct net_conn conns[MAX_CONNS];
static unsigned nr_open;
static unsigned long long nr_accepted, nr_timewait_reused;

static struct net_conn *conn_alloc(void)
{
    for (unsigned i = 0; i < MAX_CONNS; i++) {
        if (!conns[i].used) {
            conns[i] = (struct net_conn){.used = true};
            nr_open++;
            return &conns[i];
        }
    }
    return NULL;
}

static void conn_free(struct net_conn *c)
{
    if (c->pending)
        pbuf_free(c->pending);
    c->pending = NULL;
    c->used = false;
    c->pcb = NULL;
    nr_open--;
}

static void detach_pcb(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_sent(pcb, NULL);
}

/* The peer's side is gone, or lwIP dropped the pcb (err: already freed). */
static void conn_lost(struct net_conn *c)
{
    if (!c->closing && c->ops->closed)
        c->ops->closed(c->session);
    conn_free(c);
}

static void on_err(void *arg, err_t err)
{
    struct net_conn *c = arg;
    if (c) /* lwIP freed the pcb already */
        conn_lost(c);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct net_conn *c = arg;
    if (!c) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p) { /* the peer closed its side: what it sent is still read */
        c->fin = true;
        return ERR_OK;
    }
    if (c->closing) {
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    } else if (c->pending) {
        pbuf_cat(c->pending, p); /* at most a TCP window: tcp_recved opens it */
    } else {
        c->pending = p;
    }
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    const struct net_server_ops *ops = arg; /* each listener has its own */
    if (err != ERR_OK || !pcb || !ops)
        return ERR_VAL;
    struct net_conn *c = conn_alloc();
    if (!c) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    nr_accepted++;
    c->pcb = pcb;
    c->ops = ops;
    c->peer = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)));
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
    tcp_nagle_disable(pcb);
    ip_set_option(pcb, SOF_KEEPALIVE);
    pcb->keep_idle = KEEPALIVE_MS;
    pcb->keep_intvl = KEEPALIVE_MS / KEEPALIVE_CNT;
    pcb->keep_cnt = KEEPALIVE_CNT;
    c->session = c->ops->accept(c, c->peer);
    if (!c->session && !c->closing) {
        detach_pcb(pcb);
        tcp_abort(pcb);
        conn_free(c);
        return ERR_ABRT;
    }
    return ERR_OK;
}

int net_listen(uint16_t port, const struct net_server_ops *ops, char *why, size_t whylen)
{
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb) {
        fmt_snprintf(why, whylen, "no memory for a listening socket");
        return -1;
    }
    err_t e = tcp_bind(pcb, IP4_ADDR_ANY, port);
    if (e != ERR_OK) {
        tcp_close(pcb);
        fmt_snprintf(why, whylen, "cannot bind TCP port %u (%d)", port, (int)e);
        return -1;
    }
    struct tcp_pcb *l = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
    if (!l) {
        tcp_close(pcb);
        fmt_snprintf(why, whylen, "cannot listen on TCP port %u", port);
        return -1;
    }
    tcp_arg(l, (void *)ops);
    tcp_accept(l, on_accept);
    return 0;
}

size_t net_conn_read(struct net_conn *c, void *buf, size_t n)
{
    if (!c->pending || !c->pcb)
        return 0;
    if (n > c->pending->tot_len)
        n = c->pending->tot_len;
    u16_t got = pbuf_copy_partial(c->pending, buf, (u16_t)n, 0);
    c->pending = pbuf_free_header(c->pending, got);
    tcp_recved(c->pcb, got);
    return got;
}

bool net_conn_eof(const struct net_conn *c)
{
    return c->fin && !c->pending;
}

size_t net_conn_space(const struct net_conn *c)
{
    if (!c->pcb || c->closing)
        return 0;
    size_t n = tcp_sndbuf(c->pcb);
    return tcp_sndqueuelen(c->pcb) + 2 >= TCP_SND_QUEUELEN ? 0 : n;
}

size_t net_conn_write(struct net_conn *c, const void *data, size_t n)
{
    size_t room = net_conn_space(c);
    if (n > room)
        n = room;
    if (n > 0xffff)
        n = 0xffff;
    if (!n || tcp_write(c->pcb, data, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
        return 0;
    tcp_output(c->pcb);
    return n;
}

void net_conn_close(struct net_conn *c)
{
    c->closing = true;
}

uint32_t net_conn_peer(const struct net_conn *c)
{
    return c->peer;
}

unsigned net_conn_count(void)
{
    return nr_open;
}

unsigned long long net_conn_accepted(void)
{
    return nr_accepted;
}

void net_tcp_server_poll(void)
{
    for (unsigned i = 0; i < MAX_CONNS; i++) {
        struct net_conn *c = &conns[i];
        if (!c->used || !c->closing || !c->pcb)
            continue;
        struct tcp_pcb *pcb = c->pcb;
        detach_pcb(pcb);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb);
        conn_free(c);
    }
}

/* A client that connects again from the port of a connection we closed
 * first meets our TIME_WAIT control block for that port pair (2 MSL, two
 * minutes in lwIP). lwIP answers its SYN with a bare ACK and the client
 * hangs until TIME_WAIT ends: emulators' user networking keeps the host
 * client's port, and a NAT or a client with a fixed port do the same. As
 * Linux and the BSDs do (RFC 6191, without timestamps), a SYN whose
 * sequence number lies beyond what the old connection received ends the
 * TIME_WAIT at once, and the SYN goes on to the listener. Called with each
 * received frame before lwIP sees it. */
void net_tcp_timewait_check(const void *frame, unsigned len)
{
    struct tcp_syn syn;
    if (!tcp_tw_pcbs || !tcp_syn_parse(frame, len, &syn))
        return;
    for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
        if (pcb->local_port != syn.dst_port || pcb->remote_port != syn.src_port ||
            lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip))) != syn.src_ip ||
            lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip))) != syn.dst_ip)
            continue;
        if (TCP_SEQ_GT(syn.seq, pcb->rcv_nxt)) {
            tcp_abort(pcb); /* a TIME_WAIT pcb is freed without an RST */
            nr_timewait_reused++;
        }
        return;
    }
}

unsigned long long net_tcp_timewait_reused(void)
{
    return nr_timewait_reused;
}
