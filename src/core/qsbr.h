/*
 * qsbr.h — quiescent-state-based reclamation for the worker threads.
 *
 * The RADIUS workers read shared, rarely-changed objects (the NAS client
 * table, compiled group policies) without taking any lock.  When the main
 * thread replaces one, the old copy may still be in use by a worker in the
 * middle of a packet; it is "retired" and freed only after every worker has
 * passed a quiescent state (finished its batch, or is blocked waiting for
 * packets).  Workers pay two relaxed-cost atomic stores per batch, nothing
 * per packet.
 */
#ifndef M2MG_CORE_QSBR_H
#define M2MG_CORE_QSBR_H

#include <stdint.h>

#define QSBR_MAX_THREADS 64

struct qsbr;

struct qsbr *qsbr_new(void);
/* Frees everything still retired (call after the workers stopped). */
void qsbr_free(struct qsbr *q);

/* A worker registers once and gets its slot (or -ENOSPC). */
int qsbr_register(struct qsbr *q);
/* Around each batch of work that dereferences shared pointers. */
void qsbr_online(struct qsbr *q, int slot);
void qsbr_offline(struct qsbr *q, int slot);

/* Main thread: free `p` with `fn` once no worker can still hold it. */
void qsbr_retire(struct qsbr *q, void *p, void (*fn)(void *));
/* Main thread: free what is safe now; returns how many remain retired. */
int qsbr_poll(struct qsbr *q);

#endif
