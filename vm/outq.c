#include "vm/outq.h"

void outq_init(struct outq *q, char *buf, unsigned size)
{
    q->buf = buf;
    q->size = size;
    q->head = q->tail = q->last = 0;
    q->have_last = false;
    q->refused = 0;
}

static void put_bytes(struct outq *q, uint64_t at, const void *data, unsigned len)
{
    const char *p = data;
    for (unsigned i = 0; i < len; i++)
        q->buf[(at + i) % q->size] = p[i];
}

static void get_bytes(const struct outq *q, uint64_t at, void *data, unsigned len)
{
    char *p = data;
    for (unsigned i = 0; i < len; i++)
        p[i] = q->buf[(at + i) % q->size];
}

static void read_header(const struct outq *q, uint64_t at, struct outq_rec *rec)
{
    uint8_t h[OUTQ_HEADER];
    get_bytes(q, at, h, OUTQ_HEADER);
    uint64_t seq = 0;
    for (int i = 7; i >= 0; i--)
        seq = seq << 8 | h[i];
    rec->seq = seq;
    rec->len = (unsigned)h[8] | (unsigned)h[9] << 8;
    rec->kind = h[10];
}

static void write_header(struct outq *q, uint64_t at, uint64_t seq, unsigned kind, unsigned len)
{
    uint8_t h[OUTQ_HEADER];
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(seq >> (8 * i));
    h[8] = (uint8_t)len;
    h[9] = (uint8_t)(len >> 8);
    h[10] = (uint8_t)kind;
    h[11] = 0;
    put_bytes(q, at, h, OUTQ_HEADER);
}

unsigned outq_used(const struct outq *q)
{
    return (unsigned)(q->head - q->tail);
}

bool outq_empty(const struct outq *q)
{
    return q->head == q->tail;
}

bool outq_put(struct outq *q, uint64_t seq, unsigned kind, const char *data, unsigned len)
{
    if (len > OUTQ_REC_MAX || !q->size || q->size - outq_used(q) < OUTQ_HEADER + len) {
        q->refused++;
        return false;
    }
    write_header(q, q->head, seq, kind, len);
    put_bytes(q, q->head + OUTQ_HEADER, data, len);
    q->last = q->head;
    q->have_last = true;
    q->head += OUTQ_HEADER + len;
    return true;
}

bool outq_append(struct outq *q, uint64_t seq, unsigned kind, const char *data, unsigned len)
{
    if (q->have_last && q->last >= q->tail) {
        struct outq_rec r;
        read_header(q, q->last, &r);
        if (r.kind == kind && r.len + len <= OUTQ_REC_MAX && q->size - outq_used(q) >= len) {
            put_bytes(q, q->head, data, len);
            q->head += len;
            write_header(q, q->last, r.seq, kind, r.len + len);
            return true;
        }
    }
    return outq_put(q, seq, kind, data, len);
}

bool outq_peek(const struct outq *q, struct outq_rec *rec)
{
    if (outq_empty(q))
        return false;
    read_header(q, q->tail, rec);
    return true;
}

unsigned outq_get(struct outq *q, struct outq_rec *rec, char *out, unsigned max)
{
    if (!outq_peek(q, rec))
        return 0;
    get_bytes(q, q->tail + OUTQ_HEADER, out, rec->len < max ? rec->len : max);
    if (q->last == q->tail)
        q->have_last = false;
    q->tail += OUTQ_HEADER + rec->len;
    return rec->len;
}
