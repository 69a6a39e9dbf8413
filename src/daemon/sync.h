/*
 * sync.h — bringing the engine's memory in line with the store.
 *
 * At start the whole inventory is loaded (revision 0 → now); afterwards
 * only rows whose revision is newer than the last applied one, and the
 * SIMs deleted since (their admin_log records, since a deleted row has no
 * revision left to find it by).  All read in one transaction, so the
 * position recorded matches exactly what was applied: a change committed
 * during the read is picked up next time.
 */
#ifndef M2MG_DAEMON_SYNC_H
#define M2MG_DAEMON_SYNC_H

#include <stdint.h>

struct engine;
struct store;

/* How far the engine is in line with the store.  Zero it before the first
 * sync_apply (the full load). */
struct sync_pos {
    int64_t rev;                /* revisions applied */
    int64_t admin_log_id;       /* admin_log records looked at for deletions */
    int loaded;                 /* the full load has been done */
};

struct sync_result {
    uint64_t sims;
    uint64_t groups;
    uint64_t deleted;
    uint64_t errors;
};

/* Apply changes newer than *pos; updates *pos.  0 or -errno (store error). */
int sync_apply(struct store *st, struct engine *e, struct sync_pos *pos,
               struct sync_result *ret);

#endif
