/* A queue of records in a fixed byte ring: the per-VM buffer of console
 * output (guest/vm_output.c). Each record is a header (a global sequence
 * number, a kind, a length) and its bytes. A record that does not fit is
 * refused and counted, never half stored. Pure logic: the caller locks. */
#ifndef VM_OUTQ_H
#define VM_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUTQ_HEADER  12   /* sequence (8), length (2), kind (1), spare (1) */
#define OUTQ_REC_MAX 1024 /* longest payload of one record */

struct outq {
    char *buf;
    unsigned size;
    uint64_t head, tail; /* bytes ever written, bytes ever consumed */
    uint64_t last;       /* offset of the newest record's header */
    bool have_last;      /* `last` is still in the ring (not consumed) */
    uint64_t refused;    /* records that did not fit */
};

struct outq_rec {
    uint64_t seq;
    unsigned len;
    unsigned kind;
};

void outq_init(struct outq *q, char *buf, unsigned size);
/* Appends a record; false (and `refused` counted) when it does not fit. */
bool outq_put(struct outq *q, uint64_t seq, unsigned kind, const char *data, unsigned len);
/* Appends bytes to the newest record when it is of this kind, still queued
 * and stays under OUTQ_REC_MAX; else a new record as outq_put. Keeps runs of
 * single bytes (an attached console) from costing a header each. */
bool outq_append(struct outq *q, uint64_t seq, unsigned kind, const char *data, unsigned len);
/* The oldest record's header; false when the queue is empty. */
bool outq_peek(const struct outq *q, struct outq_rec *rec);
/* Removes the oldest record, copying up to `max` of its bytes to out.
 * Returns its length (0 when empty; check outq_peek first for empty
 * records). */
unsigned outq_get(struct outq *q, struct outq_rec *rec, char *out, unsigned max);
unsigned outq_used(const struct outq *q);
bool outq_empty(const struct outq *q);

#endif
