/*
 * sync.h — bringing the engine's memory in line with the store.
 *
 * At start the whole inventory is loaded (revision 0 → now); afterwards
 * only rows whose revision is newer than the last applied one.  Both read
 * in one transaction, so the revision recorded matches exactly what was
 * applied: a change committed during the read is picked up next time.
 */
#ifndef M2MG_DAEMON_SYNC_H
#define M2MG_DAEMON_SYNC_H

#include <stdint.h>

struct engine;
struct store;

struct sync_result {
    uint64_t sims;
    uint64_t groups;
    uint64_t errors;
};

/* Apply changes newer than *rev; updates *rev.  0 or -errno (store error). */
int sync_apply(struct store *st, struct engine *e, int64_t *rev, struct sync_result *ret);

#endif
