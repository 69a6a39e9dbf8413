/*
 * checkpointer.h — the daemon's WAL checkpoints, on their own thread.
 *
 * Every daemon connection commits to the write-ahead log only
 * (store_manual_checkpoints, with checkpointer_wal_size as the callback);
 * this thread copies the log back into the database file (a PASSIVE
 * checkpoint: it never blocks a writer) when the log has grown past a
 * threshold, or every interval if anything was written.  So the accounting
 * thread, which commits hundreds of batches a second, never pays for the
 * copy, and a page rewritten by many batches is copied once, not once per
 * batch.  The price: a WAL of up to about the threshold (64 MiB by default)
 * beside the database, read back at start after a crash.
 */
#ifndef M2MGUARD_CHECKPOINTER_H
#define M2MGUARD_CHECKPOINTER_H

#include <stdint.h>

struct store;
struct checkpointer;

struct checkpointer_stats {
    uint64_t runs;              /* checkpoints attempted */
    uint64_t pages_copied;      /* WAL frames copied into the database */
    uint64_t errors;
    int64_t last_wal_pages;     /* WAL size (frames) at the last checkpoint */
    int64_t last_ms;            /* duration of the last checkpoint */
};

/* Takes ownership of `st` (its own connection) and starts the thread:
 * a checkpoint when the WAL reaches threshold_pages, else every
 * interval_ms if anything was committed. */
int checkpointer_start(struct store *st, uint32_t interval_ms, uint32_t threshold_pages,
                       struct checkpointer **ret);
/* The WAL callback of store_manual_checkpoints (ctx: the checkpointer). */
void checkpointer_wal_size(void *ctx, int wal_pages);
void checkpointer_get_stats(struct checkpointer *c, struct checkpointer_stats *r);
/* Stops the thread after a last checkpoint that also truncates the WAL. */
void checkpointer_stop(struct checkpointer *c);

#endif
