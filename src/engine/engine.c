/*
 * engine.c — engine state: groups and their policies.
 *
 * Group slots are written only by the main thread (revision sync) and read
 * by the workers with one atomic load; a replaced group is freed only when
 * QSBR says no worker can still be reading it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/qsbr.h"
#include "engine/engine.h"

int engine_init(struct engine *e)
{
    memset(e, 0, sizeof *e);
    e->default_policy = policy_default();
    return e->default_policy ? 0 : -ENOMEM;
}

static void group_free(void *p)
{
    struct group_rt *g = p;
    if (!g)
        return;
    policy_free(g->policy);
    free(g);
}

void engine_fini(struct engine *e)
{
    for (int i = 0; i < ENGINE_MAX_GROUPS; i++)
        group_free(atomic_load(&e->groups[i]));
    policy_free(e->default_policy);
}

int engine_group_set(struct engine *e, int64_t id, int64_t tenant_id, const char *name,
                     struct policy *policy)
{
    if (id <= 0 || id >= ENGINE_MAX_GROUPS) {
        policy_free(policy);
        return -ERANGE;
    }
    struct group_rt *g = calloc(1, sizeof *g);
    if (!g) {
        policy_free(policy);
        return -ENOMEM;
    }
    g->id = id;
    g->tenant_id = tenant_id;
    snprintf(g->name, sizeof g->name, "%s", name);
    g->policy = policy;
    struct group_rt *old = atomic_exchange(&e->groups[id], g);
    if (old)
        qsbr_retire(e->qsbr, old, group_free);
    return 0;
}

const struct policy *engine_policy_of(struct engine *e, uint32_t group_id)
{
    struct group_rt *g = group_id < ENGINE_MAX_GROUPS ? atomic_load(&e->groups[group_id]) : NULL;
    return g && g->policy ? g->policy : e->default_policy;
}
