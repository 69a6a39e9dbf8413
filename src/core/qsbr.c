/*
 * qsbr.c — see qsbr.h.  Each worker has a counter: odd while it is inside a
 * batch (online), even while quiescent.  A retired object records a
 * snapshot of all counters; it is safe to free once every worker that was
 * online at retirement has moved on (its counter changed) — a worker that
 * was offline cannot hold a pointer loaded before the swap.
 *
 * The retire list is touched only by the main thread, so it needs no lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/qsbr.h"

struct retired {
    struct retired *next;
    void *p;
    void (*fn)(void *);
    uint64_t snap[QSBR_MAX_THREADS];
};

struct qsbr {
    _Alignas(64) _Atomic uint64_t ctr[QSBR_MAX_THREADS];
    _Atomic int nthreads;
    struct retired *list;
};

struct qsbr *qsbr_new(void)
{
    struct qsbr *q = calloc(1, sizeof *q);
    return q;
}

void qsbr_free(struct qsbr *q)
{
    if (!q)
        return;
    while (q->list) {
        struct retired *r = q->list;
        q->list = r->next;
        r->fn(r->p);
        free(r);
    }
    free(q);
}

int qsbr_register(struct qsbr *q)
{
    int slot = atomic_fetch_add(&q->nthreads, 1);
    if (slot >= QSBR_MAX_THREADS)
        return -ENOSPC;
    return slot;
}

void qsbr_online(struct qsbr *q, int slot)
{
    /* even → odd; seq_cst so the pointer loads that follow cannot move above. */
    atomic_fetch_add(&q->ctr[slot], 1);
}

void qsbr_offline(struct qsbr *q, int slot)
{
    atomic_fetch_add(&q->ctr[slot], 1);
}

void qsbr_retire(struct qsbr *q, void *p, void (*fn)(void *))
{
    if (!p)
        return;
    struct retired *r = malloc(sizeof *r);
    if (!r) {
        /* Out of memory: leaking one object is safer than freeing it early. */
        return;
    }
    r->p = p;
    r->fn = fn;
    int n = atomic_load(&q->nthreads);
    for (int i = 0; i < n && i < QSBR_MAX_THREADS; i++)
        r->snap[i] = atomic_load(&q->ctr[i]);
    r->next = q->list;
    q->list = r;
}

static int safe(struct qsbr *q, const struct retired *r)
{
    int n = atomic_load(&q->nthreads);
    for (int i = 0; i < n && i < QSBR_MAX_THREADS; i++) {
        uint64_t s = r->snap[i];
        if ((s & 1) && atomic_load(&q->ctr[i]) == s)
            return 0;
    }
    return 1;
}

int qsbr_poll(struct qsbr *q)
{
    int left = 0;
    struct retired **pp = &q->list;
    while (*pp) {
        struct retired *r = *pp;
        if (safe(q, r)) {
            *pp = r->next;
            r->fn(r->p);
            free(r);
        } else {
            pp = &r->next;
            left++;
        }
    }
    return left;
}
